"""A storage node's HDD (/cluster1/storage/n0011/d03_storage): a storage disk as EXAStorage sees it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from exaop.faces.exaoperation.dispatch import Context
from exaop.faces.exaoperation.objects.common import COMMON
from exaop.faces.exaoperation.registry import ObjectType
from exaop.model.disks import NodeDisk
from exaop.model.storage_nodes import StorageNode, enlargeable, hdd_properties

HDD = ObjectType("StorageNodeHDD")
m = HDD.method


@dataclass(frozen=True)
class Hdd:
    node: StorageNode
    disk: NodeDisk


@m("getProperties", "read", "The HDD: name, hid, type, disk, state ('online', 'offline', 'disabled' or "
   "'unused'), size and used (GiB), num_sectors, sector_size, io_error (count), crc_error, read_only and "
   "enlargeable.", returns="struct")  # fmt: skip
def get_properties(ctx: Context, h: Hdd) -> dict[str, Any]:
    return hdd_properties(h.node, h.disk)


@m("isEnlargeable", "read", "Whether the HDD is smaller than its disk, so that enlargeDevices can grow it.",
   returns="boolean")  # fmt: skip
def is_enlargeable(ctx: Context, h: Hdd) -> bool:
    return enlargeable(h.disk)


HDD.include(COMMON)
