"""The disks of a node (/cluster1/n0011/d03_storage): OS, swap, data and storage disks carved
from the node's physical devices, and what EXAStorage makes of a storage disk (its HDD).

A node's physical devices come from its hardware profile (``devices``: name and size; without
them, one device per disk of the default layout, sized like it). A disk takes ``disksize`` GiB
times its copies (RAID) spread evenly over its devices; the devices' sizes bound what fits.

A disk's settings (``values``) are what the node gets at its next boot; ``installed`` is what it
has now. A node that is powered off takes a change at once (it boots with it); a node that runs
keeps its disks until its next boot, and :func:`pending_layout` names what is waiting (the node's
install mode can read it). Only :func:`add_storage_disk` and :meth:`NodeDisk.add_device` change a
running node's disks directly, as EXAoperation allows.

A storage disk of a database node is an HDD to EXAStorage: the disks of the default layout are
in EXAStorage from the start, a storage disk added later is an unused device until the storage
node's ``addUnusedDevices`` takes it in. Volumes place their segments on these HDDs
(model/volumes.py), and the space they take is the disk's used space in ``getDiskStates``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from exaop.model.configurable import Configurable
from exaop.model.errors import NotFound, UsageError
from exaop.model.lists import STATIC, list_of
from exaop.model.schema import Field, Schema

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster
    from exaop.model.node import Node

OS, SWAP, DATA, STORAGE = "OS", "Swap", "Data", "Storage"
DISK_TYPES = tuple(STATIC["DiskTypes"])
RAID_TYPES = tuple(STATIC["RaidTypes"])
ENCRYPTIONS = tuple(STATIC["EncrTypes"])
MOUNTED = (OS, DATA)  # disks with a file system the node mounts at boot
MAX_MOUNTS = 20  # a mounted file system is checked at the boot that reaches this count
SECTOR_SIZE = 512


def gib_text(x: float) -> str:
    """GiB as getDiskStates shows them: text, at most two decimals ('1500', '1293.33')."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def devices_of(cluster: Cluster, node_name: str) -> dict[str, float]:
    """The node's physical devices and their sizes in GiB."""
    hw = cluster.hardware_of(cluster.nodes[node_name])
    if hw.get("devices"):
        return {str(d["name"]): float(d["size_gib"]) for d in hw["devices"]}
    return {_derived_device(i): float(d["size_gib"]) for i, d in enumerate(hw.get("disks", []))}


def _derived_device(i: int) -> str:
    return f"/dev/sd{chr(97 + i)}"


def default_layout(cluster: Cluster, node_name: str) -> list[dict[str, Any]]:
    """The default disk layout of the node's hardware profile, as disk settings."""
    hw = cluster.hardware_of(cluster.nodes[node_name])
    names = list(devices_of(cluster, node_name))
    layout = []
    for i, d in enumerate(hw.get("disks", [])):
        devices = list(d.get("devices") or ([_derived_device(i)] if not hw.get("devices") else names[:1]))
        layout.append({
            "number": int(str(d["name"])[1:3]) if str(d["name"])[1:3].isdigit() else i,
            "values": {"devices": devices, "disk_number": -1, "diskenc": d.get("encryption", "none"),
                       "disklabel": "", "diskraid": d.get("raid", "none"), "disksize": int(d["size_gib"]),
                       "disktype": d["type"], "raidredundancy": 2},
        })  # fmt: skip
    return layout


def disk_name(number: int, disk_type: str) -> str:
    return f"d{number:02d}_{disk_type.lower()}"


def copies(values: dict[str, Any]) -> int:
    """How many copies of each block the disk's RAID keeps."""
    raid = values.get("diskraid", "none")
    if raid == "RAID 1":
        return max(2, len(values.get("devices", [])))
    if raid == "RAID 10":
        return int(values.get("raidredundancy") or 2)
    return 1


def _node_devices(disk: Any) -> list[str]:
    return list(devices_of(disk.cluster, disk.parent)) if disk.parent in disk.cluster.nodes else []


def _raid_redundancy(obj: Any, value: int) -> None:
    if value < 2:
        raise UsageError(f"raidredundancy must be at least 2, got {value}")


