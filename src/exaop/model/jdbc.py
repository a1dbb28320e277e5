"""JDBC drivers (/cluster1/jdbc1) the databases load to reach other systems.

A driver's JAR files live, as with EXAoperation 6, in the default bucket of the default
BucketFS (``bfsdefault/default``, below ``drivers/jdbc/<driver>/``): uploading needs that
bucket, its size counts them, and it cannot be deleted while it holds them. The model
keeps each file's name and size (the content is checked to be a JAR, then not kept).
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import TYPE_CHECKING, Any

from exaop.model.errors import UsageError
from exaop.model.network import _Network as Described  # a kind whose objects carry a unique descriptive name
from exaop.model.schema import Field, Schema

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster

JAR_BUCKET = "bfsdefault/default"  # where EXAoperation keeps JDBC drivers' files
JAR_DIR = "drivers/jdbc"
_CLASS = re.compile(r"^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$")
_FILE = re.compile(r"^[\w.+-]{1,200}\.jar$")


def _main_class(obj: Any, value: str) -> None:
    if not _CLASS.match(value):
        raise UsageError(f"jdbc_main {value!r} is not a Java class name such as com.mysql.jdbc.Driver")


def _prefix(obj: Any, value: str) -> None:
    if not (value.startswith("jdbc:") and value.endswith(":") and len(value) > 6):
        raise UsageError(f"jdbc_prefix {value!r} must begin with 'jdbc:' and end with ':', like 'jdbc:mysql:'")


class JDBCDriver(Described):
    kind = "jdbc_driver"
    TITLE = "JDBC driver"
    PREFIX = "jdbc"
    DESCRIPTION = "jdbc_name"
    SCHEMA = Schema("JDBC driver", [
        Field("jdbc_name", "TextLine", "The driver's name, unique in the cluster.", required=True),
        Field("jdbc_main", "TextLine", "The driver's main class, such as com.mysql.jdbc.Driver.", required=True,
              check=_main_class),
        Field("jdbc_prefix", "TextLine", "The prefix of the connection strings it serves: begins with 'jdbc:' "
              "and ends with ':', like 'jdbc:mysql:'; unique in the cluster.", required=True, check=_prefix),
        Field("comment", "TextLine", "A description of the driver."),
        Field("disable_security_manager", "Bool", "Run the driver without Java's security manager (for drivers "
              "that need it; not recommended)."),
        Field("jdbc_jars", "List", "Where its JAR files are: paths in BucketFS (bfsdefault/default/drivers/jdbc/"
              "<driver>/<file>). Set by uploadFile and removeJARFiles.", read_only=True),
    ])  # fmt: skip

    def __init__(self, cluster: Cluster, name: str, parent: str = "") -> None:
        super().__init__(cluster, name, parent)
        self.files: dict[str, int] = {}  # JAR file name -> size in bytes

    def state(self) -> dict[str, Any]:
        return {"files": self.files}

    def load(self, rec: dict[str, Any]) -> None:
        self.files = dict(rec.get("files", {}))

    def check(self, values: dict[str, Any], creating: bool) -> None:
        super().check(values, creating)
        for other in self.cluster.objects(self.kind):
            if other is not self and other.values.get("jdbc_prefix") == values["jdbc_prefix"]:
                raise UsageError(f"jdbc_prefix {values['jdbc_prefix']!r} is already served by {other.name}")

    def properties(self) -> dict[str, Any]:
        return {**super().properties(), "jdbc_jars": [f"{JAR_BUCKET}/{path}" for path in self.bucket_files()]}

    def bucket_files(self) -> dict[str, int]:
        """Its files as the bucket holds them: path below the bucket -> size in bytes."""
        return {f"{JAR_DIR}/{self.name}/{f}": size for f, size in sorted(self.files.items())}

    def upload(self, file_name: Any, content: bytes) -> str:
        """Keep a JAR file (a new one, or a new version of one of the same name); returns its path."""
        if not isinstance(file_name, str) or not _FILE.match(file_name):
            raise UsageError(f"file name {file_name!r} must be a plain file name ending in .jar "
                             "(letters, digits, '.', '_', '+', '-')")  # fmt: skip
        if not content.startswith(b"PK\x03\x04") or not _is_zip(content):
            raise UsageError(f"{file_name} is not a JAR file (a JAR is a ZIP archive)")
        if self.cluster.object_at(JAR_BUCKET.split("/")[1], JAR_BUCKET.split("/")[0]) is None:
            raise UsageError(f"JDBC drivers are kept in BucketFS bucket {JAR_BUCKET}, which does not exist")
        replaced = file_name in self.files
        self.files[file_name] = len(content)
        self.changed()
        verb = "replaced" if replaced else "uploaded"
        self.cluster.log("EXAoperation", "", "Notice",
                         f"JDBC driver {self.name}: {file_name} ({len(content)} bytes) {verb}")  # fmt: skip
        return f"{JAR_BUCKET}/{JAR_DIR}/{self.name}/{file_name}"

    def remove_jars(self) -> list[str]:
        """Remove every JAR file of the driver; returns their names."""
        removed = sorted(self.files)
        if removed:
            self.files = {}
            self.changed()
            self.cluster.log("EXAoperation", "", "Notice",
                             f"JDBC driver {self.name}: JAR file(s) removed: {', '.join(removed)}")  # fmt: skip
        return removed


def _is_zip(content: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as z:
            return z.testzip() is None
    except Exception:  # a broken archive fails in many ways (zlib, struct, unsupported methods): not a JAR
        return False


def jar_files(cluster: Cluster) -> dict[str, int]:
    """Every JDBC driver's files as the JAR bucket holds them."""
    out: dict[str, int] = {}
    for driver in cluster.objects(JDBCDriver.kind):
        out.update(driver.bucket_files())
    return out
