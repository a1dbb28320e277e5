"""Reading the cluster's state, as cheaply as a large cluster needs."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Collection, Iterable
from typing import Any

from exaop.client import ServerFault
from exaop.client.backend import RUNNING, DbState, StorageView, is_offline
from exaop.ops.errors import ConfigError
from exaop.ops.run import LongCall, Run
from exaop.ops.wait import SHOW, Observation, Seen, wait_until

BOOT_DONE = re.compile(r"Boot process finished after \d+ seconds")
POWERED_OFF = re.compile(r"powered off", re.IGNORECASE)
SWEEP_WHEN_SILENT = 300.0  # clock seconds without news before everything still awaited is asked again
DRAIN_PAGES = 50  # pages of a log feed read in one look at most (250,000 entries at 5,000 a page)


def node_status(run: Run, node: str) -> str:
    """'Running', 'Booting', ... (see :mod:`exaop.client.backend`)."""
    return run.read(run.backend.node_status, node)


def node_statuses(run: Run, nodes: list[str]) -> dict[str, str]:
    """Every node's status: one call where the backend has one for all, else one per node at once."""
    if run.backend.bulk_node_state:
        return run.read(run.backend.node_statuses, nodes) if nodes else {}
    return run.parallel_reads(nodes, lambda n: node_status(run, n))


def database_nodes(run: Run) -> list[str]:
    """The database nodes to act on: getNodeList without --ignore-nodes, which must name
    database nodes (a usage error otherwise, naming a license server as such)."""
    listed = run.read(run.backend.nodes)
    ignore = set(run.opts.ignore_nodes)
    unknown = sorted(ignore - set(listed))
    if unknown:
        servers = [n for n in unknown if n in run.opts.license_servers]
        others = [n for n in unknown if n not in servers]
        reasons = [f"{n} is the license server, not a database node" for n in servers]
        if others:
            reasons.append(f"no database node is called {', '.join(others)}")
        known = ", ".join(listed[:SHOW]) + (f" and {len(listed) - SHOW} more" if len(listed) > SHOW else "")
        raise ConfigError(f"--ignore-nodes: {'; '.join(reasons)} (the database nodes are {known or 'none'})")
    for n in sorted(ignore):
        run.emit("warning", run.phase_name, f"ignoring {n} as asked", targets=[n])
    return [n for n in listed if n not in ignore]


def act_on_nodes(
    run: Run,
    phase: str,
    method: str,
    nodes: list[str],
    action: Callable[[list[str]], Any],
    needed: Callable[[str], bool],
) -> list[str]:
    """``action`` on ``nodes``: one action for them all where the backend takes them together
    (a ConfD job's ``nids``), else one per node at once (see :meth:`Run.act_each`). Returns
    the nodes this run acted on."""
    if not nodes:
        return []
    if not run.backend.node_batch:
        return run.act_each(phase, method, nodes, lambda n: run.act(action, [n]), needed=needed)
    label = ",".join(nodes)
    done = run.act_each(phase, method, [label], lambda _: run.act(action, nodes),
                        needed=lambda _: any(needed(n) for n in nodes))  # fmt: skip
    return list(nodes) if done else []


def storage_view(run: Run) -> StorageView:
    return run.read(run.backend.storage)


def db_state(run: Run, name: str) -> DbState:
    return run.read(run.backend.database, name)