class NodeDisk(Configurable):
    kind = "node_disk"
    TITLE = "node disk"
    SCHEMA = Schema("node disk", [
        Field("devices", "List", "The node's devices the disk is made of ([]: its devices with free space).",
              choices=_node_devices),
        Field("disk_number", "Int", "The number in the disk's name (d03_storage: 3); -1 or left out: the "
              "lowest free one.", default=-1, minimum=-1, maximum=99, add_only=True),
        Field("diskenc", "Choice", "Encryption of the disk.", default="none", choices=ENCRYPTIONS),
        Field("disklabel", "TextLine", "A label for the disk."),
        Field("diskraid", "Choice", "Software RAID over the disk's devices.", default="none", choices=RAID_TYPES),
        Field("disksize", "Int", "Size in GiB; 0 or left out: as large as the devices allow.", minimum=0,
              maximum=1 << 24),
        Field("disktype", "Choice", "What the disk is for.", required=True, add_only=True, choices=DISK_TYPES),
        Field("raidredundancy", "Int", "Copies of each block with RAID 10.", default=2, minimum=1, maximum=16,
              check=_raid_redundancy),
    ])  # fmt: skip

    def __init__(self, cluster: Cluster, name: str, parent: str = "") -> None:
        super().__init__(cluster, name, parent)
        self.installed: dict[str, Any] | None = None  # what the node has now: size, devices, raid, enc
        self.deleting = False  # deleted, with effect at the node's next boot
        self.mount_count = 0
        self.checksums_fixed: float | None = None
        #: EXAStorage's view of a storage disk of a database node (None: not a storage disk there)
        self.hdd: dict[str, Any] | None = None
        #: GiB on each device when a device was appended on a running node (None: the size is spread
        #: evenly over the devices, as a disk is made)
        self.extents: dict[str, float] | None = None

    # -- persistence -----------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {"installed": self.installed, "deleting": self.deleting, "mount_count": self.mount_count,
                "checksums_fixed": self.checksums_fixed, "hdd": self.hdd, "extents": self.extents}  # fmt: skip

    def load(self, rec: dict[str, Any]) -> None:
        self.installed = rec.get("installed")
        self.deleting = bool(rec.get("deleting", False))
        self.mount_count = int(rec.get("mount_count", 0))
        self.checksums_fixed = rec.get("checksums_fixed")
        self.hdd = rec.get("hdd")
        self.extents = rec.get("extents")

    # -- naming -----------------------------------------------------------------------------

    @classmethod
    def new_name(cls, cluster: Cluster, values: dict[str, Any], parent: str) -> str:
        number = values.get("disk_number", -1)
        if number < 0:
            number = free_number(cluster, parent)
        return disk_name(number, values["disktype"])

    @property
    def node(self) -> Node:
        return self.cluster.nodes[self.parent]

    @property
    def number(self) -> int:
        return int(self.name[1:3])

    @property
    def type(self) -> str:
        return str(self.values["disktype"])

    # -- rules -------------------------------------------------------------------------------

    def check(self, values: dict[str, Any], creating: bool) -> None:
        if self.parent not in self.cluster.nodes:
            raise NotFound(f"Object {self.parent} (node) not found")
        others = [d for d in disks_of(self.cluster, self.parent) if d is not self and not d.deleting]
        if creating:
            number = values.get("disk_number", -1)
            if number >= 0 and any(d.number == number for d in disks_of(self.cluster, self.parent)):
                raise UsageError(f"disk_number {number} is taken on {self.parent}")
            if values["disktype"] in (OS, SWAP) and any(d.type == values["disktype"] for d in others):
                raise UsageError(f"{self.parent} already has a {values['disktype']} disk")
        devices = values["devices"]
        if not devices:
            raise UsageError(f"{self.parent} has no device with free space for the disk; name its devices")
        raid = values["diskraid"]
        if raid == "RAID 1" and len(devices) < 2:
            raise UsageError("diskraid RAID 1 mirrors over at least 2 devices")
        if raid == "RAID 10" and len(devices) < max(2, values["raidredundancy"]):
            raise UsageError(f"diskraid RAID 10 with raidredundancy {values['raidredundancy']} needs at least "
                             f"{max(2, values['raidredundancy'])} devices")  # fmt: skip
        if values["disksize"] < 1:
            raise UsageError(f"the devices {', '.join(devices)} of {self.parent} have no free space left")
        free = device_free(self.cluster, self.parent, exclude=self)
        for dev, share in allocation(values, None if creating else self.extents_for(values)).items():
            if share > free.get(dev, 0.0) + 1e-9:
                raise UsageError(
                    f"disksize {values['disksize']} GiB needs {gib_text(share)} GiB on {dev} of {self.parent}, "
                    f"which has {gib_text(free.get(dev, 0.0))} GiB free"
                )
        if not creating:
            self._check_segments(values)

    def _check_segments(self, values: dict[str, Any]) -> None:
        """A storage disk that holds volume segments keeps its devices and at least their size."""
        load = disk_load(self.cluster, self.parent, self.name)
        if not load:
            return
        for f in ("devices", "diskraid", "diskenc"):
            if values[f] != self.values[f]:
                raise UsageError(
                    f"{f} of {self.name} on {self.parent} cannot change: it holds {gib_text(load)} GiB of volume "
                    "segments; move them first"
                )
        if values["disksize"] < load:
            raise UsageError(
                f"disksize {values['disksize']} GiB of {self.name} on {self.parent} is below the "
                f"{gib_text(load)} GiB its volume segments take"
            )

    def check_delete(self) -> None:
        load = disk_load(self.cluster, self.parent, self.name)
        if load:
            vols = sorted(v.vid for v in self.cluster.volumes.values()
                          if v.disk == self.name and self.parent in v.load())  # fmt: skip
            raise UsageError(f"{self.name} of {self.parent} holds segments of volume(s) {', '.join(vols)} "
                             f"({gib_text(load)} GiB); remove or move them first")  # fmt: skip

    def extents_for(self, values: dict[str, Any]) -> dict[str, float] | None:
        """This disk's extents while ``values`` keep the layout they were made for."""
        same = all(values.get(f) == self.values.get(f) for f in ("devices", "disksize", "diskraid"))
        return self.extents if same else None

    def edit(self, values: Any) -> list[str]:
        if isinstance(values, dict) and values.get("disksize") in (0, "0"):
            values = {**values, "disksize": max_size(self.cluster, self.parent, {**self.values, **values}, self)}
        changed = super().edit(values)
        if {"devices", "disksize", "diskraid"} & set(changed):
            self.extents = None  # a new layout: spread evenly again, as check() found it fits
        if changed:
            take_effect(self.cluster, self.parent)
        return changed

    def added(self) -> None:
        self.values["disk_number"] = self.number

    # -- running nodes ----------------------------------------------------------------------

    def add_device(self, device: Any) -> None:
        """Append a device to this disk of a running node; the disk grows at once."""
        reason = self.not_extendable(device if isinstance(device, str) else None)
        if reason:
            raise UsageError(reason)
        free = device_free(self.cluster, self.parent)
        extents = {**allocation(self.values, self.extents), device: float(int(free[device]))}
        new = {**self.values, "devices": [*self.values["devices"], device]}
        new["disksize"] = int(self.values["disksize"] + free[device])
        self.values = new
        self.extents = extents
        assert self.installed is not None
        self.installed = {**self.installed, "devices": list(new["devices"]), "size": new["disksize"]}
        self.changed()
        size = new["disksize"]
        self.cluster.log("EXAoperation", self.parent, "Notice",
                         f"device {device} added to {self.name} of {self.parent}: now {size} GiB")  # fmt: skip

    def not_extendable(self, device: str | None = None) -> str:
        """Why no device can be added to this disk now ('' when one can)."""
        if not isinstance(device, str | None):
            return "device must be a device name such as /dev/sdc"
        if not self.node.online:
            return f"{self.parent} is {self.node.status.lower()}; devices are added to the disks of a running node"
        if self.installed is None or self.deleting or self.pending():
            return f"{self.name} of {self.parent} has changes waiting for the next boot"
        if self.values["diskraid"] != "none":
            return f"{self.name} uses {self.values['diskraid']}; only disks without RAID can grow on a running node"
        free = device_free(self.cluster, self.parent)
        taken = {dev for x in disks_of(self.cluster, self.parent) for dev in x.values["devices"]}
        unused = [d for d, gib in free.items() if gib >= 1 and d not in taken]
        if device is None:
            return "" if unused else f"{self.parent} has no unused device"
        if device not in free:
            return f"{self.parent} has no device {device}; its devices: {', '.join(free)}"
        if device not in unused:
            return f"{device} of {self.parent} is already used by a disk"
        return ""

    # -- views --------------------------------------------------------------------------------

    def pending(self) -> list[str]:
        """What changes at the node's next boot (empty: nothing)."""
        if self.deleting:
            return ["deleted"]
        if self.installed is None:
            return ["added"]
        want = installed_form(self.cluster, self)
        return sorted(k for k in want if want[k] != self.installed.get(k))

    def state_dict(self) -> dict[str, Any]:
        """The disk as getDiskStates shows it (installed disks only)."""
        inst = self.installed or {}
        size = float(inst.get("size", 0))
        used = disk_load(self.cluster, self.parent, self.name) if self.type == STORAGE else 0.0
        mounted = self.type in MOUNTED
        if not self.node.online:
            state = "offline"
        elif self.hdd is not None and self.hdd["in_storage"] and not self.hdd["enabled"]:
            state = "disabled"
        else:
            state = "online"
        return {
            "name": self.name,
            "size": gib_text(size),
            "free": gib_text(size - used),
            "type": f"disk-type-{self.type.lower()}",
            "state": state,
            "devices": list(inst.get("devices", [])),
            "raid": inst.get("raid", "none"),
            "encr": inst.get("enc", "none"),
            "mount_count": self.mount_count if mounted else 0,
            "next_fsck": MAX_MOUNTS - self.mount_count if mounted else 0,
        }

    def info(self) -> dict[str, Any]:
        from exaop.model.logs import strtime

        out = self.state_dict() if self.installed is not None else {"name": self.name, "type":
                                                                     f"disk-type-{self.type.lower()}"}  # fmt: skip
        out.update({
            "label": self.values.get("disklabel", ""),
            "installed": self.installed is not None,
            "pending_changes": self.pending(),
            "settings": self.properties(),
            "in_storage": bool(self.hdd and self.hdd["in_storage"]),
            "checksums_fixed": strtime(self.checksums_fixed) if self.checksums_fixed else "",
        })  # fmt: skip
        return out


