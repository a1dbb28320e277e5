"""A node of a volume (/cluster1/storage/v0000/n0011): the copies of segments it holds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from exaop.faces.exaoperation.dispatch import Context
from exaop.faces.exaoperation.objects.common import COMMON
from exaop.faces.exaoperation.objects.storage_volume_node_segment import SEGMENT, Segment
from exaop.faces.exaoperation.registry import ObjectType
from exaop.model import volumes
from exaop.model.volumes import Volume

VOLUME_NODE = ObjectType("StorageVolumeNode")
m = VOLUME_NODE.method
OK = "OK"


@dataclass(frozen=True)
class VolumeNode:
    volume: Volume
    node: str


def _segment(ctx: Context, vn: VolumeNode, name: str) -> tuple[ObjectType, Any]:
    return SEGMENT, Segment(vn.volume, vn.node, volumes.segment_sid(vn.volume, vn.node, name))


VOLUME_NODE.child = _segment


@m("getProperties", "read", "The volume, the node, the names of its segment copies, the GiB they take on the "
   "node's disk, their state and when a running recovery ends.", returns="struct")  # fmt: skip
def get_properties(ctx: Context, vn: VolumeNode) -> dict[str, Any]:
    return volumes.volume_node(ctx.cluster, vn.volume, vn.node)


@m("getAllSegments", "read", "The names of the segment copies on this node (s + the segment id).",
   returns="array")  # fmt: skip
def all_segments(ctx: Context, vn: VolumeNode) -> list[str]:
    return [volumes.segment_name(s) for s in vn.volume.sids_on(vn.node)]


@m("getSegmentsDescriptions", "read", "Every segment copy on this node, each as its getProperties describes it.",
   returns="array")  # fmt: skip
def get_segments_descriptions(ctx: Context, vn: VolumeNode) -> list[dict[str, Any]]:
    return [volumes.segment(ctx.cluster, vn.volume, vn.node, s) for s in vn.volume.sids_on(vn.node)]


@m("moveNode", "operate", "Hand this node's copies to another database node, which receives them by a recovery "
   "on the clock (getVolumeInfo lists it under 'recovering'). Refused unless EXAStorage is online, the target "
   "takes part in it, is not in the volume yet and its disk has room.")  # fmt: skip
def move_node(ctx: Context, vn: VolumeNode, destination: str) -> str:
    volumes.move_nodes(ctx.cluster, vn.volume, {vn.node: destination})
    return OK


@m("recoverNode", "operate", "Make this node's copies anew from the other copies, at the node's background "
   "recovery limit on the clock. Refused without redundancy, while a recovery runs, or while the node does not "
   "take part in EXAStorage.")  # fmt: skip
def recover_node(ctx: Context, vn: VolumeNode) -> str:
    volumes.recover(ctx.cluster, vn.volume, vn.node)
    return OK


@m("stopRecoverNode", "operate", "Stop the recovery running on this node; its copies stay stale (the volume "
   "degraded) until recovered. Refused when no recovery runs.")  # fmt: skip
def stop_recover_node(ctx: Context, vn: VolumeNode) -> str:
    volumes.stop_recovery(ctx.cluster, vn.volume, vn.node)
    return OK


VOLUME_NODE.children = all_segments
VOLUME_NODE.include(COMMON)
