"""A node's disk (/cluster1/n0011/d03_storage): its settings, and devices added while the node runs."""

from __future__ import annotations

from exaop.faces.exaoperation.dispatch import Context
from exaop.faces.exaoperation.objects.kinds import configurable_type
from exaop.model.disks import NodeDisk

NODE_DISK = configurable_type(
    NodeDisk,
    "NodeDisk",
    "editNodeDisk",
    read_help="This disk's settings (what the "
    "node gets at its next boot); getDiskInfo on the node shows what it has now.",
)
m = NODE_DISK.method
OK = "OK"


@m(
    "addDevice",
    "operate",
    "Append an unused device of the node to this disk while the node runs; the disk "
    "grows by the device's size at once (a storage disk's HDD then is enlargeable). Only disks without RAID.",
)
def add_device(ctx: Context, disk: NodeDisk, device: str) -> str:
    disk.add_device(device)
    return OK


@m("diskIsExtendable", "read", "Whether a device can be appended to this disk now (addDevice).", returns="boolean")
def disk_is_extendable(ctx: Context, disk: NodeDisk) -> bool:
    return not disk.not_extendable()
