"""Remote archive volumes (/cluster1/r0000): backups kept on a server outside the cluster.

A remote volume is its settings (URL, credentials, options, users) and, like every volume, an
entry in the cluster's volumes under the same name (``Volume.remote``), so that backups go to
it as to a local archive volume and every volume listing shows it. This cluster contacts no
remote server: the URL and options are checked for form only, and the volume is reachable as
soon as its settings are valid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from exaop.model import volumes
from exaop.model.configurable import Configurable
from exaop.model.errors import UsageError
from exaop.model.schema import Field, Schema

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster

SCHEMES = ("ftp", "ftps", "smb", "nfs", "http", "https")
OPTIONS = ("cleanvolume", "noverifypeer", "nocompression", "forcessl", "webdav", "webhdfs", "delegation_token",
           "s3")  # fmt: skip
VIRTUAL_BASE = 10_000  # r0001 has the virtual volume id 10001


def _url(obj: Any, value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in SCHEMES or not (parts.netloc or parts.path.strip("/")):
        raise UsageError(f"url {value!r} is not a remote archive URL such as ftp://192.168.2.1:12345/backups "
                         f"(schemes: {', '.join(SCHEMES)})")  # fmt: skip


def _options(obj: Any, value: str) -> None:
    given = [o.strip() for o in value.split(",") if o.strip()]
    unknown = [o for o in given if o not in OPTIONS]
    if unknown:
        raise UsageError(f"options: unknown option(s) {', '.join(unknown)}; known: {', '.join(OPTIONS)}")


class RemoteVolume(Configurable):
    kind = "remote_volume"
    TITLE = "remote volume"
    SCHEMA = Schema("remote volume", [
        Field("allowed_users", "List", f"{volumes.USERS_DOC} who may read and write the volume.", required=True,
              items="Int", check=volumes.check_users),
        Field("labels", "List", "Labels to tell the volume by."),
        Field("options", "TextLine", "Comma-separated options: " + ", ".join(OPTIONS) + ".", check=_options),
        Field("password", "Password", "Password on the remote server."),
        Field("readonly_users", "List", f"{volumes.USERS_DOC} who may only read the volume.", required=True,
              items="Int", check=volumes.check_users),
        Field("url", "TextLine", "Where the archive is, such as ftp://192.168.2.1:12345/backups or "
              "smb://192.168.2.1/share.", required=True, check=_url),
        Field("user", "TextLine", "User name on the remote server."),
        Field("vid", "Int", "The volume's virtual id (10000 + its number).", read_only=True),
    ])  # fmt: skip

    @classmethod
    def new_name(cls, cluster: Cluster, values: dict[str, Any], parent: str) -> str:
        n = 0
        while not cluster.name_free(f"r{n:04d}", cls, parent) or f"r{n:04d}" in cluster.volumes:
            n += 1
        return f"r{n:04d}"

    @property
    def volume(self) -> volumes.Volume:
        return self.cluster.volumes[self.name]

    def edit(self, values: Any) -> list[str]:
        return super().edit(volumes.user_ids(self.cluster, values))

    def added(self) -> None:
        self.values["vid"] = VIRTUAL_BASE + int(self.name[1:])
        vol = volumes.Volume(self.cluster, self.name)
        vol.type, vol.remote = volumes.ARCHIVE, True
        self._sync(vol)
        self.cluster._add(vol)

    def edited(self, changed: list[str], before: dict[str, Any]) -> None:
        self._sync(self.volume)

    def _sync(self, vol: volumes.Volume) -> None:
        vol.labels = list(self.values["labels"])
        vol.allowed_users = list(self.values["allowed_users"])
        vol.readonly_users = list(self.values["readonly_users"])
        vol.changed()

    def check_delete(self) -> None:
        vol = self.volume
        backups = sorted(k[len(volumes.BACKUP_PREFIX) :] for k in vol.usage if k.startswith(volumes.BACKUP_PREFIX))
        if backups:
            raise UsageError(f"remote volume {self.name} holds backup(s) {', '.join(backups)}; delete them first")
        if vol.usage:
            raise UsageError(f"remote volume {self.name} is used by {', '.join(sorted(vol.usage))}")

    def deleted(self) -> None:
        self.cluster.remove_volume(self.volume)

    def connectivity(self) -> str:
        """'OK' when the settings are complete; this cluster never contacts the server itself."""
        scheme = urlsplit(self.values["url"]).scheme
        if scheme in ("ftp", "ftps", "smb") and not self.values.get("user"):
            return "no user configured"
        return "OK"


def add_remote_volume(cluster: Cluster, values: Any) -> RemoteVolume:
    obj = cluster.add_object(RemoteVolume, volumes.user_ids(cluster, values))
    assert isinstance(obj, RemoteVolume)
    return obj


def archive_volumes(cluster: Cluster) -> list[str]:
    """Every archive volume: the local ones, then the remote ones."""
    return [v for v in volumes.volume_ids(cluster) if cluster.volumes[v].type == volumes.ARCHIVE]
