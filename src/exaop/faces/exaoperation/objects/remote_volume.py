"""Remote archive volumes (/cluster1/r0000), and the cluster's methods for archive volumes."""

from __future__ import annotations

from exaop.faces.exaoperation.dispatch import Context
from exaop.faces.exaoperation.objects.cluster import CLUSTER
from exaop.faces.exaoperation.objects.kinds import configurable_type, fields_help
from exaop.model.cluster import Cluster
from exaop.model.remote_volumes import RemoteVolume, add_remote_volume, archive_volumes

REMOTE_VOLUME = configurable_type(RemoteVolume, "RemoteVolume", "editRemoteVolume")
m = REMOTE_VOLUME.method


@m("getVolumeId", "read", "The volume's virtual id (10000 + its number: 10001 for r0001).", returns="int")
def get_volume_id(ctx: Context, rv: RemoteVolume) -> int:
    return int(rv.values["vid"])


@m("state", "read", "Whether the remote archive can be used: 'OK' when its settings are complete (a user for "
   "ftp and smb), else what is missing. This cluster does not contact the remote server itself.")  # fmt: skip
def state(ctx: Context, rv: RemoteVolume) -> str:
    return rv.connectivity()


@CLUSTER.method(
    "addRemoteVolume",
    "operate",
    "Add a remote archive volume (backups kept on a server outside "
    "the cluster); it is listed with the volumes (getVolumeList, getAllArchiveVolumes) and takes "
    "backups like a local archive volume. Users may be given by id or login. Returns its name "
    "(r0000 ...).\n\nFields (a dictionary):\n" + fields_help(RemoteVolume.SCHEMA, creating=True),
)
def add_remote(ctx: Context, c: Cluster, values: dict) -> str:
    return add_remote_volume(c, values).name


@CLUSTER.method("getAllArchiveVolumes", "read", "Every archive volume: the local ones (v...), then the remote "
                "ones (r...).", returns="array")  # fmt: skip
def get_all_archive_volumes(ctx: Context, c: Cluster) -> list[str]:
    return archive_volumes(c)
