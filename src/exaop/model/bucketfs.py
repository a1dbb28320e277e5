"""BucketFS services (/cluster1/bfsdefault) and their buckets (/cluster1/bfsdefault/default).

A BucketFS is a file service on the nodes' data disk, listening on an HTTP and/or an HTTPS
port; its buckets are folders with a read and a write password (a public bucket needs
none for reading). A new cluster has ``bfsdefault`` with the public bucket ``default``.

Changes to a service or a bucket are settings until ``saveBucketFSChanges`` writes them
to the services' configuration (:func:`save_changes`): ``saved`` is the configuration the
service runs with. There is no upload path in the reference API, so a bucket holds what
the model puts there: the JAR files of the JDBC drivers, in ``bfsdefault/default``
(model/jdbc.py); its size and its BucketFS's size are the sums of those files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from exaop.model.base import check_name
from exaop.model.configurable import Configurable, refuse_if_used
from exaop.model.errors import UsageError
from exaop.model.jdbc import JAR_BUCKET, jar_files
from exaop.model.lists import list_values
from exaop.model.schema import Field, Schema

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster

DEFAULT_FS, DEFAULT_BUCKET = "bfsdefault", "default"
DEFAULT_HTTP_PORT = 2580


def _port(obj: Any, value: int) -> None:
    if value and not 1024 <= value <= 65535:
        raise UsageError(f"port {value} is not allowed: use 1024 to 65535, or 0 for none")


class _Saved(Configurable):
    """A configurable object whose settings take effect when they are saved."""

    def __init__(self, cluster: Cluster, name: str, parent: str = "") -> None:
        super().__init__(cluster, name, parent)
        self.saved: dict[str, Any] = {}  # the values the service runs with ({}: never saved)

    def state(self) -> dict[str, Any]:
        return {"saved": self.saved}

    def load(self, rec: dict[str, Any]) -> None:
        self.saved = dict(rec.get("saved", {}))

    @property
    def pending(self) -> bool:
        return self.saved != self.values


class BucketFS(_Saved):
    kind = "bucketfs"
    TITLE = "BucketFS"
    PREFIX = "bucketfs"
    SCHEMA = Schema("BucketFS", [
        Field("description", "TextLine", "A description of the service."),
        Field("disk", "Choice", "The nodes' disk the files are kept on.", required=True,
              choices=lambda o: list_values(o.cluster, "DataDisks")),
        Field("http_port", "Int", "Port for HTTP access (0: none).", check=_port),
        Field("https_port", "Int", "Port for HTTPS access (0: none).", check=_port),
    ])  # fmt: skip

    @classmethod
    def seed(cls, cluster: Cluster) -> None:
        disks = list_values(cluster, "DataDisks")
        if not disks:  # a profile without a data disk has nowhere to keep files
            return
        fs = cluster.add_object(cls, {"description": "the default BucketFS", "disk": disks[0],
                                      "http_port": DEFAULT_HTTP_PORT})  # fmt: skip
        bucket = cluster.add_object(Bucket, {"bucket_name": DEFAULT_BUCKET, "public_bucket": True,
                                             "description": "the default bucket", "read_password": "",
                                             "write_password": ""}, fs.name)  # fmt: skip
        for obj in (fs, bucket):
            obj.saved = dict(obj.values)

    @classmethod
    def new_name(cls, cluster: Cluster, values: dict[str, Any], parent: str) -> str:
        if cluster.name_free(DEFAULT_FS, cls):
            return DEFAULT_FS
        return super().new_name(cluster, values, parent)

    def check(self, values: dict[str, Any], creating: bool) -> None:
        ports = [p for p in (values["http_port"], values["https_port"]) if p]
        if not ports:
            raise UsageError("a BucketFS needs http_port or https_port (or both)")
        if len(set(ports)) != len(ports):
            raise UsageError(f"http_port and https_port must differ, both are {ports[0]}")
        for port in ports:
            for other in self.cluster.objects(self.kind):
                if other is not self and port in (other.values["http_port"], other.values["https_port"]):
                    raise UsageError(f"port {port} is already used by BucketFS {other.name}")
            for db in self.cluster.databases.values():
                if db.port == port:
                    raise UsageError(f"port {port} is the client port of database {db.name}")

    def buckets(self) -> list[Bucket]:
        return self.cluster.objects(Bucket.kind, self.name)

    def check_delete(self) -> None:
        for bucket in self.buckets():  # all or nothing: a bucket that must stay keeps its service
            bucket.check_delete()

    def size(self) -> int:
        return sum(b.size() for b in self.buckets())


class Bucket(_Saved):
    kind = "bucketfs_bucket"
    TITLE = "bucket"
    SCHEMA = Schema("bucket", [
        Field("bucket_name", "TextLine", "The bucket's name: its object name and the folder in the service's "
              "URLs; it cannot change once the bucket exists.", required=True),
        Field("description", "TextLine", "A description of the bucket."),
        Field("public_bucket", "Bool", "True: anyone may read the bucket without a password.", required=True),
        Field("read_password", "Password", "The password for reading.", required=True),
        Field("write_password", "Password", "The password for writing.", required=True),
    ])  # fmt: skip

    @classmethod
    def new_name(cls, cluster: Cluster, values: dict[str, Any], parent: str) -> str:
        return str(values["bucket_name"])

    def check(self, values: dict[str, Any], creating: bool) -> None:
        name = check_name("bucket_name", values["bucket_name"], max_len=64)
        if creating and not self.cluster.name_free(name, type(self), self.parent):
            raise UsageError(f"BucketFS {self.parent} already has a bucket {name}")
        if not creating and name != self.name:
            raise UsageError(f"bucket_name: a bucket keeps its name ({self.name}); add a new bucket instead")

    def files(self) -> dict[str, int]:
        """What the bucket holds: path below the bucket -> size in bytes."""
        return jar_files(self.cluster) if self.key == JAR_BUCKET else {}

    def size(self) -> int:
        return sum(self.files().values())

    def check_delete(self) -> None:
        holders = sorted({path.split("/")[2] for path in self.files()})
        refuse_if_used(f"bucket {self.key}", [f"the JAR files of JDBC driver {d}" for d in holders])


def save_changes(cluster: Cluster) -> list[str]:
    """saveBucketFSChanges: every service and bucket with unsaved changes takes them; returns
    their paths (below the cluster), [] when there was nothing to save."""
    saved = []
    for fs in cluster.objects(BucketFS.kind):
        for obj in (fs, *fs.buckets()):
            if obj.pending:
                obj.saved = dict(obj.values)
                obj.changed()
                saved.append(obj.key)
    if saved:
        cluster.log("EXAoperation", "", "Notice", f"BucketFS configuration saved: {', '.join(saved)}")
    return saved
