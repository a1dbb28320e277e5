"""The EXAStorage service object (/cluster1/storage): the service, its volumes and nodes.

Below it: the volumes (v0000 ..., faces/exaoperation/objects/storage_volume.py), the storage nodes (n0011 ...,
rpc/objects/storage_node.py) and volume_schema (faces/exaoperation/objects/storage_volume_add_schema.py).
"""

from __future__ import annotations

from typing import Any

from exaop.faces.exaoperation.dispatch import Context
from exaop.faces.exaoperation.objects.kinds import fields_help
from exaop.faces.exaoperation.objects.storage_node import STORAGE_NODE
from exaop.faces.exaoperation.objects.storage_volume import VOLUME
from exaop.faces.exaoperation.objects.storage_volume_add_schema import NAME as SCHEMA_NAME
from exaop.faces.exaoperation.objects.storage_volume_add_schema import VOLUME_ADD_SCHEMA
from exaop.faces.exaoperation.registry import ObjectType
from exaop.model import storage_nodes, volumes
from exaop.model.errors import UsageError
from exaop.model.storage import EDIT_SCHEMA, Storage

STORAGE = ObjectType("Storage")
m = STORAGE.method
OK = "OK"


def _child(ctx: Context, s: Storage, name: str) -> tuple[ObjectType, Any] | None:
    c = ctx.cluster
    vol = c.volumes.get(name)
    if vol is not None and not vol.remote:
        return VOLUME, vol
    if name in c.database_node_names():
        return STORAGE_NODE, storage_nodes.storage_node(c, name)
    if name == SCHEMA_NAME:
        return VOLUME_ADD_SCHEMA, c
    return None


STORAGE.child = _child
STORAGE.children = lambda ctx, s: [v.vid for v in volumes.local_volumes(ctx.cluster)] + [
    *ctx.cluster.database_node_names(), SCHEMA_NAME]  # fmt: skip


# -- the service ---------------------------------------------------------------------------------


@m("startEXAStorage", "operate", "Start EXAStorage on every database node except ignored_nodes, and "
   "answer 'OK' once it is online. Refused, naming them, while any of those nodes is not online.")  # fmt: skip
async def start_exastorage(ctx: Context, s: Storage, ignored_nodes: list | None = None) -> str:
    s.start(ignored_nodes or [])
    ctx.runtime.commit()
    await ctx.runtime.wait_until(lambda: s.settled)
    if not s.online:
        raise UsageError(s.last_error or "EXAStorage did not come online")
    return "OK"


@m("stopEXAStorage", "operate", "Stop EXAStorage and answer 'OK' once it has stopped. Refused while "
   "a database uses it.")  # fmt: skip
async def stop_exastorage(ctx: Context, s: Storage) -> str:
    s.stop()
    ctx.runtime.commit()
    await ctx.runtime.wait_until(lambda: s.settled)
    return "OK"


@m("serviceIsOnline", "read", "Whether EXAStorage is online.", returns="boolean")
def service_is_online(ctx: Context, s: Storage) -> bool:
    return s.online


@m("storageHasQuorum", "read", "Whether EXAStorage is online with more than half of its nodes.", returns="boolean")
def storage_has_quorum(ctx: Context, s: Storage) -> bool:
    return s.has_quorum()


@m("serviceHasAutoRestartFlag", "read", "Whether EXAStorage starts again by itself once all its nodes run, "
   "after it went down because a node went away.", returns="boolean")  # fmt: skip
def service_has_auto_restart_flag(ctx: Context, s: Storage) -> bool:
    return s.auto_restart


@m("setAutoRestartFlag", "operate", "Set (True, the default) or clear (False) the auto-restart flag: with it, "
   "an EXAStorage that was started and went down because a node went away starts again by itself when all "
   "its nodes run (not after stopEXAStorage).")  # fmt: skip
def set_auto_restart_flag(ctx: Context, s: Storage, flag: bool = True) -> str:
    s.set_auto_restart(flag)
    return OK


@m("getStorageInfo", "read", "EXAStorage's state, its nodes, the ignored and suspended ones, the last error, "
   "quorum, the auto-restart flag, its networks, and its space in GiB (size of the HDDs in it, used by "
   "volume copies, free).", returns="struct")  # fmt: skip
def get_storage_info(ctx: Context, s: Storage) -> dict[str, Any]:
    nodes = storage_nodes.nodes_information(ctx.cluster)
    size = round(sum(n["disk_sum_space"] for n in nodes), 2)
    used = round(sum(n["node_size"] for n in nodes), 2)
    return {
        "state": s.state,
        "online": s.online,
        "nodes": s.storage_nodes(),
        "ignored_nodes": list(s.ignored),
        "suspended_nodes": [n["name"] for n in nodes if n["state"] == "suspended"],
        "last_error": s.last_error,
        "quorum": s.has_quorum(),
        "auto_restart": s.auto_restart,
        "vlan_list": list(s.vlan_list),
        "volumes": volumes.volume_ids(ctx.cluster),
        "size": size,
        "used": used,
        "free": round(size - used, 2),
    }