# -- a node's disks --------------------------------------------------------------------------------


def disks_of(cluster: Cluster, node_name: str) -> list[NodeDisk]:
    """The node's disks (pending deletions included), by number."""
    return sorted(cluster.objects(NodeDisk.kind, node_name), key=lambda d: d.number)


def disks_by_node(cluster: Cluster) -> dict[str, list[NodeDisk]]:
    """Every node's disks in one pass (for loops over many nodes), by number."""
    out: dict[str, list[NodeDisk]] = {}
    for d in cluster.table(NodeDisk.kind).values():
        out.setdefault(d.parent, []).append(d)
    for found in out.values():
        found.sort(key=lambda d: d.number)
    return out


def disk_of(cluster: Cluster, node_name: str, name: Any) -> NodeDisk:
    obj = cluster.table(NodeDisk.kind).get(f"{node_name}/{name}") if isinstance(name, str) else None
    if obj is None:
        raise NotFound(f"Object {name} (disk) not found on {node_name}")
    return obj  # type: ignore[no-any-return]


def free_number(cluster: Cluster, node_name: str) -> int:
    taken = {d.number for d in disks_of(cluster, node_name)}
    n = 0
    while n in taken:
        n += 1
    if n > 99:
        raise UsageError(f"{node_name} has no free disk number left")
    return n


