"""ops/observe.py against a fake EXAoperation: a log feed reads to its end, however many
pages, and a node's message only says whom to ask; getNodeState decides."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from exaop.client.exaoperation import ExaOperationBackend
from exaop.ops import observe
from exaop.ops.observe import SWEEP_WHEN_SILENT, LogFeed, News, NodeWatcher

NODES = ["n0011", "n0012", "n0013"]


class FakeCluster:
    """A log service with pages of ``page`` entries and tags, and nodes with a state."""

    def __init__(self, page: int = 3) -> None:
        self.page = page
        self.log: list[dict[str, Any]] = []
        self.tags: dict[str, int] = {}
        self.states = dict.fromkeys(NODES, "Powered off")
        self.calls: Counter[str] = Counter()
        self.asked: list[str] = []
        self.flood = 0  # entries the cluster logs during each tagged read (logging faster than we read)

    def say(self, node: str, message: str, system: str = "EXAoperation") -> None:
        self.log.append({"node": node, "system": system, "message": message, "priority": "Notice"})

    def read(self, path: str, method: str, *args: Any) -> Any:
        self.calls[method] += 1
        if method == "getAllLogServices":
            return [{"name": "logservice1"}]
        if method == "logEntriesTagged":
            for i in range(self.flood):
                self.say("", f"filler {i}", system="Authentication")
            at = self.tags.get(args[0], 0)
            page = self.log[at : at + self.page]
            self.tags[args[0]] = at + len(page)
            return ["", "", page]
        if method == "getNodeState":
            self.asked.append(args[0])
            return {"status": self.states[args[0]]}
        raise AssertionError(f"unexpected call {method}")


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t


class FakeClient:
    """EXAoperation's calls, answered by the fake cluster."""

    def __init__(self, cluster: FakeCluster) -> None:
        self.cluster = cluster

    def has(self, method: str) -> bool:
        return True

    def call(self, path: str, method: str, *args: Any, timeout: float | None = None) -> Any:
        return self.cluster.read(path, method, *args)


class FakeRun:
    """What LogFeed, News and NodeWatcher need of a Run."""

    def __init__(self, cluster: FakeCluster) -> None:
        self.cluster = cluster
        self.clock = FakeClock()
        self.backend = ExaOperationBackend(FakeClient(cluster))  # type: ignore[arg-type]
        self.log_feed: LogFeed | None = None

    def read(self, look: Any, *args: Any) -> Any:
        return look(*args)

    def parallel(self, items: Any, fn: Any) -> list[tuple[Any, Any, BaseException | None]]:
        return [(i, fn(i), None) for i in items]

    def parallel_reads(self, items: Any, fn: Any) -> dict[Any, Any]:
        return {i: fn(i) for i in items}


def old_history(c: FakeCluster, cycles: int = 5) -> None:
    for _ in range(cycles):
        for n in NODES:
            c.say(n, "Boot process finished after 240 seconds")
        for n in NODES:
            c.say(n, f"Node {n} is powered off")


# -- the feed reads to its end ---------------------------------------------------------------------------


@given(
    page=st.integers(1, 7),
    before=st.integers(0, 40),
    batches=st.lists(st.integers(0, 25), max_size=6),
)
def test_a_feed_skips_all_that_came_before_and_then_gives_each_message_once(
    page: int, before: int, batches: list[int]
) -> None:
    c = FakeCluster(page)
    for i in range(before):
        c.say("", f"old {i}")
    feed = LogFeed.open(FakeRun(c))  # type: ignore[arg-type]
    assert feed is not None and feed.alive
    assert c.tags[feed.tag] == before  # drained to the end, however many pages
    seen: list[str] = []
    for b, count in enumerate(batches):
        for i in range(count):
            c.say("", f"new {b}.{i}")
        seen += [e["message"] for e in feed.poll()]
    assert seen == [e["message"] for e in c.log[before:]]  # each new message once, in order, none old
    assert feed.alive


def test_a_look_reads_on_while_pages_come_back_full() -> None:
    c = FakeCluster(page=5)
    for i in range(12):
        c.say("", f"old {i}")
    feed = LogFeed(FakeRun(c), "logservice1")  # type: ignore[arg-type]
    assert c.calls["logEntriesTagged"] == 3  # 5, 5, 2: the short page ends the look
    for i in range(10):
        c.say("", f"new {i}")
    assert len(feed.poll()) == 10
    assert c.calls["logEntriesTagged"] == 6  # 5, 5, then an empty page says it was all
    c.say("", "one more")
    assert [e["message"] for e in feed.poll()] == ["one more"]
    assert c.calls["logEntriesTagged"] == 7  # a short page: one call


def test_a_cluster_logging_faster_than_we_read_makes_the_watcher_ask_every_node() -> None:
    c = FakeCluster(page=4)
    run = FakeRun(c)
    feed = LogFeed(run, "logservice1")  # type: ignore[arg-type]
    c.flood = 4  # from now on every page comes back full
    watcher = NodeWatcher(run, NODES, online=True, feed=feed, known=dict(c.states))  # type: ignore[arg-type]
    c.states["n0011"] = "Running"
    obs = watcher.observe()
    assert not feed.alive
    assert c.calls["logEntriesTagged"] == 1 + observe.DRAIN_PAGES  # bounded: the look gave up
    assert sorted(c.asked) == NODES  # ... and asked the getters instead
    assert obs.count == (1, 3)


# -- a message says whom to ask; the getter decides ------------------------------------------------------


