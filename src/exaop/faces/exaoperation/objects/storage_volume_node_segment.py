"""A copy of a volume's segment on a node (/cluster1/storage/v0000/n0011/s0000)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from exaop.faces.exaoperation.dispatch import Context
from exaop.faces.exaoperation.objects.common import COMMON
from exaop.faces.exaoperation.registry import ObjectType
from exaop.model import volumes
from exaop.model.volumes import Volume

SEGMENT = ObjectType("StorageVolumeNodeSegment")
m = SEGMENT.method


@dataclass(frozen=True)
class Segment:
    volume: Volume
    node: str
    sid: int


@m("getProperties", "read", "This copy of the segment: sid, index, layer, type ('master' or 'slave'), "
   "remote_sid (the master's, or its first copy's; -1 without redundancy), segment_size (KiB), start_block and "
   "end_block in the volume, state, snapshot_state (percent) and its partitions.", returns="struct")  # fmt: skip
def get_properties(ctx: Context, s: Segment) -> dict[str, Any]:
    return volumes.segment(ctx.cluster, s.volume, s.node, s.sid)


@m("getPartitions", "read", "Where this copy lies on the node's HDD: a list of dictionaries with hdd, offset "
   "and size (KiB).", returns="array")  # fmt: skip
def get_partitions(ctx: Context, s: Segment) -> list[dict[str, Any]]:
    return volumes.partitions(ctx.cluster, s.volume, s.node, s.sid)


SEGMENT.include(COMMON)
