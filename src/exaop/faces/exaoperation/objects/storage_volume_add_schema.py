"""What addStorageVolume takes, with what a new volume gets (/cluster1/storage/volume_schema)."""

from __future__ import annotations

from typing import Any

from exaop.faces.exaoperation.dispatch import Context
from exaop.faces.exaoperation.objects.common import COMMON
from exaop.faces.exaoperation.objects.kinds import fields_help
from exaop.faces.exaoperation.registry import ObjectType
from exaop.model import volumes
from exaop.model.cluster import Cluster

NAME = "volume_schema"
VOLUME_ADD_SCHEMA = ObjectType("StorageVolumeAddSchema")


@VOLUME_ADD_SCHEMA.method("getProperties", "read", "addStorageVolume's fields with the values a new volume "
                          "would get now: every storage node, one segment per node, their first common "
                          "storage disk, redundancy 1 and the largest size that fits.\n\n"
                          + fields_help(volumes.ADD_SCHEMA, creating=True), returns="struct")  # fmt: skip
def get_properties(ctx: Context, c: Cluster) -> dict[str, Any]:
    return volumes.add_schema_defaults(c)


VOLUME_ADD_SCHEMA.include(COMMON)
