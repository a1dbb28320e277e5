"""The disk methods of Node objects (/cluster1/n0011) and the disks below them (objects/node_disk.py).

Disk changes take effect at the node's next boot (at once while it is powered off); only
addStorageDisk and a disk's addDevice change a running node's disks directly.
"""

from __future__ import annotations

from typing import Any

from exaop.faces.exaoperation.dispatch import Context
from exaop.faces.exaoperation.objects.kinds import child_of, fields_help
from exaop.faces.exaoperation.objects.node import NODE
from exaop.faces.exaoperation.objects.node_disk import NODE_DISK  # noqa: F401 - the type of the children below
from exaop.model import disks
from exaop.model.disks import NodeDisk
from exaop.model.node import Node

m = NODE.method
OK = "OK"

NODE.child = child_of
NODE.children = lambda ctx, n: [o.name for o in ctx.cluster.children_of(n)]


@m("getDiskStates", "read", "The node's disks as it has them now: dictionaries with name, size and free "
   "(GiB, as text; a storage disk's used space is the volume copies on it), type ('disk-type-os', "
   "'disk-type-swap', 'disk-type-data', 'disk-type-storage'), state, devices, raid, encr, mount_count and "
   "next_fsck (mounts left before a file system check).", returns="array")  # fmt: skip
def get_disk_states(ctx: Context, n: Node) -> list[dict[str, Any]]:
    return disks.disk_states(ctx.cluster, n.name)


@m("getAllDisks", "read", "The names of the node's disks (with those waiting for the next boot).", returns="array")
def get_all_disks(ctx: Context, n: Node) -> list[str]:
    return [d.name for d in disks.disks_of(ctx.cluster, n.name)]


@m("getDiskInfo", "read", "One disk: its state as getDiskStates shows it, its label, whether it is in "
   "EXAStorage, its settings and the changes waiting for the next boot.", returns="struct")  # fmt: skip
def get_disk_info(ctx: Context, n: Node, diskname: str) -> dict[str, Any]:
    return disks.disk_of(ctx.cluster, n.name, diskname).info()


@m("getDeviceInfo", "read", "The node's physical devices: name, size and free (GiB, as text), the disks on "
   "it, sector_size.", returns="array")  # fmt: skip
def get_device_info(ctx: Context, n: Node) -> list[dict[str, Any]]:
    return disks.device_info(ctx.cluster, n.name)


@m("addNodeDisk", "operate", "Add a disk to the node: it is made at the node's next boot (at once while the "
   "node is powered off). Returns its name, like d04_storage.\n\nFields (a dictionary):\n"
   + fields_help(NodeDisk.SCHEMA, creating=True))  # fmt: skip
def add_node_disk(ctx: Context, n: Node, values: dict) -> str:
    return disks.add_node_disk(ctx.cluster, n.name, values).name


@m("addStorageDisk", "operate", "Make a storage disk (no RAID) on this running node at once, from devices no "
   "other disk uses: addStorageDisk(devices, enc, label, size, number) with enc 'none', 'aes128' or 'aes256', "
   "size in GiB (0: all the devices give) and number the disk number (None: the lowest free one). EXAStorage "
   "takes it in with its storage node's addUnusedDevices. Returns the disk's name.")  # fmt: skip
def add_storage_disk(ctx: Context, n: Node, devices: list, enc: str = "none", label: str = "", size: int = 0,
                     number: Any = None) -> str:  # fmt: skip
    return disks.add_storage_disk(ctx.cluster, n.name, devices, enc, label, size, number).name


@m("deleteDisks", "operate", "Delete the named disks (at the node's next boot; at once while it is powered "
   "off). Refused, for all of them, when one holds volume copies.")  # fmt: skip
def delete_disks(ctx: Context, n: Node, names: list) -> str:
    disks.delete_disks(ctx.cluster, n.name, names)
    return OK


@m("deleteSubObject", "operate", "Delete the disk of that name (as deleteDisks does for one).")
def delete_sub_object(ctx: Context, n: Node, name: str) -> str:
    disks.delete_disks(ctx.cluster, n.name, [name])
    return OK


@m("applyDefaultDiskLayout", "operate", "Give the node the default disk layout of its hardware profile (at its "
   "next boot; at once while it is powered off). Refused when a disk holding volume copies would go or "
   "change. Returns the disks of the layout.", returns="array")  # fmt: skip
def apply_default_disk_layout(ctx: Context, n: Node) -> list[str]:
    return disks.apply_default_layout(ctx.cluster, n.name)


@m("fixChecksums", "operate", "Write the checksums of the running node's disks anew; this clears the CRC error "
   "flag an unclean stop leaves on its EXAStorage devices. Returns the disks whose flag was cleared.",
   returns="array")  # fmt: skip
def fix_checksums(ctx: Context, n: Node) -> list[str]:
    return disks.fix_checksums(ctx.cluster, n.name)
