"""The cluster's software and license on /cluster1: versions, uploads and updates, the installation
history, plugins' removal, the license (model/software.py)."""

from __future__ import annotations

from typing import Any

from exaop.faces.exaoperation.dispatch import Context
from exaop.faces.exaoperation.objects.cluster import CLUSTER
from exaop.faces.exaoperation.objects.kinds import OK
from exaop.faces.exaoperation.upload import file_content
from exaop.model import software
from exaop.model.cluster import Cluster

m = CLUSTER.method
JOB_STATE = ("Returns the job's state as getUploadPackageState does; the version is installed once it has been "
             "unpacked (simulated time), and then shows in getEXASolutionVersions.")  # fmt: skip


@m("getEXACOSVersion", "read", "The installed EXAClusterOS version.")
def get_exacos_version(ctx: Context, c: Cluster) -> str:
    return c.version


@m("getInstallationHistory", "read", "What was installed and removed, oldest first: dictionaries with timestamp "
   "(UTC), action and details.", returns="array")  # fmt: skip
def get_installation_history(ctx: Context, c: Cluster) -> list[dict[str, Any]]:
    return software.history(c)


@m("uploadSoftware", "operate", "Install a database version from its package: uploadSoftware(file_name, content), "
   "file_name like EXASolution-6.2.18_LINUX_x86_64.tar.gz, content (a gzip'ed tar) as an XML-RPC base64 value or "
   "base64 text. One upload or download at a time. " + JOB_STATE, returns="struct")  # fmt: skip
def upload_software(ctx: Context, c: Cluster, file_name: str, content: Any) -> dict[str, Any]:
    return software.upload(c, file_name, file_content(content, "content"))


@m("getSoftware", "operate", "Download a database version from the update repository (software_update_url) and "
   "install it: the newest it offers, or getSoftware(version). " + JOB_STATE, returns="struct")  # fmt: skip
def get_software(ctx: Context, c: Cluster, version: str = "") -> dict[str, Any]:
    return software.download(c, version)


@m("getUploadPackageState", "read", "The last upload or download: state ('idle', 'downloading', 'unpacking', "
   "'installed'), package, version, progress (percent), message and when it started.", returns="struct")  # fmt: skip
def get_upload_package_state(ctx: Context, c: Cluster) -> dict[str, Any]:
    return software.upload_state(c)


@m("getAvailableUpdatesList", "read", "The versions the update repository offers ([] without software_update_url). "
   "The repository is simulated: it offers the next two patch versions of the newest installed one.",
   returns="array")  # fmt: skip
def get_available_updates_list(ctx: Context, c: Cluster) -> list[str]:
    return software.available_updates(c)


@m("getUpdateURL", "read", "The update repository's URL with its user; the password shows as ********.")
def get_update_url(ctx: Context, c: Cluster) -> str:
    return software.update_url(c)


@m("getObsoleteEXASuiteVersions", "read", "Installed database versions no database uses (the newest is never "
   "obsolete).", returns="array")  # fmt: skip
def get_obsolete_exasuite_versions(ctx: Context, c: Cluster) -> list[str]:
    return software.obsolete_versions(c)


@m("removeObsoleteEXASuite", "operate", "Remove the obsolete versions (getObsoleteEXASuiteVersions); returns them.",
   returns="array")  # fmt: skip
def remove_obsolete_exasuite(ctx: Context, c: Cluster) -> list[str]:
    return software.remove_obsolete(c)


@m("removePlugin", "operate", "Remove a plugin (refused while its daemon runs on a node).")
def remove_plugin(ctx: Context, c: Cluster, name: str) -> str:
    software.remove_plugin(c, name)
    return OK


@m("getLegalInfo", "read", "The third-party packages this EXAoperation is made of: dictionaries with name, version "
   "and license.", returns="array")  # fmt: skip
def get_legal_info(ctx: Context, c: Cluster) -> list[dict[str, str]]:
    return software.legal_info()


@m("getLicenseProperties", "read", "The license: the license_* fields of getProperties.", returns="struct")
def get_license_properties(ctx: Context, c: Cluster) -> dict[str, Any]:
    return software.license_properties(c)


@m("getLicenseLimits", "read", "What the license limits and how much is used: dictionaries with name "
   "(maxdbmemory: the databases' memory; maxnodes: database nodes), unit, limit ('unlimited' or a number) and "
   "used.", returns="array")  # fmt: skip
def get_license_limits(ctx: Context, c: Cluster) -> list[dict[str, Any]]:
    return software.license_limits(c)


@m("getLicenseFeatures", "read", "The license's features, each with the license's expiration date ('' never).",
   returns="array")  # fmt: skip
def get_license_features(ctx: Context, c: Cluster) -> list[dict[str, str]]:
    return software.license_features(c)


@m("licenseUpdate", "manage", "Install a license: licenseUpdate(license_data), an XML string <license> with "
   "companyname, serial_number and validation_key (required), distributor, distributorid, idnumber, comment, "
   "expiration (YYYY-MM-DD), maxdbmemory (GiB) and maxnodes (0: no limit), features/feature. Refused when it has "
   "expired or allows less than the cluster uses. Returns the license properties.", returns="struct")  # fmt: skip
def license_update(ctx: Context, c: Cluster, license_data: str) -> dict[str, Any]:
    return software.update_license(c, license_data)


@m("restartLicenseServer", "operate", "Restart EXAoperation on the license server (it answers 503 until it is "
   "back) and check the license against the clock again. Returns the license server's name.")  # fmt: skip
def restart_license_server(ctx: Context, c: Cluster) -> str:
    return software.restart_license_server(c)
