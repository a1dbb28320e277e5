"""What live pages wait on: a change counter fed by the runtime, and the states over time.

:class:`Changes` is bumped by the runtime after every commit that changed something
(``Runtime.on_change``) and by the runs the browser started (their events); a live page's
stream awaits a bump newer than what it sent last. Nothing polls.

:class:`History` records, at each change, the states of the nodes, EXAStorage and the
databases whenever they differ from the last recorded ones (a bounded list per object, in
memory, from the server's start: before that only each state's ``since`` is known). The
pictures (node state over time, the timeline of the last start or stop) are drawn from it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster

KEEP = 200  # state changes kept per object


class Changes:
    def __init__(self) -> None:
        self.version = 0
        self._event: asyncio.Event | None = None

    def bump(self) -> None:
        self.version += 1
        event, self._event = self._event, None
        if event is not None:
            event.set()

    async def newer_than(self, seen: int, timeout: float) -> int:
        """The version once it is newer than ``seen``, or after ``timeout`` seconds."""
        if self.version > seen:
            return self.version
        if self._event is None:
            self._event = asyncio.Event()
        event = self._event
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass
        return self.version


@dataclass(frozen=True, slots=True)
class Change:
    t: float
    state: str
    detail: str = ""  # a database's operation


class History:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.nodes: dict[str, deque[Change]] = {}
        self.storage: deque[Change] = deque(maxlen=KEEP)
        self.databases: dict[str, deque[Change]] = {}
        self._node_seen: dict[str, tuple[float, str]] = {}
        self.observe()

    def observe(self) -> None:
        c = self.cluster
        now = c.now
        for name, node in c.nodes.items():
            seen = (node.since, node.status)
            if self._node_seen.get(name) == seen:  # the usual case: nothing new about this node
                continue
            self._node_seen[name] = seen
            self._add(self.nodes.setdefault(name, deque(maxlen=KEEP)), Change(node.since, node.status))
        self._add(self.storage, Change(now, c.storage.state))
        for name, db in c.databases.items():
            self._add(self.databases.setdefault(name, deque(maxlen=KEEP)), Change(now, db.state, db.operation))

    @staticmethod
    def _add(changes: deque[Change], change: Change) -> None:
        if changes and (changes[-1].state, changes[-1].detail) == (change.state, change.detail):
            return
        changes.append(change)