def allocation(values: dict[str, Any], extents: dict[str, float] | None = None) -> dict[str, float]:
    """GiB a disk of ``values`` takes on each of its devices: its size (times its RAID's copies)
    spread evenly, or ``extents`` where devices were appended to it one by one."""
    if extents is not None and list(extents) == list(values["devices"]):
        return dict(extents)
    share = values["disksize"] * copies(values) / max(1, len(values["devices"]))
    return {dev: share for dev in values["devices"]}


def device_free(cluster: Cluster, node_name: str, exclude: NodeDisk | None = None) -> dict[str, float]:
    """GiB free on each device of the node under the configured layout (``exclude`` left out)."""
    free = devices_of(cluster, node_name)
    for d in disks_of(cluster, node_name):
        if d is exclude or d.deleting:
            continue
        for dev, gib in allocation(d.values, d.extents_for(d.values)).items():
            if dev in free:
                free[dev] -= gib
    return free


def max_size(cluster: Cluster, node_name: str, values: dict[str, Any], exclude: NodeDisk | None) -> int:
    """The largest disk of ``values``' devices and RAID that fits (0 when none does)."""
    devices = values.get("devices") or []
    free = device_free(cluster, node_name, exclude)
    if not devices or any(d not in free for d in devices):
        return 0
    return max(0, int(min(free[d] for d in devices) * len(devices) / copies(values)))