@m("getProperties", "read", "EXAStorage's settings: vlan_list, the private networks it uses.", returns="struct")
def get_properties(ctx: Context, s: Storage) -> dict[str, Any]:
    return {"vlan_list": list(s.vlan_list)}


@m("editStorage", "operate", "Change EXAStorage's settings (only while it is stopped): a dictionary with "
   "vlan_list, the private networks to use ([]: the first one). Returns the names of the fields that "
   "changed.\n\n" + fields_help(EDIT_SCHEMA, creating=False),
   returns="array")  # fmt: skip
def edit_storage(ctx: Context, s: Storage, values: dict) -> list[str]:
    return s.edit(values)


@m("nodesInformation", "read", "Every storage node's EXAStorage figures (as its getProperties), by node name.",
   returns="struct")  # fmt: skip
def nodes_information(ctx: Context, s: Storage) -> dict[str, Any]:
    return {n["name"]: n for n in storage_nodes.nodes_information(ctx.cluster)}


@m("nodesListInformation", "read", "The storage nodes, each a dictionary with its name and EXAStorage figures.",
   returns="array")  # fmt: skip
def nodes_list_information(ctx: Context, s: Storage) -> list[dict[str, Any]]:
    return storage_nodes.nodes_information(ctx.cluster)


@m("checkNodeDiskInformation", "read", "The storage nodes whose disks can be checked now: running, with a "
   "storage disk.", returns="array")  # fmt: skip
def check_node_disk_information(ctx: Context, s: Storage) -> list[str]:
    return volumes.checkable_nodes(ctx.cluster)


@m("deleteMetadata", "operate", "Make EXAStorage forget its volumes and devices on every node: the volumes "
   "are gone and the storage disks become unused devices (addUnusedDevices takes them in again). Only while "
   "EXAStorage is stopped, every storage node runs and no volume is used. Returns the volumes forgotten.",
   returns="array")  # fmt: skip
def delete_metadata(ctx: Context, s: Storage) -> list[str]:
    return s.delete_metadata()


# -- volumes -----------------------------------------------------------------------------------------


@m("addStorageVolume", "operate", "Create a volume from a dictionary of its fields and return its id "
   "('v0000' ...). Its segments are placed by redundancy layer on nodes_list (masternodes segments, one "
   "list of nodes per layer in getVolumeInfo's 'segments'), each taking size / masternodes GiB of the "
   "hdd_type disk of its node. Refused, naming the field or the node, when EXAStorage is not online or a "
   "disk has no room. Users may be given by id or login.\n\nFields (a dictionary):\n"
   + fields_help(volumes.ADD_SCHEMA, creating=True))  # fmt: skip
def add_storage_volume(ctx: Context, s: Storage, values: dict) -> str:
    return volumes.add_storage_volume(ctx.cluster, values).vid


@m("getVolumeList", "read", "The volume ids: the local volumes (v0000 ...), then the remote archive volumes "
   "(r0000 ...).", returns="array")  # fmt: skip
def get_volume_list(ctx: Context, s: Storage) -> list[str]:
    return volumes.volume_ids(ctx.cluster)


@m("getVolumeInfo", "read", "A volume by id (or a remote volume by its name): vid, type, size (GiB), "
   "redundancy, num_master_nodes, disk, segments (one list of node names per redundancy layer), nodes, "
   "owner, state, usage (GiB used) and used_by, free, users, labels, priority, block_size, IO state, "
   "recovering and stale nodes, databases using it.", returns="struct")  # fmt: skip
def get_volume_info(ctx: Context, s: Storage, vid: str) -> dict[str, Any]:
    return volumes.info(ctx.cluster, volumes.volume(ctx.cluster, vid))


@m("volumeRemove", "operate", "Remove a volume by id. Refused while a database uses it, while it holds "
   "backups or files, or while EXAStorage is not online.")  # fmt: skip
def volume_remove(ctx: Context, s: Storage, vname: str) -> str:
    volumes.remove(ctx.cluster, volumes.volume(ctx.cluster, vname))
    return OK


@m("getArchiveFilesystems", "read", "The archive volumes the calling user may use, by id: [object type "
   "('StorageVolume' or 'RemoteVolume'), id, 'rw' or 'ro'].", returns="struct")  # fmt: skip
def get_archive_filesystems(ctx: Context, s: Storage) -> dict[str, list[str]]:
    c = ctx.cluster
    out = {}
    for vid in volumes.volume_ids(c):
        vol = c.volumes[vid]
        rights = volumes.access(c, vol, ctx.user)
        if vol.type == volumes.ARCHIVE and rights:
            out[vid] = ["RemoteVolume" if vol.remote else "StorageVolume", vid, rights]
    return out
