"""EXAStorage: the service that gives databases their volumes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from exaop.model.base import Entity
from exaop.model.errors import UsageError
from exaop.model.lists import list_of

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster

STOPPED, STARTING, ONLINE, STOPPING = "stopped", "starting", "online", "stopping"


class Volume(Entity):
    kind = "volume"

    def __init__(self, cluster: Cluster, vid: str) -> None:
        super().__init__(cluster)
        self.vid = vid
        self.type = "Data"
        self.size_gib = 0
        self.redundancy = 1
        self.nodes: list[str] = []
        self.labels: list[str] = []
        self.owner = ""  # what the volume belongs to, e.g. 'db_exa_db1' for a database's temporary volume
        self.usage: dict[str, float] = {}  # GiB used, by whom (a database's data, a backup ...)

    @property
    def key(self) -> str:
        return self.vid

    @property
    def used_gib(self) -> float:
        return sum(self.usage.values())

    @property
    def free_gib(self) -> float:
        return max(0.0, self.size_gib - self.used_gib)

    def use(self, who: str, gib: float) -> None:
        """``who`` now uses ``gib`` GiB of the volume (replacing what it used before)."""
        if gib > self.free_gib + self.usage.get(who, 0.0):
            raise UsageError(
                f"volume {self.vid} has {self.free_gib + self.usage.get(who, 0.0):.1f} GiB free, {gib:.1f} GiB needed"
            )
        self.usage[who] = round(gib, 3)
        self.changed()

    def release(self, who: str) -> None:
        if self.usage.pop(who, None) is not None:
            self.changed()

    def record(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "size_gib": self.size_gib,
            "redundancy": self.redundancy,
            "nodes": self.nodes,
            "labels": self.labels,
            "owner": self.owner,
            "usage": self.usage,
        }

    @classmethod
    def from_record(cls, cluster: Cluster, key: str, rec: dict[str, Any]) -> Volume:
        v = cls(cluster, key)
        v.type = rec.get("type", "Data")
        v.size_gib = rec.get("size_gib", 0)
        v.redundancy = rec.get("redundancy", 1)
        v.nodes = list(rec.get("nodes", []))
        v.labels = list(rec.get("labels", []))
        v.owner = rec.get("owner", "")
        v.usage = dict(rec.get("usage", {}))
        return v


class Storage(Entity):
    """The EXAStorage service. Start and stop take time; the wire waits for them to settle."""

    kind = "storage"

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(cluster)
        self.state = STOPPED
        self.ignored: list[str] = []
        self.last_error = ""

    @property
    def key(self) -> str:
        return "storage"

    @property
    def online(self) -> bool:
        return self.state == ONLINE

    @property
    def settled(self) -> bool:
        return self.state in (STOPPED, ONLINE)

    def record(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "deadline": self.deadline,
            "ignored": self.ignored,
            "last_error": self.last_error,
        }

    @classmethod
    def from_record(cls, cluster: Cluster, key: str, rec: dict[str, Any]) -> Storage:
        s = cls(cluster)
        s.state = rec.get("state", STOPPED)
        s.ignored = list(rec.get("ignored", []))
        s.last_error = rec.get("last_error", "")
        s.restore_deadline(rec.get("deadline"))
        return s

    def storage_nodes(self) -> list[str]:
        return self.cluster.database_node_names()

    def start(self, ignored_nodes: list[str] | None = None) -> None:
        ignored = list(ignored_nodes or [])
        if not all(isinstance(n, str) for n in ignored):
            raise UsageError("ignored_nodes must be a list of node names")
        unknown = [n for n in ignored if n not in self.cluster.nodes]
        if unknown:
            raise UsageError(f"unknown node(s) in ignored_nodes: {', '.join(unknown)}")
        if self.state == ONLINE:
            raise UsageError("EXAStorage is already running")
        if self.state == STARTING:
            raise UsageError("EXAStorage is already starting")
        if self.state == STOPPING:
            raise UsageError("EXAStorage is stopping; start it again once it has stopped")
        wanted = [n for n in self.storage_nodes() if n not in ignored]
        offline = [n for n in wanted if not self.cluster.nodes[n].online]
        if offline:
            states = ", ".join(f"{n} ({self.cluster.nodes[n].status.lower()})" for n in offline)
            raise UsageError(
                f"EXAStorage cannot start: node(s) not online: {states}."
                " Wait for them to boot, or pass them in ignored_nodes."
            )
        if not wanted:
            raise UsageError("EXAStorage cannot start: no storage node would take part")
        self.state = STARTING
        self.ignored = ignored
        self.last_error = ""
        extra = f" (ignoring {', '.join(ignored)})" if ignored else ""
        self.cluster.log("Storage", "", "Notice", f"EXAStorage is starting on {len(wanted)} nodes{extra}")
        self.set_deadline(self.cluster.duration("storage_start"))

    def stop(self) -> None:
        if self.state == STOPPED:
            raise UsageError("EXAStorage is not running")
        if self.state == STOPPING:
            raise UsageError("EXAStorage is already stopping")
        users = self.cluster.databases_using_storage()
        if users:
            raise UsageError(
                "EXAStorage cannot stop while databases use it: "
                + ", ".join(f"{db.name} ({db.state})" for db in users)
                + ". Stop the databases first."
            )
        self.state = STOPPING
        self.cluster.log("Storage", "", "Notice", "EXAStorage is stopping")
        self.set_deadline(self.cluster.duration("storage_stop"))

    def fail(self, reason: str) -> None:
        """A node the service needs went away while starting."""
        if self.state == STARTING:
            self.state = STOPPED
            self.last_error = f"EXAStorage start failed: {reason}"
            self.set_deadline(None)
            self.cluster.log("Storage", "", "Error", self.last_error)
        elif self.state == ONLINE:
            self.cluster.log("Storage", "", "Warning", f"EXAStorage lost a node: {reason}; running degraded")

    def on_deadline(self) -> None:
        if self.state == STARTING:
            self.state = ONLINE
            self.changed()
            self.cluster.log("Storage", "", "Notice", "EXAStorage is online")
        elif self.state == STOPPING:
            self.state = STOPPED
            self.ignored = []
            self.changed()
            self.cluster.log("Storage", "", "Notice", "EXAStorage stopped")

    def has_quorum(self) -> bool:
        if not self.online:
            return False
        nodes = self.storage_nodes()
        up = sum(1 for n in nodes if self.cluster.nodes[n].online)
        return up * 2 > len(nodes)


@list_of("Volumes")
def _volumes(c: Cluster) -> list[str]:
    return sorted(c.volumes)


def _disks_of_type(c: Cluster, disk_type: str) -> list[str]:
    return [d["name"] for d in c.profile.hardware.get("disks", []) if d.get("type") == disk_type]


@list_of("Disks")
def _disks(c: Cluster) -> list[str]:
    return [d["name"] for d in c.profile.hardware.get("disks", [])]


@list_of("DataDisks")
def _data_disks(c: Cluster) -> list[str]:
    return _disks_of_type(c, "Data")


@list_of("StorageDisks")
def _storage_disks(c: Cluster) -> list[str]:
    return _disks_of_type(c, "Storage")


@list_of("StorageVolumeNodes")
def _storage_volume_nodes(c: Cluster) -> list[str]:
    return c.database_node_names()