def disk_load(cluster: Cluster, node_name: str, disk: str) -> float:
    """GiB of volume segments placed on the node's disk ``disk``."""
    return sum(v.load().get(node_name, 0.0) for v in cluster.volumes.values() if v.disk == disk)


def disk_loads(cluster: Cluster) -> dict[tuple[str, str], float]:
    """GiB of volume segments on every (node, disk), in one pass over the volumes."""
    out: dict[tuple[str, str], float] = {}
    for v in cluster.volumes.values():
        for node, gib in v.load().items():
            out[(node, v.disk)] = out.get((node, v.disk), 0.0) + gib
    return out


def installed_form(cluster: Cluster, disk: NodeDisk) -> dict[str, Any]:
    v = disk.values
    return {"size": v["disksize"], "devices": list(v["devices"]), "raid": v["diskraid"], "enc": v["diskenc"]}


def pending_layout(cluster: Cluster, node_name: str) -> list[str]:
    """The node's disk changes waiting for its next boot, e.g. ['d04_storage: added']."""
    return [f"{d.name}: {', '.join(d.pending())}" for d in disks_of(cluster, node_name) if d.pending()]


def take_effect(cluster: Cluster, node_name: str) -> None:
    """A node that is not powered (off or crashed) gets its configured layout at once: it boots with it."""
    if cluster.nodes[node_name].state not in ("off", "crashed"):
        pending = pending_layout(cluster, node_name)
        if pending:
            cluster.log("EXAoperation", node_name, "Notice",
                        f"disk changes of {node_name} take effect at its next boot: {'; '.join(pending)}")  # fmt: skip
        return
    apply_layout(cluster, node_name)


def apply_layout(cluster: Cluster, node_name: str) -> list[str]:
    """Give the node its configured disks (at its boot, or at once while it is off). Returns what changed."""
    done = []
    storage_node = not cluster.nodes[node_name].license_server
    for d in disks_of(cluster, node_name):
        if d.deleting:
            cluster.delete_object(d)
            done.append(f"{d.name} deleted")
            continue
        want = installed_form(cluster, d)
        if d.installed == want:
            continue
        rebuilt = d.installed is None or any(want[k] != d.installed.get(k) for k in ("devices", "raid", "enc"))
        d.installed = want
        if d.type == STORAGE and storage_node:
            if rebuilt or d.hdd is None:
                d.hdd = new_hdd(want["size"], in_storage=False)
            else:
                d.hdd = {**d.hdd, "size": min(float(d.hdd["size"]), float(want["size"]))}
        else:
            d.hdd = None
        if rebuilt:
            d.mount_count = 0
        d.changed()
        done.append(f"{d.name} {'made' if rebuilt else 'resized'} ({want['size']} GiB)")
    if done:
        cluster.log("EXAoperation", node_name, "Notice", f"disks of {node_name}: {'; '.join(done)}")
    return done


def new_hdd(size: float, in_storage: bool) -> dict[str, Any]:
    return {"size": float(size), "in_storage": in_storage, "enabled": True, "io_errors": 0, "crc_error": False,
            "read_only": False}  # fmt: skip


# -- the default layout ------------------------------------------------------------------------------


def seed_node(cluster: Cluster, node_name: str) -> None:
    """Give a new node the default layout of its hardware profile, installed (call for nodes added
    after the cluster was made, such as addNode's)."""
    if node_name in cluster.storage.seeded:
        return
    storage_node = not cluster.nodes[node_name].license_server
    for entry in default_layout(cluster, node_name):
        values = entry["values"]
        disk = NodeDisk(cluster, disk_name(entry["number"], values["disktype"]), node_name)
        disk.values = {**values, "disk_number": entry["number"]}
        disk.installed = installed_form(cluster, disk)
        if disk.type == STORAGE and storage_node:
            disk.hdd = new_hdd(values["disksize"], in_storage=True)
        cluster._add(disk)
    if storage_node:
        from exaop.model.storage_nodes import storage_node as make  # imports this module

        make(cluster, node_name)
    cluster.storage.seeded.append(node_name)
    cluster.storage.changed()


