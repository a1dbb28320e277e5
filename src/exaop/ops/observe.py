"""Reading the cluster's state, as cheaply as a large cluster needs."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from exaop.client import ServerFault
from exaop.ops.run import Run
from exaop.ops.wait import Observation

RUNNING = "Running"
TRANSITIONAL = ("Booting", "Shutting down")
BOOT_DONE = re.compile(r"Boot process finished after \d+ seconds")
POWERED_OFF = re.compile(r"powered off", re.IGNORECASE)
SWEEP_WHEN_SILENT = 300.0  # clock seconds without news before everything still awaited is asked again
DRAIN_PAGES = 50  # pages of a log feed read in one look at most (250,000 entries at 5,000 a page)


def node_status(run: Run, node: str) -> str:
    """'Running', 'Booting', ... On servers without getNodeState: the seed's inventory check."""
    if run.client.has("getNodeState"):
        state = run.read("", "getNodeState", node)
        return str(state.get("status", "Unknown")) if isinstance(state, dict) else str(state)
    info = run.read("", "getHardwareInformation", node)
    return RUNNING if "dmidecode" in str(info) else "Unknown"


def node_statuses(run: Run, nodes: list[str]) -> dict[str, str]:
    results = run.parallel(nodes, lambda n: node_status(run, n))
    out = {}
    for node, status, err in results:
        if err is not None:
            raise err
        out[node] = status
    return out


def is_offline(status: str) -> bool:
    return status != RUNNING and status not in TRANSITIONAL


def service_states(run: Run) -> dict[str, str]:
    return {name: state for name, state in run.read("", "getServiceState")}


@dataclass
class DbState:
    name: str
    state: str
    operation: str
    connectible: bool

    @property
    def busy(self) -> bool:
        return self.operation not in ("None", "", None)


def db_state(run: Run, name: str) -> DbState:
    path = f"/db_{name}"
    state = str(run.read(path, "getDatabaseState"))
    operation = str(run.read(path, "getDatabaseOperation"))
    conn = state == "running" and run.read(path, "getDatabaseConnectionState") == "Yes"
    return DbState(name, state, operation, conn)


class LogFeed:
    """New messages of a log service, through logEntriesTagged with a tag of our own.

    Used as a cheap change feed on large clusters: one call tells which nodes reported,
    instead of one call per node. A message only says whom to ask (its getter decides),
    and anything the feed misses is caught by the sweeps.

    Every look reads the feed to its end, however many pages: the server returns at most
    a page of entries per call (5,000 on ours, unknown on others), so a page as long as
    the longest one seen may have another behind it. A feed that is still full after
    DRAIN_PAGES pages in one look is given up (``alive`` turns False): the cluster logs
    faster than we read, and its objects are asked through their getters instead.
    """

    def __init__(self, run: Run, service: str) -> None:
        self.run = run
        self.path = f"/{service}"
        self.tag = f"exaop-{uuid.uuid4().hex[:12]}"
        self.alive = True
        self.longest = 0  # the longest page seen so far: a page as long may not be the last
        self._systems: set[str] | None = None
        self.poll()  # drain what happened before, to the end: only news from now on

    @classmethod
    def open(cls, run: Run) -> LogFeed | None:
        """The run's feed, drained to now (opened on the first log service that answers)."""
        if run.log_feed is not None:
            run.log_feed.poll()  # what happened since the last look is not news for a new wait
            return run.log_feed
        try:
            services = run.read("", "getAllLogServices")
        except ServerFault:
            return None
        for svc in services or []:
            name = svc.get("name") if isinstance(svc, dict) else svc
            if name:
                try:
                    run.log_feed = cls(run, str(name))
                    return run.log_feed
                except ServerFault:
                    continue
        return None

    def poll(self) -> list[dict[str, Any]]:
        """Every message since the last look, oldest first ([] once the feed is given up)."""
        out: list[dict[str, Any]] = []
        for _ in range(DRAIN_PAGES):
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
            answer = self.run.read(self.path, "logEntriesTagged", self.tag)
        except ServerFault:
            self.alive = False
            return []
        entries = answer[2] if isinstance(answer, list) and len(answer) == 3 else []
        return [e for e in entries if isinstance(e, dict)]

    def shows(self, system: str) -> bool:
        """Whether the service shows the messages of ``system`` (a database's name, 'Storage', ...)."""
        if self._systems is None:
            try:
                props = self.run.read(self.path, "getProperties")
            except ServerFault:
                props = {}
            props = props if isinstance(props, dict) else {}
            self._systems = {str(s) for key in ("exaclusteros_services", "exasolution_systems")
                             for s in props.get(key) or []}  # fmt: skip
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


class NodeWatcher:
    """Observes a set of nodes until all are online (or all offline).

    With a log feed, a node's own message ('Boot process finished after N seconds', 'Node
    n0011 is powered off') tells which node to ask, as the seed article advises: a poll is
    one call, plus one getNodeState per node that reported, whatever the cluster's size.
    Only getNodeState counts a node done, so an old message (a page behind, or a tag the
    server forgot) costs a call, never a wrong answer. Every node still awaited is asked
    without a feed, or after SWEEP_WHEN_SILENT clock seconds without progress, in case
    the log missed something.
    """

    def __init__(self, run: Run, nodes: list[str], online: bool, feed: LogFeed | None, known: dict[str, str]) -> None:
        self.run = run
        self.online = online
        self.feed = feed
        self.total = len(nodes)
        self.status = dict(known)
        self.pending = {n for n in nodes if not self._reached(known.get(n, "Unknown"))}
        self.last_news = run.clock.now()
        self.pattern = BOOT_DONE if online else POWERED_OFF

    def _reached(self, status: str) -> bool:
        return status == RUNNING if self.online else is_offline(status)

    def _confirm(self, nodes: list[str]) -> None:
        for node, status in node_statuses(self.run, nodes).items():
            self.status[node] = status
            if self._reached(status):
                self.pending.discard(node)

    def _about(self, entry: dict[str, Any]) -> Any:
        return entry.get("node") if self.pattern.search(str(entry.get("message", ""))) else None

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
        done = self.total - len(self.pending)
        word = "online" if self.online else "offline"
        summary = f"nodes {word} {done}/{self.total}"
        if self.pending and len(self.pending) <= 8:
            summary += "; waiting for " + ", ".join(f"{n} ({self.status.get(n, '?')})" for n in sorted(self.pending))
        return Observation(not self.pending, summary, progress=done, data={"done": done, "total": self.total})
