"""What every model object shares: a place on the timeline and a record for the store."""

from __future__ import annotations

import heapq
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster


class Entity(ABC):
    """A model object with a persistent record and at most one pending deadline.

    A transition that takes time sets a deadline; when simulated time reaches it the
    cluster calls :meth:`on_deadline`. Deadlines and states are part of the record,
    so a transition under way continues after a restart.
    """

    kind: ClassVar[str] = ""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.deadline: float | None = None
        self.generation = 0

    @property
    @abstractmethod
    def key(self) -> str:
        """The object's name in its table (node name, database name, user id...)."""

    @abstractmethod
    def record(self) -> dict[str, Any]:
        """Everything needed to rebuild the object after a restart, as JSON-able data."""

    def changed(self) -> None:
        self.cluster.touch(self)

    def set_deadline(self, after: float | None) -> None:
        """Fire :meth:`on_deadline` ``after`` simulated seconds from now (None: never)."""
        self.generation += 1
        self.deadline = None if after is None else self.cluster.now + after
        if self.deadline is not None:
            self.cluster.timeline.schedule(self.deadline, self)
        self.changed()

    def restore_deadline(self, deadline: float | None) -> None:
        self.deadline = deadline
        if deadline is not None:
            self.cluster.timeline.schedule(deadline, self)

    def on_deadline(self) -> None:  # noqa: B027 - objects without timed transitions ignore it
        """Called when the deadline set with :meth:`set_deadline` is reached."""


class Timeline:
    """Deadlines of all entities, earliest first; superseded entries are skipped."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, int, Entity]] = []
        self._seq = 0

    def schedule(self, at: float, entity: Entity) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, entity.generation, entity))

    def _valid(self, item: tuple[float, int, int, Entity]) -> bool:
        at, _, gen, entity = item
        return entity.generation == gen and entity.deadline == at

    def next_due(self) -> float | None:
        heap = self._heap
        while heap and not self._valid(heap[0]):
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def pop_due(self, now: float) -> tuple[float, Entity] | None:
        at = self.next_due()
        if at is None or at > now:
            return None
        _, _, _, entity = heapq.heappop(self._heap)
        return at, entity


# Names the model accepts for objects it creates (databases, log services, users).
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def check_name(what: str, name: Any, max_len: int = 32) -> str:
    from exaop.model.errors import UsageError

    if not isinstance(name, str) or not name:
        raise UsageError(f"{what} must be a non-empty string")
    if len(name) > max_len or not set(name) <= NAME_CHARS or not name[0].isalpha():
        raise UsageError(
            f"{what} {name!r} is not valid: use up to {max_len} letters, digits, '_' or '-', starting with a letter"
        )
    return name