def seed_layouts(cluster: Cluster) -> None:
    """Every node without its disks yet gets the default layout (a new cluster, or a state dir
    made before nodes had disks)."""
    for name in sorted(cluster.nodes):
        seed_node(cluster, name)


# -- what the Node object offers ---------------------------------------------------------------------


def _resolved(cluster: Cluster, node_name: str, values: Any) -> dict[str, Any]:
    """A new disk's settings with devices and size filled in: an unused device of the node, else
    the one with the most free space, and the largest size it allows."""
    cluster.node(node_name)
    clean = NodeDisk.SCHEMA.validate(values, NodeDisk(cluster, "", node_name), creating=True)
    given = dict(values)
    if not clean["devices"]:
        free = device_free(cluster, node_name)
        used = {dev for d in disks_of(cluster, node_name) if not d.deleting for dev in d.values["devices"]}
        roomy = sorted((d for d, gib in free.items() if gib >= 1), key=lambda d: -free[d])
        clean["devices"] = given["devices"] = ([d for d in roomy if d not in used] or roomy)[:1]
    if not clean["disksize"]:
        given["disksize"] = max_size(cluster, node_name, clean, None)
    return given


def add_node_disk(cluster: Cluster, node_name: str, values: Any) -> NodeDisk:
    """addNodeDisk: a disk from its settings, made at the node's next boot (at once while it is off)."""
    disk = cluster.add_object(NodeDisk, _resolved(cluster, node_name, values), node_name)
    assert isinstance(disk, NodeDisk)
    take_effect(cluster, node_name)
    return disk


def add_storage_disk(cluster: Cluster, node_name: str, devices: Any, enc: Any = "none", label: Any = "",
                     size: Any = 0, number: Any = None) -> NodeDisk:  # fmt: skip
    """addStorageDisk: a storage disk without RAID on a running node, made at once. EXAStorage
    takes it in with the storage node's addUnusedDevices."""
    node = cluster.node(node_name)
    if not node.online:
        raise UsageError(f"{node.name} is {node.status.lower()}: addStorageDisk adds a disk to a running node "
                         "(addNodeDisk configures one for the next boot)")  # fmt: skip
    if not isinstance(devices, list) or not devices or not all(isinstance(d, str) for d in devices):
        raise UsageError("devices must be a non-empty list of device names")
    taken = {dev for d in disks_of(cluster, node.name) if not d.deleting for dev in d.values["devices"]}
    busy = [d for d in devices if d in taken]
    if busy:
        raise UsageError(f"device(s) {', '.join(map(str, busy))} of {node.name} are used by another disk")
    values: dict[str, Any] = {"devices": devices, "diskenc": enc, "disklabel": label, "disktype": STORAGE,
                              "disksize": size or 0}  # fmt: skip
    if number not in (None, "", -1):
        values["disk_number"] = number
    disk = cluster.add_object(NodeDisk, _resolved(cluster, node.name, values), node.name)
    assert isinstance(disk, NodeDisk)
    apply_layout_of(cluster, disk)
    return disk


def apply_layout_of(cluster: Cluster, disk: NodeDisk) -> None:
    """Make one disk of a running node at once (addStorageDisk)."""
    disk.installed = installed_form(cluster, disk)
    if not disk.node.license_server:
        disk.hdd = new_hdd(disk.installed["size"], in_storage=False)
    disk.changed()
    cluster.log("EXAoperation", disk.parent, "Notice", f"storage disk {disk.name} ({disk.installed['size']} GiB) "
                f"made on {disk.parent}; EXAStorage can take it in with addUnusedDevices")  # fmt: skip


def delete_disks(cluster: Cluster, node_name: str, names: Any) -> None:
    """deleteDisks: checked together first; a running node loses them at its next boot (a disk
    it never had goes at once)."""
    node = cluster.node(node_name)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise UsageError("deleteDisks takes a list of disk names")
    disks = [disk_of(cluster, node.name, n) for n in names]
    for d in disks:
        d.check_delete()
    for d in disks:
        if d.installed is None:  # never made: nothing waits for a boot
            cluster.delete_object(d)
        else:
            d.deleting = True
            d.changed()
    take_effect(cluster, node.name)


