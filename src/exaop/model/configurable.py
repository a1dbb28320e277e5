"""Objects that are settings first: a name, a schema, the values it accepted, and rules.

A kind is a subclass with ``kind`` (its table in the store), ``TITLE`` (its name in
messages), ``SCHEMA`` and, where it has any, behaviour in the hooks below. Subclasses
register themselves, so the cluster rebuilds them from the store without a list kept by
hand. The cluster adds and deletes them (:meth:`Cluster.add_object`,
:meth:`Cluster.delete_object`); they edit themselves.

``parent`` is the key of the object they live under ('' for the cluster itself), so that
``/cluster1/bfsdefault/default`` (a bucket of a BucketFS) and ``/cluster1/vlan1`` (a VLAN)
are the same mechanism.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from exaop.model.base import Entity
from exaop.model.errors import UsageError
from exaop.model.schema import Schema

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster

#: every configurable kind, by ``kind``; filled as the kinds' modules are imported
KINDS: dict[str, type[Configurable]] = {}


class Configurable(Entity):
    kind: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""
    SCHEMA: ClassVar[Schema]
    #: names are made from this prefix and a number (vlan1, route1 ...) unless new_name says otherwise
    PREFIX: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            assert cls.kind not in KINDS, f"configurable kind {cls.kind} declared twice"
            KINDS[cls.kind] = cls

    def __init__(self, cluster: Cluster, name: str, parent: str = "") -> None:
        super().__init__(cluster)
        self.name = name
        self.parent = parent
        self.values: dict[str, Any] = {}

    @property
    def key(self) -> str:
        return f"{self.parent}/{self.name}" if self.parent else self.name

    # -- persistence -----------------------------------------------------------------------

    def record(self) -> dict[str, Any]:
        return {"name": self.name, "parent": self.parent, "values": self.values, "deadline": self.deadline,
                **self.state()}  # fmt: skip

    @classmethod
    def from_record(cls, cluster: Cluster, key: str, rec: dict[str, Any]) -> Configurable:
        obj = cls(cluster, rec["name"], rec.get("parent", ""))
        obj.values = dict(rec.get("values", {}))
        obj.load(rec)
        obj.restore_deadline(rec.get("deadline"))
        return obj

    def state(self) -> dict[str, Any]:
        """What the object keeps besides its settings (runtime state), for the store."""
        return {}

    def load(self, rec: dict[str, Any]) -> None:
        """Take back what :meth:`state` wrote."""

    @classmethod
    def seed(cls, cluster: Cluster) -> None:  # noqa: B027 - most kinds start with no objects
        """Add the objects of this kind a new cluster starts with (BucketFS's bfsdefault ...)."""

    # -- naming ------------------------------------------------------------------------------

    @classmethod
    def new_name(cls, cluster: Cluster, values: dict[str, Any], parent: str) -> str:
        """The name of a new object: PREFIX and the lowest free number from 1."""
        assert cls.PREFIX, f"{cls.__name__} needs PREFIX or its own new_name"
        n = 1
        while not cluster.name_free(f"{cls.PREFIX}{n}", cls, parent):
            n += 1
        return f"{cls.PREFIX}{n}"

    # -- what clients see and change ----------------------------------------------------------

    def properties(self) -> dict[str, Any]:
        return self.SCHEMA.public(self.values)

    def edit(self, values: Any) -> list[str]:
        """Apply a dictionary of fields; returns the names of those that changed."""
        new = self.SCHEMA.validate(values, self, creating=False, seal=self.cluster.seal)
        self.check({**self.values, **new}, creating=False)
        changed = sorted(k for k, v in new.items() if self.values.get(k) != v)
        if not changed:
            return []
        before = dict(self.values)
        self.values.update(new)
        self.changed()
        self.edited(changed, before)
        self.cluster.log("EXAoperation", "", "Notice", f"{self.TITLE} {self.name}: changed {', '.join(changed)}")
        return changed

    def secret(self, field: str) -> str:
        """A password field in clear, for whatever must use it (a driver), never for a getter."""
        sealed = self.values.get(field, "")
        return self.cluster.unseal(sealed) if sealed else ""

    # -- hooks of the kinds --------------------------------------------------------------------

    def check(self, values: dict[str, Any], creating: bool) -> None:  # noqa: B027 - kinds without cross-field rules
        """Rules between fields or with the rest of the cluster; ``values`` is the whole new
        setting. Raise UsageError to refuse; nothing has been changed yet."""

    def added(self) -> None:  # noqa: B027 - kinds without consequences
        """The object was just added (its name and values are set)."""

    def edited(self, changed: list[str], before: dict[str, Any]) -> None:  # noqa: B027
        """``changed`` fields were just changed (``before``: the old values)."""

    def check_delete(self) -> None:  # noqa: B027
        """Raise UsageError if the object may not be deleted now (something uses it)."""

    def deleted(self) -> None:  # noqa: B027
        """The object was just deleted."""


def refuse_if_used(what: str, users: list[str]) -> None:
    """For check_delete: refuse, naming who still uses the object."""
    if users:
        raise UsageError(f"{what} is still used by {', '.join(users)}")
