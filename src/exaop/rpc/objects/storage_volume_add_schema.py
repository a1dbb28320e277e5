"""What addStorageVolume takes, with what a new volume gets (/cluster1/storage/volume_schema)."""

from __future__ import annotations

from typing import Any

from exaop.model import volumes
from exaop.model.cluster import Cluster
from exaop.rpc.dispatch import Context
from exaop.rpc.objects.common import COMMON
from exaop.rpc.objects.kinds import fields_help
from exaop.rpc.registry import ObjectType

NAME = "volume_schema"
VOLUME_ADD_SCHEMA = ObjectType("StorageVolumeAddSchema")


@VOLUME_ADD_SCHEMA.method("getProperties", "read", "addStorageVolume's fields with the values a new volume "
                          "would get now: every storage node, one segment per node, their first common "
                          "storage disk, redundancy 1 and the largest size that fits.\n\n"
                          + fields_help(volumes.ADD_SCHEMA, creating=True), returns="struct")  # fmt: skip
def get_properties(ctx: Context, c: Cluster) -> dict[str, Any]:
    return volumes.add_schema_defaults(c)


VOLUME_ADD_SCHEMA.include(COMMON)