class LogFeed:
    """New messages of a log service, through logEntriesTagged with a tag of our own.

    Used as a cheap change feed on large clusters: one call tells which nodes reported,
    instead of one call per node. A message only says whom to ask (its getter decides),
    and anything the feed misses is caught by the sweeps. ``exaop cluster logs`` reads
    it too (``news_only=False``: from the oldest message the service keeps).

    Every look reads the feed to its end, however many pages: the server returns at most
    a page of entries per call (5,000 on ours, unknown on others), so a page as long as
    the longest one seen may have another behind it. A feed that is still full after
    ``max_pages`` pages in one look is given up (``alive`` turns False): the cluster logs
    faster than we read, and its objects are asked through their getters instead.
    """

    def __init__(self, run: Run, service: str, news_only: bool = True, max_pages: int = DRAIN_PAGES) -> None:
        self.run = run
        self.service = service
        self.tag = f"exaop-{uuid.uuid4().hex[:12]}"
        self.alive = True
        self.max_pages = max_pages
        self.longest = 0  # the longest page seen so far: a page as long may not be the last
        self.server_time = ""  # the end of the last page's interval: the server's clock, as strtime
        self._systems: set[str] | None = None
        if news_only:
            self.poll()  # drain what happened before, to the end: only news from now on

    @classmethod
    def open(cls, run: Run) -> LogFeed | None:
        """The run's feed, drained to now (opened on the first log service that answers)."""
        if run.log_feed is not None:
            run.log_feed.poll()  # what happened since the last look is not news for a new wait
            return run.log_feed
        try:
            services = run.read(run.backend.log_services)
        except ServerFault:
            return None
        for name in services:
            try:
                run.log_feed = cls(run, name)
                return run.log_feed
            except ServerFault:
                continue
        return None

    def poll(self) -> list[dict[str, Any]]:
        """Every message since the last look, oldest first ([] once the feed is given up)."""
        out: list[dict[str, Any]] = []
        for _ in range(self.max_pages):
            if not self.alive:
                return out
            page = self._page()
            out.extend(page)
            full = 0 < len(page) >= self.longest
            self.longest = max(self.longest, len(page))
            if not full:
                return out
        self.alive = False  # still full: the cluster logs faster than we read; ask the getters
        return out

    def _page(self) -> list[dict[str, Any]]:
        try:
            answer = self.run.read(self.run.backend.log_page, self.service, self.tag)
        except ServerFault:
            self.alive = False
            return []
        if answer is None:
            return []
        self.server_time, entries = answer
        return entries

    def shows(self, system: str) -> bool:
        """Whether the service shows the messages of ``system`` (a database's name, 'Storage', ...)."""
        if self._systems is None:
            self._systems = self.run.read(self.run.backend.log_systems, self.service)
        return system in self._systems


def reported(feed: LogFeed | None, about: Callable[[dict[str, Any]], Any]) -> set[Any] | None:
    """What the feed's new messages are about; None without a (live) feed: ask everything."""
    if feed is None or not feed.alive:
        return None
    named = {about(e) for e in feed.poll()}
    return named if feed.alive else None  # given up in this look: ask everything this time too


class News:
    """Which of the objects still awaited to ask about again on this poll.

    Those the log feed has a message about (``about`` names the object an entry is about);
    every one without a feed, or when the feed's service does not show it (``unseen``); and
    every one after SWEEP_WHEN_SILENT clock seconds without news, in case the log missed
    something. So a poll costs one call, plus one look per object that did something.
    """

    def __init__(
        self, run: Run, feed: LogFeed | None, about: Callable[[dict[str, Any]], Any], unseen: Iterable[str] = ()
    ) -> None:
        self.run = run
        self.feed = feed
        self.about = about
        self.unseen = set(unseen)
        self.last_news = run.clock.now()

    def due(self, awaited: Iterable[str]) -> list[str]:
        awaited = sorted(awaited)
        named = reported(self.feed, self.about)
        if named is None:
            return awaited
        now = self.run.clock.now()
        if named & set(awaited):
            self.last_news = now
        elif now - self.last_news >= SWEEP_WHEN_SILENT:
            self.last_news = now
            return awaited
        return [n for n in awaited if n in named or n in self.unseen]


