"""EXAStorage on one node (/cluster1/storage/n0011) and its HDDs (/cluster1/storage/n0011/d03_storage).

Every database node is a storage node. Its settings: background recovery (on or off, and its
limit in MiB/s, 0 for the calibrated one) and the space warning threshold. Its operations take
it out of EXAStorage and back: suspend and resume (maintenance), restart of its storage service
(on the clock). While it is out, volumes with redundancy run degraded and its copies go stale;
when it is back they are recovered (model/volumes.py).

An HDD is a storage disk of the node as EXAStorage sees it (``NodeDisk.hdd`` in model/disks.py):
in EXAStorage or unused, enabled or disabled, its size (which can lag behind its disk's until
enlarged), IO errors and the CRC flag an unclean stop leaves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from exaop.model import volumes
from exaop.model.configurable import Configurable
from exaop.model.disks import STORAGE, NodeDisk, disk_load, disk_loads, disks_by_node, disks_of, gib_text
from exaop.model.errors import NotFound, UsageError
from exaop.model.schema import Field, Schema

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster

PARENT = "storage"
LINK_SPEED_MBIT = 10_000
SECTOR_SIZE = 512


def calibrated_limit(link_speed_mbit: int) -> int:
    """The recovery limit calibration finds: 30 % of the link, in MiB/s."""
    return int(link_speed_mbit / 8 * 0.3)


class StorageNode(Configurable):
    kind = "storage_node"
    TITLE = "storage node"
    SCHEMA = Schema("storage node", [
        Field("bg_recovery_enabled", "Bool", "Whether stale copies on the node are recovered in the background.",
              default=True),
        Field("bg_rec_limit", "Int", "Background recovery limit in MiB/s (0: the calibrated one).", minimum=0,
              maximum=100_000),
        Field("space_warn_threshold", "Int", "Percent of the node's EXAStorage space in use from which a "
              "warning is logged.", default=90, minimum=1, maximum=100),
    ])  # fmt: skip

    def __init__(self, cluster: Cluster, name: str, parent: str = PARENT) -> None:
        super().__init__(cluster, name, parent)
        self.suspended = False
        self.restarting = False
        self.auto_limit = calibrated_limit(self.link_speed) if name in cluster.nodes else 0
        self.calibrated: float | None = None

    def state(self) -> dict[str, Any]:
        return {"suspended": self.suspended, "restarting": self.restarting, "auto_limit": self.auto_limit,
                "calibrated": self.calibrated}  # fmt: skip

    def load(self, rec: dict[str, Any]) -> None:
        self.suspended = bool(rec.get("suspended", False))
        self.restarting = bool(rec.get("restarting", False))
        self.auto_limit = int(rec.get("auto_limit", self.auto_limit))
        self.calibrated = rec.get("calibrated")

    @property
    def link_speed(self) -> int:
        return int(self.cluster.hardware_of(self.cluster.nodes[self.name]).get("link_speed_mbit", LINK_SPEED_MBIT))

    # -- views --------------------------------------------------------------------------------------

    @property
    def status(self) -> str:
        st = self.cluster.storage
        if self.suspended:
            return "suspended"
        if self.restarting:
            return "restarting"
        if self.name in st.ignored:
            return "ignored"
        return "online" if volumes.node_active(self.cluster, self.name) else "offline"

    def hdds(self) -> list[NodeDisk]:
        return [d for d in disks_of(self.cluster, self.name) if d.hdd is not None]

    def properties(self, own: list[NodeDisk] | None = None, loads: dict[tuple[str, str], float] | None = None
                   ) -> dict[str, Any]:  # fmt: skip
        """``own`` (the node's disks) and ``loads`` (disk_loads) when describing many nodes at once."""
        c = self.cluster
        own = disks_of(c, self.name) if own is None else own
        loads = disk_loads(c) if loads is None else loads
        storage_disks = [d for d in own if d.type == STORAGE and d.installed is not None]
        disk_space = sum(float(d.installed["size"]) for d in storage_disks if d.installed)
        capacity = sum(volumes.capacity(c, self.name, d.name) for d in storage_disks)
        used = sum(loads.get((self.name, d.name), 0.0) for d in storage_disks)
        nodes = c.database_node_names()
        return {
            **self.values,
            "auto_bg_rec_limit": self.auto_limit,
            "disk_free_space": _gib(disk_space - used),
            "disk_space": _gib(disk_space),
            "disk_sum_space": _gib(capacity),
            "free_space": _gib(capacity - used),
            "link_speed": self.link_speed,
            "nid": nodes.index(self.name) if self.name in nodes else -1,
            "node_size": _gib(used),
            "phys_nid": self.cluster.nodes[self.name].number,
            "state": self.status,
        }

    # -- taking the node out of EXAStorage and back ------------------------------------------------------

    def _in_service(self, what: str) -> None:
        if not self.cluster.storage.online:
            raise UsageError(f"EXAStorage is {self.cluster.storage.state}; {what} needs it online")
        if not self.cluster.nodes[self.name].online:
            raise UsageError(f"{self.name} is {self.cluster.nodes[self.name].status.lower()}")

    def suspend(self) -> None:
        if self.suspended:
            raise UsageError(f"{self.name} is already suspended")
        self._in_service(f"suspending {self.name}")
        volumes.check_still_available(self.cluster, self.name, f"suspending {self.name}")
        self.suspended = True
        self.changed()
        self.cluster.log("Storage", self.name, "Notice", f"storage node {self.name} suspended")
        volumes.node_down(self.cluster, self.name, "is suspended")

    def resume(self) -> None:
        if not self.suspended:
            raise UsageError(f"{self.name} is not suspended")
        self.suspended = False
        self.changed()
        self.cluster.log("Storage", self.name, "Notice", f"storage node {self.name} resumed")
        volumes.node_up(self.cluster, self.name)

    def restart(self) -> None:
        """The node's storage service stops and starts again (the node itself keeps running)."""
        if self.restarting:
            raise UsageError(f"the storage service of {self.name} is already restarting")
        if self.suspended:
            raise UsageError(f"{self.name} is suspended; resume it instead")
        self._in_service(f"restarting the storage service of {self.name}")
        volumes.check_still_available(self.cluster, self.name, f"restarting {self.name}")
        self.restarting = True
        self.cluster.log("Storage", self.name, "Notice", f"storage service of {self.name} is restarting")
        volumes.node_down(self.cluster, self.name, "restarts its storage service")
        self.set_deadline(self.cluster.duration("storage_stop") + self.cluster.duration("storage_start"))

    def on_deadline(self) -> None:
        if self.restarting:
            self.restarting = False
            self.cluster.log("Storage", self.name, "Notice", f"storage service of {self.name} restarted")
            volumes.node_up(self.cluster, self.name)

    # -- background recovery and space warnings ---------------------------------------------------------

    def _set(self, field: str, value: Any, sentence: str) -> bool:
        """Set a value; whether it changed (setting what is set already changes nothing and is no
        error, like an editX that changes nothing: a script that sets it again succeeds)."""
        new = self.SCHEMA.validate({field: value}, self, creating=False)[field]
        if new == self.values.get(field):
            return False
        self.values[field] = new
        self.changed()
        self.cluster.log("Storage", self.name, "Notice", sentence.format(n=self.name, v=new))
        return True

    def set_bg_recovery(self, enabled: bool) -> None:
        if self.values["bg_recovery_enabled"] == enabled:
            raise UsageError(f"background recovery of {self.name} is already {'enabled' if enabled else 'disabled'}")
        self._set("bg_recovery_enabled", enabled, "background recovery of {n}: " + ("on" if enabled else "off"))
        if enabled:
            volumes.node_up(self.cluster, self.name)

    def set_bg_limit(self, mib: Any) -> None:
        self._set("bg_rec_limit", mib, "background recovery limit of {n}: {v} MiB/s (0: calibrated)")

    def set_space_warn_threshold(self, percent: Any) -> None:
        if self._set("space_warn_threshold", percent, "space warning threshold of {n}: {v}%"):
            volumes.warn_space(self.cluster, [self.name])

    def calibrate(self) -> int:
        """The recovery limit is measured again over the node's link."""
        node = self.cluster.nodes[self.name]
        if not node.online:
            raise UsageError(f"{self.name} is {node.status.lower()}; calibration measures a running node's link")
        self.auto_limit = calibrated_limit(self.link_speed)
        self.calibrated = self.cluster.now
        self.changed()
        self.cluster.log("Storage", self.name, "Notice",
                         f"background recovery limit of {self.name} calibrated: {self.auto_limit} MiB/s")  # fmt: skip
        return self.auto_limit

    # -- HDDs --------------------------------------------------------------------------------------------

    def hdd(self, name: Any) -> NodeDisk:
        for d in self.hdds():
            if d.name == name:
                return d
        raise NotFound(f"Object {name} (device) not found on storage node {self.name}")

    def changeable(self) -> bool:
        """Whether the node's EXAStorage devices can be changed now: it runs and takes part in EXAStorage."""
        return self.status == "online"

    def devices(self, *, unused: bool | None = None, disk: str = "") -> list[dict[str, Any]]:
        out = []
        for d in self.hdds():
            assert d.hdd is not None
            if (unused is not None and d.hdd["in_storage"] == unused) or (disk and d.name != disk):
                continue
            out.append(hdd_properties(self, d))
        return out

    def unused_devices(self, disk: Any) -> list[dict[str, Any]]:
        if not isinstance(disk, str):
            raise UsageError("disk must be a disk name, or '' for every storage disk")
        if disk and disk not in [d.name for d in self.hdds()]:
            raise NotFound(f"Object {disk} (storage disk) not found on {self.name}")
        return [{k: x[k] for k in ("name", "type", "disk")} for x in self.devices(unused=True, disk=disk)]

    def _pick(self, names: Any, what: str, allow_empty: bool = False) -> list[NodeDisk]:
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise UsageError(f"{what} takes a list of device names (as getAllDevices names them)")
        if not names and not allow_empty:
            raise UsageError(f"{what} needs at least one device name")
        return [self.hdd(n) for n in names]

    def add_unused(self, names: Any) -> list[dict[str, Any]]:
        picked = self._pick(names, "addUnusedDevices", allow_empty=True) or [
            d for d in self.hdds() if d.hdd and not d.hdd["in_storage"]]  # fmt: skip
        already = [d.name for d in picked if d.hdd and d.hdd["in_storage"]]
        if already:
            raise UsageError(f"device(s) {', '.join(already)} of {self.name} are already in EXAStorage")
        self._in_service(f"adding devices to {self.name}")
        for d in picked:
            d.hdd = {**(d.hdd or {}), "in_storage": True, "size": float((d.installed or {}).get("size", 0))}
            d.changed()
        if picked:
            self.cluster.log("Storage", self.name, "Notice",
                             f"EXAStorage took in {', '.join(d.name for d in picked)} of {self.name}")  # fmt: skip
        return [{"name": d.name, "type": "hdd", "disk": d.name} for d in picked]

    def remove_devices(self, names: Any) -> None:
        picked = self._pick(names, "removeDevices")
        self._refuse_if_holding(picked, "removed")
        for d in picked:
            assert d.hdd is not None
            if not d.hdd["in_storage"]:
                raise UsageError(f"{d.name} of {self.name} is not in EXAStorage")
        for d in picked:
            d.hdd = {**(d.hdd or {}), "in_storage": False}
            d.changed()
        self.cluster.log("Storage", self.name, "Notice",
                         f"{', '.join(d.name for d in picked)} of {self.name} removed from EXAStorage")  # fmt: skip

    def _refuse_if_holding(self, picked: list[NodeDisk], verb: str) -> None:
        for d in picked:
            load = disk_load(self.cluster, self.name, d.name)
            if load:
                raise UsageError(f"{d.name} of {self.name} holds {gib_text(load)} GiB of volume segments and cannot "
                                 f"be {verb}; move the volumes away first")  # fmt: skip

    def set_enabled(self, names: Any, enabled: bool) -> None:
        what = "enableDevices" if enabled else "disableDevices"
        picked = self._pick(names, what)
        if not enabled:
            self._refuse_if_holding(picked, "disabled")
        same = [d.name for d in picked if d.hdd and d.hdd["enabled"] == enabled]
        if same:
            raise UsageError(f"device(s) {', '.join(same)} of {self.name} are already "
                             f"{'enabled' if enabled else 'disabled'}")  # fmt: skip
        for d in picked:
            d.hdd = {**(d.hdd or {}), "enabled": enabled}
            d.changed()
        self.cluster.log(
            "Storage",
            self.name,
            "Notice" if enabled else "Warning",
            f"{', '.join(d.name for d in picked)} of {self.name} {'enabled' if enabled else 'disabled'}",
        )

    def enlarge(self, names: Any) -> list[dict[str, Any]]:
        picked = self._pick(names, "enlargeDevices")
        small = [d.name for d in picked if not enlargeable(d)]
        if small:
            raise UsageError(f"device(s) {', '.join(small)} of {self.name} already use their whole disk")
        out = []
        for d in picked:
            assert d.hdd is not None and d.installed is not None
            d.hdd = {**d.hdd, "size": float(d.installed["size"])}
            d.changed()
            out.append(hdd_properties(self, d))
        self.cluster.log("Storage", self.name, "Notice", f"{', '.join(d.name for d in picked)} of {self.name} "
                         "enlarged to their disks' size")  # fmt: skip
        return out

    def clear_errors(self) -> int:
        """The IO error counters of the node's HDDs go back to 0; returns how many errors were cleared."""
        cleared = 0
        for d in self.hdds():
            assert d.hdd is not None
            cleared += int(d.hdd["io_errors"])
            if d.hdd["io_errors"]:
                d.hdd = {**d.hdd, "io_errors": 0}
                d.changed()
        self.cluster.log("Storage", self.name, "Notice", f"{cleared} device error(s) of {self.name} cleared")
        return cleared


def enlargeable(d: NodeDisk) -> bool:
    return bool(d.hdd and d.installed and float(d.installed["size"]) > float(d.hdd["size"]) + 1e-9)


def hdd_properties(sn: StorageNode, d: NodeDisk) -> dict[str, Any]:
    """A device as getAllDevices and the HDD object describe it."""
    assert d.hdd is not None
    h = d.hdd
    if not h["in_storage"]:
        state = "unused"
    elif not h["enabled"]:
        state = "disabled"
    else:
        state = "online" if volumes.node_active(sn.cluster, sn.name) else "offline"
    return {
        "name": d.name, "hid": d.number, "type": "hdd", "disk": d.name, "state": state,
        "size": _gib(float(h["size"])), "used": _gib(disk_load(sn.cluster, sn.name, d.name)),
        "num_sectors": float(int(float(h["size"]) * 1024**3) // SECTOR_SIZE), "sector_size": SECTOR_SIZE,
        "io_error": int(h["io_errors"]), "crc_error": bool(h["crc_error"]), "read_only": bool(h["read_only"]),
        "enlargeable": enlargeable(d),
    }  # fmt: skip


def _gib(x: float) -> float:
    return round(x, 2)


def storage_node(cluster: Cluster, name: Any) -> StorageNode:
    """The storage node of database node ``name`` (made with its defaults the first time)."""
    if not isinstance(name, str) or name not in cluster.database_node_names():
        raise NotFound(f"Object {name} (storage node) not found")
    sn = cluster.table(StorageNode.kind).get(f"{PARENT}/{name}")
    if sn is None:
        sn = StorageNode(cluster, name)
        sn.values = StorageNode.SCHEMA.validate({}, sn, creating=True)
        cluster._add(sn)
    return sn  # type: ignore[no-any-return]


def node_lost(cluster: Cluster, name: str) -> None:
    """A node went down uncleanly under a running EXAStorage: its HDDs count an IO error and carry
    the CRC flag until fixChecksums, its copies go stale."""
    if name not in cluster.database_node_names():
        return
    for d in disks_of(cluster, name):
        if d.hdd is not None and d.hdd["in_storage"]:
            d.hdd = {**d.hdd, "io_errors": int(d.hdd["io_errors"]) + 1, "crc_error": True}
            d.changed()
    sn = cluster.table(StorageNode.kind).get(f"{PARENT}/{name}")
    if sn is not None and sn.restarting:
        sn.restarting = False
        sn.set_deadline(None)
    volumes.node_down(cluster, name, "went down")


def nodes_information(cluster: Cluster) -> list[dict[str, Any]]:
    by_node, loads = disks_by_node(cluster), disk_loads(cluster)
    return [{"name": n, **storage_node(cluster, n).properties(by_node.get(n, []), loads)}
            for n in cluster.database_node_names()]  # fmt: skip