def apply_default_layout(cluster: Cluster, node_name: str) -> list[str]:
    """applyDefaultDiskLayout: the node's disks become its hardware profile's default layout
    (at its next boot while it runs). Disks holding volume segments must survive unchanged."""
    node = cluster.node(node_name)
    layout = {disk_name(e["number"], e["values"]["disktype"]): e for e in default_layout(cluster, node.name)}
    current = {d.name: d for d in disks_of(cluster, node.name)}
    for name, d in current.items():
        if name not in layout:
            d.check_delete()
        elif d.type == STORAGE and disk_load(cluster, node.name, name):
            new = layout[name]["values"]
            d._check_segments({**d.values, **{k: new[k] for k in ("devices", "diskraid", "diskenc", "disksize")}})
    for name, d in current.items():
        if name not in layout:
            d.deleting = True
            d.changed()
    for name, entry in layout.items():
        values = {**entry["values"], "disk_number": entry["number"]}
        d = current.get(name)
        if d is None:
            d = NodeDisk(cluster, name, node.name)
            d.values = values
            cluster._add(d)
        else:
            d.values = values
            d.deleting = False
            d.changed()
    cluster.log("EXAoperation", node.name, "Notice", f"default disk layout set for {node.name}")
    take_effect(cluster, node.name)
    return sorted(layout)


def fix_checksums(cluster: Cluster, node_name: str) -> list[str]:
    """fixChecksums: the checksums on the node's storage disks are written anew, which clears the
    CRC error flag EXAStorage shows for them (set when the node went down uncleanly)."""
    node = cluster.node(node_name)
    if not node.online:
        raise UsageError(f"{node.name} is {node.status.lower()}; checksums are fixed on a running node")
    fixed = []
    for d in disks_of(cluster, node.name):
        if d.installed is None:
            continue
        d.checksums_fixed = cluster.now
        if d.hdd is not None and d.hdd["crc_error"]:
            d.hdd = {**d.hdd, "crc_error": False}
            fixed.append(d.name)
        d.changed()
    cluster.log("EXAoperation", node.name, "Notice", f"checksums of the disks of {node.name} written anew" +
                (f"; CRC errors cleared on {', '.join(fixed)}" if fixed else ""))  # fmt: skip
    return fixed


def device_info(cluster: Cluster, node_name: str) -> list[dict[str, Any]]:
    """getDeviceInfo: each physical device, its size, what the configured disks take of it."""
    node = cluster.node(node_name)
    free = device_free(cluster, node.name)
    out = []
    for dev, size in devices_of(cluster, node.name).items():
        users = [d.name for d in disks_of(cluster, node.name) if not d.deleting and dev in d.values["devices"]]
        out.append({"name": dev, "size": gib_text(size), "free": gib_text(max(0.0, free[dev])), "disks": users,
                    "sector_size": SECTOR_SIZE})  # fmt: skip
    return out


def disk_states(cluster: Cluster, node_name: str) -> list[dict[str, Any]]:
    return [d.state_dict() for d in disks_of(cluster, node_name) if d.installed is not None]


def node_booted(cluster: Cluster, node: Node) -> None:
    """The node finished a boot: waiting disk changes are made, mounted file systems counted
    (and checked when due, or when the node's force_fsck is set)."""
    apply_layout(cluster, node.name)
    forced = bool(getattr(node, "force_fsck", False))
    skip = bool(getattr(node, "force_no_fsck", False))
    for d in disks_of(cluster, node.name):
        if d.type not in MOUNTED or d.installed is None:
            continue
        d.mount_count += 1
        if (forced or d.mount_count >= MAX_MOUNTS) and not skip:
            d.mount_count = 0
            cluster.log("EXAoperation", node.name, "Notice", f"file system of {d.name} on {node.name} checked")
        d.changed()


# -- lists ----------------------------------------------------------------------------------------------


def _names(c: Cluster, types: tuple[str, ...]) -> list[str]:
    by_node = disks_by_node(c)
    return sorted({d.name for n in c.database_node_names() for d in by_node.get(n, []) if d.type in types and not
                   d.deleting})  # fmt: skip


@list_of("Disks")
def _disks(c: Cluster) -> list[str]:
    return _names(c, DISK_TYPES)


@list_of("DataDisks")
def _data_disks(c: Cluster) -> list[str]:
    return _names(c, (DATA,))


@list_of("StorageDisks")
def _storage_disks(c: Cluster) -> list[str]:
    return _names(c, (STORAGE,))