def test_old_boot_messages_are_never_taken_for_a_boot() -> None:
    c = FakeCluster(page=5)
    old_history(c)
    run = FakeRun(c)
    feed = LogFeed.open(run)  # type: ignore[arg-type]
    watcher = NodeWatcher(run, NODES, online=True, feed=feed, known=dict(c.states))  # type: ignore[arg-type]
    for n in NODES:
        c.states[n] = "Booting"
    assert not watcher.observe().done
    assert c.asked == []  # nothing new in the log: nobody asked
    # a forgotten tag, or any other way an old message comes again: one call, no wrong answer
    c.say("n0012", "Boot process finished after 240 seconds")
    obs = watcher.observe()
    assert c.asked == ["n0012"] and not obs.done
    assert "n0012 Booting for 0s" in obs.text(run.clock.t)
    c.states["n0012"] = "Running"
    c.say("n0012", "Boot process finished after 241 seconds")
    obs = watcher.observe()
    assert c.asked == ["n0012", "n0012"]
    assert obs.count == (1, 3)


def test_each_node_that_reports_is_asked_once_and_silence_brings_a_sweep() -> None:
    c = FakeCluster(page=50)
    run = FakeRun(c)
    for n in NODES:
        c.states[n] = "Running"
    feed = LogFeed.open(run)  # type: ignore[arg-type]
    watcher = NodeWatcher(run, NODES, online=False, feed=feed, known=dict(c.states))  # type: ignore[arg-type]
    for n in NODES[:2]:
        c.states[n] = "Powered off"
        c.say(n, f"Node {n} is powered off")
    c.say("n0011", "Node n0011 is powered off")  # twice in one look: still one call
    obs = watcher.observe()
    assert sorted(c.asked) == NODES[:2]
    assert obs.count == (2, 3)
    c.states["n0013"] = "Powered off"  # its message got lost
    run.clock.t += SWEEP_WHEN_SILENT - 1
    assert not watcher.observe().done
    run.clock.t += 1
    assert watcher.observe().done  # the sweep asked it
    assert c.asked[2:] == ["n0013"]


def test_news_names_the_databases_that_logged_and_a_run_shares_one_feed() -> None:
    c = FakeCluster(page=2)
    run = FakeRun(c)
    c.say("", "Database db1 is running", system="db1")
    feed = LogFeed.open(run)  # type: ignore[arg-type]
    news = News(run, feed, about=lambda e: e.get("system"))  # type: ignore[arg-type]
    assert news.due(["db1", "db2"]) == []  # the old message was drained
    c.say("", "Database db2 is shutting down", system="db2")
    assert news.due(["db1", "db2"]) == ["db2"]
    c.say("", "Database db1 is starting", system="db1")
    assert LogFeed.open(run) is feed  # the next phase: the same tag, drained to now
    assert c.calls["getAllLogServices"] == 1
    assert news.due(["db1", "db2"]) == []


# -- what a message shows was asked after the action --------------------------------------------------


def test_after_the_action_the_watcher_shows_only_states_asked_since_and_since_when() -> None:
    c = FakeCluster(page=50)
    run = FakeRun(c)
    feed = LogFeed.open(run)  # type: ignore[arg-type]
    before = dict(c.states)  # all Powered off: the look before startupNode
    run.clock.t = 10.0
    for n in NODES:
        c.states[n] = "Booting"  # startupNode went out at t=10
    watcher = NodeWatcher(run, NODES, online=True, feed=feed, known=before, acted_at=10.0)  # type: ignore[arg-type]
    run.clock.t = 12.0
    obs = watcher.observe()
    assert sorted(c.asked) == NODES  # nothing in the log yet, but what it shows it asked
    assert [(s.name, s.state) for s in obs.pending] == [(n, "Booting") for n in NODES]
    run.clock.t = 10.0 + 200
    watcher.observe()
    assert len(c.asked) == 3  # asked once: the log says nothing new
    run.clock.t = 10.0 + 1203
    text = watcher.observe().text(run.clock.t)
    assert "Powered off" not in text
    assert text == "nodes online 0/3; waiting for n0011 Booting for 20m03s, n0012 Booting for 20m03s, " \
                   "n0013 Booting for 20m03s"  # fmt: skip
    assert len(c.asked) == 6  # the sweep after SWEEP_WHEN_SILENT without news
    c.states["n0012"] = "Running"
    last = watcher.last_look()  # at a deadline: what it shows is asked once more
    assert sorted(c.asked[6:]) == NODES
    assert [s.name for s in last.pending] == ["n0011", "n0013"] and last.count == (1, 3)


def test_on_a_large_cluster_a_message_costs_a_bounded_number_of_calls() -> None:
    nodes = [f"n{i:04d}" for i in range(11, 111)]
    c = FakeCluster(page=500)
    c.states = dict.fromkeys(nodes, "Powered off")
    run = FakeRun(c)
    feed = LogFeed.open(run)  # type: ignore[arg-type]
    before = dict(c.states)
    for n in nodes:
        c.states[n] = "Booting"
    watcher = NodeWatcher(run, nodes, online=True, feed=feed, known=before, acted_at=0.0)  # type: ignore[arg-type]
    obs = watcher.observe()
    assert len(c.asked) == observe.SHOW and len(obs.pending) == observe.SHOW and obs.more == 92
    for n in nodes[50:]:  # half the cluster finishes, none of those shown
        c.states[n] = "Running"
        c.say(n, "Boot process finished after 240 seconds")
    obs = watcher.observe()
    assert len(c.asked) == observe.SHOW + 50  # one call per boot message, nothing for the message
    assert [s.name for s in obs.pending] == nodes[: observe.SHOW] and obs.count == (50, 100)
    for n in nodes[:50]:
        c.states[n] = "Running"
        c.say(n, "Boot process finished after 240 seconds")
    assert watcher.observe().done
    assert len(c.asked) == observe.SHOW + 100
