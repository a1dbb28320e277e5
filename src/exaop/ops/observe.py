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

    Used as a cheap change feed on large clusters: one call tells which nodes finished
    booting, instead of one call per node. Anything it misses is caught by the sweeps.
    """

    def __init__(self, run: Run, service: str) -> None:
        self.run = run
        self.path = f"/{service}"
        self.tag = f"exaop-{uuid.uuid4().hex[:12]}"
        self.alive = True
        self._systems: set[str] | None = None
        self.poll()  # drain what happened before: only news from now on

    @classmethod
    def open(cls, run: Run) -> LogFeed | None:
        try:
            services = run.read("", "getAllLogServices")
        except ServerFault:
            return None
        for svc in services or []:
            name = svc.get("name") if isinstance(svc, dict) else svc
            if name:
                try:
                    return cls(run, str(name))
                except ServerFault:
                    continue
        return None

    def poll(self) -> list[dict[str, Any]]:
        if not self.alive:
            return []
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
        if self.feed is None or not self.feed.alive:
            return awaited
        now = self.run.clock.now()
        named = {self.about(e) for e in self.feed.poll()}
        if named & set(awaited):
            self.last_news = now
        elif now - self.last_news >= SWEEP_WHEN_SILENT:
            self.last_news = now
            return awaited
        return [n for n in awaited if n in named or n in self.unseen]


class NodeWatcher:
    """Observes a set of nodes until all are online (or all offline).

    With a log feed, a node's own message ('Boot process finished after N seconds', 'Node
    n0011 is powered off') is the observation, as the seed article advises: a poll is one
    call whatever the cluster's size. Nodes are asked one by one only without a feed, or
    after SWEEP_WHEN_SILENT clock seconds without news, in case the log missed something.
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
        self.reported = RUNNING if online else "Powered off"  # what the message says the node is now

    def _reached(self, status: str) -> bool:
        return status == RUNNING if self.online else is_offline(status)

    def _confirm(self, nodes: list[str]) -> None:
        for node, status in node_statuses(self.run, nodes).items():
            self.status[node] = status
            if self._reached(status):
                self.pending.discard(node)

    def observe(self) -> Observation:
        now = self.run.clock.now()
        if self.feed is not None and self.feed.alive:
            news = {e.get("node") for e in self.feed.poll() if self.pattern.search(str(e.get("message", "")))}
            arrived = news & self.pending
            if arrived:
                self.last_news = now
                for node in arrived:
                    self.status[node] = self.reported
                self.pending -= arrived
            elif now - self.last_news >= SWEEP_WHEN_SILENT:
                self.last_news = now
                self._confirm(sorted(self.pending))
        else:
            self._confirm(sorted(self.pending))
        done = self.total - len(self.pending)
        word = "online" if self.online else "offline"
        summary = f"nodes {word} {done}/{self.total}"
        if self.pending and len(self.pending) <= 8:
            summary += "; waiting for " + ", ".join(f"{n} ({self.status.get(n, '?')})" for n in sorted(self.pending))
        return Observation(not self.pending, summary, progress=done, data={"done": done, "total": self.total})
