"""JDBC drivers: /cluster1/jdbc1 (JDBCDriver), added on the cluster; their JAR files live in BucketFS."""

from __future__ import annotations

from typing import Any

from exaop.faces.exaoperation.dispatch import Context
from exaop.faces.exaoperation.objects.cluster import CLUSTER
from exaop.faces.exaoperation.objects.kinds import add_method, configurable_type
from exaop.faces.exaoperation.upload import file_content
from exaop.model.cluster import Cluster
from exaop.model.jdbc import JDBCDriver

m = CLUSTER.method

JDBC_TYPE = configurable_type(JDBCDriver, "JDBCDriver", "editJDBCDriver", read_help="The driver's settings, "
                              "and jdbc_jars: its JAR files' paths in BucketFS.")  # fmt: skip
j = JDBC_TYPE.method

add_method(CLUSTER, "addJDBCDriver", JDBCDriver, intro="Add a JDBC driver for the databases; give it its JAR "
           "file(s) with uploadFile on the new object. Returns its object name (jdbc1 ...).")  # fmt: skip


@j("uploadFile", "operate", "Add a JAR file to the driver: uploadFile(file_name, content), content as an XML-RPC "
   "base64 value or base64 text. It must be a JAR (a ZIP archive); a file of the same name is replaced. It is "
   "kept in BucketFS bfsdefault/default (drivers/jdbc/<driver>/) and listed in jdbc_jars. Returns its "
   "path.")  # fmt: skip
def upload_file(ctx: Context, d: JDBCDriver, file_name: str, content: Any) -> str:
    return d.upload(file_name, file_content(content, "content"))


@j("removeJARFiles", "operate", "Remove all of the driver's JAR files; returns their names.", returns="array")
def remove_jar_files(ctx: Context, d: JDBCDriver) -> list[str]:
    return d.remove_jars()


@m("getAllJDBCDrivers", "read", "The JDBC drivers: for each, a dictionary with its object name and settings.",
   returns="array")  # fmt: skip
def get_all_jdbc_drivers(ctx: Context, c: Cluster) -> list[dict[str, Any]]:
    return [{"name": d.name, **d.properties()} for d in c.objects(JDBCDriver.kind)]


@m("getInstalledJDBCDrivers", "read", "The object names of the JDBC drivers that have JAR files.", returns="array")
def get_installed_jdbc_drivers(ctx: Context, c: Cluster) -> list[str]:
    return [d.name for d in c.objects(JDBCDriver.kind) if d.files]
