"""EXAStorage volumes (/cluster1/storage/v0000): layout, size, users, files, IO state."""

from __future__ import annotations

from typing import Any

from exaop.faces.exaoperation.dispatch import Context
from exaop.faces.exaoperation.objects.common import COMMON
from exaop.faces.exaoperation.objects.kinds import fields_help
from exaop.faces.exaoperation.objects.storage_volume_node import VOLUME_NODE, VolumeNode
from exaop.faces.exaoperation.registry import ObjectType
from exaop.model import volumes
from exaop.model.errors import NotFound
from exaop.model.schema import Schema
from exaop.model.volumes import Volume

VOLUME = ObjectType("StorageVolume")
m = VOLUME.method
OK = "OK"


def _node(ctx: Context, vol: Volume, name: str) -> tuple[ObjectType, Any]:
    if name not in vol.nodes:
        raise NotFound(f"Object {name} not found in {ctx.url_path}: the volume has no part on it")
    return VOLUME_NODE, VolumeNode(vol, name)


VOLUME.child = _node
VOLUME.children = lambda ctx, vol: list(vol.nodes)


def users_help(schema: Schema) -> str:
    return fields_help(schema, creating=False)


@m("getProperties", "read", "The volume's settings in addStorageVolume's names (allowed_users and "
   "readonly_users as user ids).", returns="struct")  # fmt: skip
def get_properties(ctx: Context, vol: Volume) -> dict[str, Any]:
    return volumes.properties(ctx.cluster, vol)


@m("editStorageVolume", "operate", "Change the volume: a dictionary with any of these fields, checked together "
   "before anything changes; a new layout (nodes, masters, redundancy) needs EXAStorage online and room on the "
   "disks, and nodes that get more of the volume receive it by a recovery on the clock. Users may be given by "
   "id or login. Returns the names of the fields that changed.\n\n" + users_help(volumes.EDIT_SCHEMA),
   returns="array")  # fmt: skip
def edit_storage_volume(ctx: Context, vol: Volume, values: dict) -> list[str]:
    return volumes.edit(ctx.cluster, vol, values)


@m("resizeVolume", "operate", "Add this many GiB to the volume (a negative number shrinks it, never below the "
   "GiB in use). Needs EXAStorage online and room on the disks of the volume's nodes. Returns the new size.",
   returns="double")  # fmt: skip
def resize_volume(ctx: Context, vol: Volume, gib: int) -> float:
    return float(volumes.resize(ctx.cluster, vol, gib))  # a double, as its signature says, whole or not


@m("moveNodes", "operate", "Move the volume's copies from nodes to other nodes: a dictionary {node: new node}. "
   "The new nodes receive them by a recovery on the clock. Returns the volume's nodes afterwards.",
   returns="array")  # fmt: skip
def move_nodes(ctx: Context, vol: Volume, nodes_map: dict) -> list[str]:
    return volumes.move_nodes(ctx.cluster, vol, nodes_map)


@m("setIoState", "operate", "Turn IO with applications (app_io) and EXAStorage's internal IO (int_io) on or "
   "off; getVolumeInfo shows them as app_io_enabled and int_io_enabled.")  # fmt: skip
def set_io_state(ctx: Context, vol: Volume, app_io: bool, int_io: bool) -> str:
    volumes.set_io_state(ctx.cluster, vol, app_io, int_io)
    return OK


@m("getPermissions", "read", "Who may use the volume: a dictionary login -> 'rw' (read and write) or 'ro' "
   "(read only). Users with the Master role on the cluster may use every volume.", returns="struct")  # fmt: skip
def get_permissions(ctx: Context, vol: Volume) -> dict[str, str]:
    return volumes.permissions(ctx.cluster, vol)


@m("checkPermissions", "read", "Whether the calling user may use this volume (read or write).",
   returns="boolean")  # fmt: skip
def check_permissions(ctx: Context, vol: Volume) -> bool:
    return bool(volumes.access(ctx.cluster, vol, ctx.user))


@m("getFilesList", "read", "The files of this archive volume: dictionaries with id, size (GiB), expire "
   "('%Y-%m-%d %H:%M', '' for never) and backup (True for a database's backup, whose file id is "
   "'backup:<id>'). Refused on a data volume.", returns="array")  # fmt: skip
def get_files_list(ctx: Context, vol: Volume) -> list[dict[str, Any]]:
    return volumes.files(ctx.cluster, vol)


@m("removeFile", "operate", "Remove the file with this id from the archive volume. A database's backup is "
   "deleted with its database's backup methods instead.")  # fmt: skip
def remove_file(ctx: Context, vol: Volume, file_id: str) -> str:
    volumes.remove_file(ctx.cluster, vol, file_id)
    return OK


@m("setFileExpiration", "operate", "Remove the file at exptime (seconds since the epoch, UTC; 0: never) on the "
   "clock. Returns the time as '%Y-%m-%d %H:%M' ('' for never). Backups expire with changeBackupExpiration of "
   "their database.")  # fmt: skip
def set_file_expiration(ctx: Context, vol: Volume, file_id: str, exptime: int | float) -> str:
    return volumes.set_file_expiration(ctx.cluster, vol, file_id, exptime)


@m("formatFilesystem", "operate", "Make a fresh, empty file system on this archive volume; its files are gone. "
   "Refused on a data volume, while it holds backups, or while EXAStorage is not online.")  # fmt: skip
def format_filesystem(ctx: Context, vol: Volume) -> str:
    volumes.format_filesystem(ctx.cluster, vol)
    return OK


VOLUME.include(COMMON)