class Tracker:
    """The latest state asked of each awaited object, since when it has been in it, and
    which of them a message shows (SHOW at most).

    A message shows only what was asked after the action (``acted``): never a look taken
    before it. When none of those it showed is still awaited and none asked since the
    action is left to show, SHOW others are picked and asked (``look``): a bounded number
    of calls, whatever the cluster's size; the log feed and the sweeps ask the rest.
    """

    def __init__(self, known: dict[str, str], now: float, look: Callable[[list[str]], None] | None = None) -> None:
        self.seen = {name: Seen(name, state, now, now) for name, state in known.items()}
        self.look = look
        self.acted_at: float | None = None
        self._round = 0  # actions so far; a look belongs to the round it was taken in
        self._asked_in = dict.fromkeys(known, 0)
        self.shown: list[str] = []

    def acted(self, at: float) -> None:
        """The action was sent at ``at``: what was asked before no longer shows."""
        self.acted_at = at
        self._round += 1

    def saw(self, name: str, state: str, now: float) -> None:
        prev = self.seen.get(name)
        if prev is not None and prev.state == state:
            since = prev.since
        elif prev is not None and self.acted_at is not None and self._asked_in.get(name, -1) < self._round:
            since = self.acted_at  # the first look after the action: it changed with the action
        else:
            since = now
        self.seen[name] = Seen(name, state, since, now)
        self._asked_in[name] = self._round

    def fresh(self, name: str) -> bool:
        return self._asked_in.get(name, -1) >= self._round

    def _pick(self, pending: Collection[str]) -> list[str]:
        shown = [n for n in self.shown if n in pending and self.fresh(n)]
        if len(shown) < SHOW:
            shown += [n for n in sorted(pending) if n not in shown and self.fresh(n)][: SHOW - len(shown)]
        return shown

    def observation(
        self, summary: str, pending: Callable[[], Collection[str]], total: int, progress: Any = None
    ) -> Observation:
        """An observation of what is still ``pending()`` (asked again when ``look`` picks some)."""
        shown = self._pick(pending())
        if not shown and pending() and self.look is not None:
            self.look(sorted(pending())[:SHOW])
            shown = self._pick(pending())
        self.shown = shown
        left = pending()
        done = total - len(left)
        return Observation(not left, summary, done if progress is None else progress, (done, total),
                           [self.seen[n] for n in shown], len(left) - len(shown))  # fmt: skip

    def last_look(self, summary: str, pending: Callable[[], Collection[str]], total: int) -> Observation:
        """At a deadline: ask once more what the message will show, so it says what is true now."""
        names = [n for n in self.shown if n in pending()] or sorted(pending())[:SHOW]
        if names and self.look is not None:
            self.look(names)
        return self.observation(summary, pending, total)


class NodeWatcher:
    """Observes a set of nodes until all are online (or all offline).

    With a log feed, a node's own message ('Boot process finished after N seconds', 'Node
    n0011 is powered off') tells which node to ask, as the seed article advises: a poll is
    one call, plus one getNodeState per node that reported, whatever the cluster's size.
    Only getNodeState counts a node done, so an old message (a page behind, or a tag the
    server forgot) costs a call, never a wrong answer. Every node still awaited is asked
    without a feed, or after SWEEP_WHEN_SILENT clock seconds without progress, in case
    the log missed something. What a message says of a node was asked after the action
    (``acted_at``): see :class:`Tracker`.
    """

    def __init__(
        self,
        run: Run,
        nodes: list[str],
        online: bool,
        feed: LogFeed | None,
        known: dict[str, str],
        acted_at: float | None = None,
    ) -> None:
        self.run = run
        self.online = online
        self.feed = feed
        self.total = len(nodes)
        self.tracker = Tracker({n: known[n] for n in nodes if n in known}, run.clock.now(), look=self._confirm)
        if acted_at is not None:
            self.tracker.acted(acted_at)
        self.pending = {n for n in nodes if not self._reached(known.get(n, "Unknown"))}
        self.last_news = run.clock.now()
        self.pattern = BOOT_DONE if online else POWERED_OFF

    @property
    def status(self) -> dict[str, str]:
        return {name: seen.state for name, seen in self.tracker.seen.items()}

    def _reached(self, status: str) -> bool:
        return status == RUNNING if self.online else is_offline(status)

    def _confirm(self, nodes: list[str]) -> None:
        for node, status in node_statuses(self.run, nodes).items():
            self.tracker.saw(node, status, self.run.clock.now())
            if self._reached(status):
                self.pending.discard(node)

    def _about(self, entry: dict[str, Any]) -> Any:
        return entry.get("node") if self.pattern.search(str(entry.get("message", ""))) else None

    def _summary(self) -> str:
        return f"nodes {'online' if self.online else 'offline'} {self.total - len(self.pending)}/{self.total}"

    def observe(self) -> Observation:
        before = len(self.pending)
        named = reported(self.feed, self._about)
        now = self.run.clock.now()
        sweep = named is not None and now - self.last_news >= SWEEP_WHEN_SILENT
        due = sorted(self.pending if named is None or sweep else named & self.pending)
        if due:
            self._confirm(due)
        if sweep or len(self.pending) < before:
            self.last_news = now
        progress = self.total - len(self.pending)  # what the shown nodes' states do is not progress
        return self.tracker.observation(self._summary(), lambda: self.pending, self.total, progress)

    def last_look(self) -> Observation:
        return self.tracker.last_look(self._summary(), lambda: self.pending, self.total)


