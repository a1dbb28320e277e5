"""EXAStorage: the service that gives databases their volumes.

The service starts and stops on the clock; its volumes, nodes and HDDs are in model/volumes.py,
model/storage_nodes.py and model/disks.py. With the auto-restart flag set, a service that was
started and went down because a node went away (and was not stopped on purpose) starts again by
itself once all its nodes run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from exaop.model import disks, storage_nodes, volumes
from exaop.model.base import Entity
from exaop.model.errors import UsageError
from exaop.model.schema import Field, Schema
from exaop.model.volumes import Volume

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster

STOPPED, STARTING, ONLINE, STOPPING = "stopped", "starting", "online", "stopping"
__all__ = ["ONLINE", "STARTING", "STOPPED", "STOPPING", "Storage", "Volume"]


def _networks(obj: object) -> list[str]:
    from exaop.model.lists import list_values

    return list_values(obj.cluster, "VLAN")  # type: ignore[attr-defined]


EDIT_SCHEMA = Schema("EXAStorage", [
    Field("vlan_list", "List", "The private networks EXAStorage uses ([]: the first one, 'private').",
          choices=_networks),
])  # fmt: skip


class Storage(Entity):
    """The EXAStorage service. Start and stop take time; the wire waits for them to settle."""

    kind = "storage"

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(cluster)
        self.state = STOPPED
        self.ignored: list[str] = []
        self.last_error = ""
        self.vlan_list: list[str] = ["private"]
        self.auto_restart = False
        self.wanted = False  # started, and not stopped since: what auto-restart brings back
        self.seeded: list[str] = []  # nodes that got their default disk layout (model/disks.py)

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
            "vlan_list": self.vlan_list,
            "auto_restart": self.auto_restart,
            "wanted": self.wanted,
            "seeded": self.seeded,
        }

    @classmethod
    def from_record(cls, cluster: Cluster, key: str, rec: dict[str, Any]) -> Storage:
        s = cls(cluster)
        s.state = rec.get("state", STOPPED)
        s.ignored = list(rec.get("ignored", []))
        s.last_error = rec.get("last_error", "")
        s.vlan_list = list(rec.get("vlan_list", ["private"]))
        s.auto_restart = bool(rec.get("auto_restart", False))
        s.wanted = bool(rec.get("wanted", s.state != STOPPED))
        s.seeded = list(rec.get("seeded", []))
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
        self.wanted = True
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
        self.wanted = False
        self.cluster.log("Storage", "", "Notice", "EXAStorage is stopping")
        self.set_deadline(self.cluster.duration("storage_stop"))

    def excused(self, node: str) -> bool:
        """Whether EXAStorage does without ``node`` now: ignored at the start, or suspended."""
        sn = self.cluster.table(storage_nodes.StorageNode.kind).get(f"storage/{node}")
        return node in self.ignored or (sn is not None and sn.suspended)

    def fail(self, reason: str, node: str = "") -> None:
        """``node`` (which the service needs) went away: a start fails; a running service runs degraded."""
        if self.state == STARTING:
            self.state = STOPPED
            self.last_error = f"EXAStorage start failed: {reason}"
            self.set_deadline(None)
            self.cluster.log("Storage", "", "Error", self.last_error)
        elif self.state == ONLINE:
            self.cluster.log("Storage", "", "Warning", f"EXAStorage lost a node: {reason}; running degraded")
            if node:
                storage_nodes.node_lost(self.cluster, node)

    def node_arrived(self, node: str) -> None:
        """A node finished its boot: its disks, its part in EXAStorage, and auto-restart."""
        disks.node_booted(self.cluster, self.cluster.nodes[node])
        if self.online:
            volumes.node_up(self.cluster, node)
        elif self.state == STOPPED and self.auto_restart and self.wanted:
            wanted = [n for n in self.storage_nodes() if n not in self.ignored]
            if wanted and all(self.cluster.nodes[n].online for n in wanted):
                self.cluster.log("Storage", "", "Notice", "EXAStorage restarts by itself (auto-restart flag)")
                self.start(self.ignored)

    def set_auto_restart(self, on: bool) -> None:
        if on != self.auto_restart:
            self.auto_restart = on
            self.changed()
            self.cluster.log("Storage", "", "Notice", f"EXAStorage auto-restart flag {'set' if on else 'cleared'}")

    def edit(self, values: object) -> list[str]:
        """editStorage: the networks EXAStorage uses; changed only while it is stopped."""
        new = EDIT_SCHEMA.validate(values, self, creating=False)
        if "vlan_list" not in new or (new["vlan_list"] or ["private"]) == self.vlan_list:
            return []
        changed = ["vlan_list"]
        if self.state != STOPPED:
            raise UsageError(f"EXAStorage is {self.state}; its network changes only while it is stopped")
        self.vlan_list = new["vlan_list"] or ["private"]
        self.changed()
        self.cluster.log("Storage", "", "Notice", f"EXAStorage network: {', '.join(self.vlan_list)}")
        return changed

    def delete_metadata(self) -> list[str]:
        """deleteMetadata: EXAStorage forgets its volumes and devices on every node; only while it is
        stopped, every storage node runs, and no volume is used. The storage disks become unused
        devices (addUnusedDevices takes them in again). Returns the volumes forgotten."""
        if self.state != STOPPED:
            raise UsageError(f"EXAStorage is {self.state}; its metadata is deleted only while it is stopped")
        down = [n for n in self.storage_nodes() if not self.cluster.nodes[n].online]
        if down:
            raise UsageError(f"node(s) {', '.join(down)} are not running and would keep their metadata")
        local = volumes.local_volumes(self.cluster)
        for vol in local:
            users = volumes.users_of(self.cluster, vol) + volumes.other_usage(vol)
            if users:
                raise UsageError(f"volume {vol.vid} is used by {', '.join(users)}")
        for vol in local:
            vol.set_deadline(None)
            self.cluster.remove_volume(vol)
        by_node = disks.disks_by_node(self.cluster)
        for n in self.storage_nodes():
            for d in by_node.get(n, []):
                if d.hdd is not None and d.hdd["in_storage"]:
                    d.hdd = {**d.hdd, "in_storage": False}
                    d.changed()
        self.cluster.log("Storage", "", "Warning", "EXAStorage metadata deleted on all nodes" +
                         (f": volumes {', '.join(v.vid for v in local)} are gone" if local else ""))  # fmt: skip
        return [v.vid for v in local]

    def on_deadline(self) -> None:
        if self.state == STARTING:
            self.state = ONLINE
            self.changed()
            self.cluster.log("Storage", "", "Notice", "EXAStorage is online")
            volumes.storage_online(self.cluster)
        elif self.state == STOPPING:
            self.state = STOPPED
            self.ignored = []
            self.changed()
            self.cluster.log("Storage", "", "Notice", "EXAStorage stopped")
            volumes.storage_stopped(self.cluster)

    def has_quorum(self) -> bool:
        if not self.online:
            return False
        nodes = self.storage_nodes()
        up = sum(1 for n in nodes if self.cluster.nodes[n].online)
        return up * 2 > len(nodes)