def wait_for_storage(run: Run, phase: str, call: LongCall | None, online: bool) -> str:
    """Wait for storage to start (``online``) or stop: for the call's answer while it is
    out (nothing to ask meanwhile), then for its parts (services, volumes), as last asked.
    Without a call (an interface where storage follows the nodes), for the parts alone."""
    tracker = Tracker({}, run.clock.now())
    tracker.acted(call.sent_at if call is not None else run.clock.now())
    view = StorageView()
    name = "EXAStorage" if run.backend.api == "exaoperation" else "storage"

    def look() -> None:
        nonlocal view
        view = storage_view(run)
        now = run.clock.now()
        for part, state in view.parts.items():
            tracker.saw(part, state, now)
        tracker.saw(name, "online" if view.online else "not online", now)

    def state() -> str:
        return "online" if view.online else "stopped"

    def pending() -> list[str]:
        if online:
            return view.pending or ([] if view.online else [name])
        return [name] if view.online else []

    def observe() -> Observation:
        if call is not None and call.out:  # its answer is the news: nothing to ask meanwhile
            waited = Seen(call.method, "unanswered", call.sent_at)
            return Observation(False, f"{call.method} sent", progress="out", pending=[waited])
        look()
        if call is not None:
            call.check(needed=not view.online if online else view.online)
            if call.out:  # sent again
                return observe()
        left = pending()
        parts = len(view.parts)
        if online:
            what = "services OK" if name == "EXAStorage" else "volumes ONLINE"
            summary = f"{what} {parts - len(view.pending)}/{parts}"
        else:
            summary = f"Storaged {view.parts.get('Storaged', '?')}" if name == "EXAStorage" else f"storage {state()}"
        if call is not None and call.note:
            summary += f" ({call.note})"
        shown = [tracker.seen[n] for n in left[:SHOW]]
        return Observation(not left, summary, progress=len(left), pending=shown, more=max(0, len(left) - SHOW))

    def last_look() -> Observation:
        if call is not None and call.out:
            look()
            waited = Seen(call.method, "unanswered", call.sent_at)
            shown = [waited, *(tracker.seen[n] for n in view.pending[:SHOW])]
            return Observation(False, f"{call.method} sent", pending=shown)
        return observe()

    if online:
        what = "EXAStorage and all services to be OK" if name == "EXAStorage" else "every volume to be ONLINE"
    else:
        what = "Storaged to stop" if name == "EXAStorage" else "storage to stop"
    wait_until(run, phase, what, observe, run.opts.timeout(phase), last_look=last_look)
    if online:
        return "EXAStorage online, all services OK" if name == "EXAStorage" else "storage online, every volume ONLINE"
    return f"{name} stopped"


def await_databases(
    run: Run, phase: str, what: str, names: list[str], news: News, tracker: Tracker, settled: set[str], word: str
) -> None:
    """Wait until every database of ``names`` is in ``settled`` (which the tracker's look
    fills), asking only those the log named (``news``), and saying what each one still
    awaited was last seen doing."""
    assert tracker.look is not None
    look = tracker.look

    def waiting() -> list[str]:
        return [n for n in names if n not in settled]

    def summary() -> str:
        return f"databases {word} {len(names) - len(waiting())}/{len(names)}"

    def observe() -> Observation:
        look(news.due(waiting()))
        return tracker.observation(summary(), waiting, len(names))

    wait_until(run, phase, what, observe, run.opts.timeout(phase),
               last_look=lambda: tracker.last_look(summary(), waiting, len(names)))  # fmt: skip
