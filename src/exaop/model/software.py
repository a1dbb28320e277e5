"""The cluster's software and license: installed database versions, uploads and updates on
the clock, the installation history, the license and its limits, TLS files' checks.

The state lives in the cluster's settings (``settings.software``, ``settings.license``;
model/settings.py); these functions are its rules. No package is unpacked and no
repository is asked: an upload is checked (a gzip'ed tar named ``EXASolution-<version>…``)
and its version becomes installed once the unpacking time (profile duration
``software_install``) has passed. The update repository is simulated: at the configured
URL it offers the next two patch versions of the newest installed version.
"""

from __future__ import annotations

import io
import re
import tarfile
from datetime import UTC, datetime
from importlib import metadata
from typing import TYPE_CHECKING, Any

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from exaop.model.errors import UsageError
from exaop.model.lists import list_of
from exaop.model.logs import strtime

if TYPE_CHECKING:
    from cryptography import x509

    from exaop.model.cluster import Cluster

UNLIMITED_NODES = 1024 * 1024  # numberOfAvailableNodes when the license sets no limit
HISTORY_MAX = 1000
#: the license's fields as getProperties shows them (license_<key>): key, type, what it means
LICENSE_FIELDS = (
    ("comment", "TextLine", "A description of the license."),
    ("companyname", "TextLine", "The company the license is for."),
    ("distributor", "TextLine", "Who distributed the license."),
    ("distributorid", "TextLine", "The distributor's ID."),
    ("expiration", "TextLine", "The day the license expires (YYYY-MM-DD; '' never)."),
    ("idnumber", "TextLine", "The license's identification number."),
    ("maxdbmemory", "Int", "Database memory (GiB) the license allows in all, 0 for no limit."),
    ("serial_number", "TextLine", "The license's serial number."),
    ("validation_key", "TextLine", "The license's validation key."),
)
_LICENSE_TEXT = ("comment", "companyname", "distributor", "distributorid", "idnumber", "serial_number",
                 "validation_key")  # fmt: skip
_PACKAGE = re.compile(r"^EXASolution-(\d+\.\d+\.\d+)(?:[_-][\w.-]*)?\.(?:tar\.gz|tgz)$")
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


def version_key(version: str) -> tuple[Any, ...]:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.-]", version))


def initial(cluster: Cluster) -> dict[str, Any]:
    versions = sorted({cluster.profile.version, *(d.get("version", cluster.profile.version)
                                                  for d in cluster.profile.databases)}, key=version_key)  # fmt: skip
    return {
        "installed": versions,
        "history": [_entry(cluster, "installed", f"EXASuite {v}") for v in versions],
        "job": {},
    }


def initial_license() -> dict[str, Any]:
    return {"comment": "the license of a simulated cluster: no limits", "companyname": "exaop",
            "distributor": "exaop", "distributorid": "0", "expiration": "", "idnumber": "EXAOP-SIM",
            "maxdbmemory": 0, "maxnodes": 0, "serial_number": "EXAOP-SIMULATION-0001", "validation_key": "",
            "features": ["EXAStorage", "BucketFS", "Backup"]}  # fmt: skip


def _entry(cluster: Cluster, action: str, what: str) -> dict[str, Any]:
    return {"timestamp": strtime(cluster.now)[:19], "action": action, "details": what}


def _history(cluster: Cluster, action: str, what: str) -> None:
    history = cluster.settings.software["history"]
    history.append(_entry(cluster, action, what))
    del history[:-HISTORY_MAX]


# -- versions ---------------------------------------------------------------------------------------


def installed_versions(cluster: Cluster) -> list[str]:
    """The installed database versions (and any a database is configured with), oldest first."""
    sw = cluster.settings.software
    return sorted({*sw["installed"], *(db.version for db in cluster.databases.values())}, key=version_key)


@list_of("EXASolutionVersions")
def _versions_list(cluster: Cluster) -> list[str]:
    return installed_versions(cluster)


def obsolete_versions(cluster: Cluster) -> list[str]:
    """Installed versions no database uses, except the newest."""
    versions = installed_versions(cluster)
    used = {db.version for db in cluster.databases.values()}
    return [v for v in versions[:-1] if v not in used]


def install_version(cluster: Cluster, version: str) -> None:
    """A database version installed with a database that asks for it (addDatabase, editDatabase)."""
    sw = cluster.settings.software
    if version not in sw["installed"]:
        sw["installed"] = sorted({*sw["installed"], version}, key=version_key)
        _history(cluster, "installed", f"EXASolution {version}")
        cluster.settings.changed()
        cluster.log("EXAoperation", "", "Notice", f"EXASolution {version} installed")


def remove_version(cluster: Cluster, version: Any) -> None:
    """Uninstall one database version (removeDatabase): refused while a database is configured
    with it, and for the version this EXAoperation came with."""
    sw = cluster.settings.software
    if not isinstance(version, str) or version not in sw["installed"]:
        raise UsageError(f"EXASolution version {version!r} is not installed; installed: "
                         f"{', '.join(installed_versions(cluster))}")  # fmt: skip
    users = sorted(db.name for db in cluster.databases.values() if db.version == version)
    if users:
        raise UsageError(f"EXASolution {version} is used by database(s) {', '.join(users)}; change their "
                         "database_version first")  # fmt: skip
    if version == cluster.version:
        raise UsageError(f"EXASolution {version} came with this EXAoperation and cannot be removed")
    sw["installed"].remove(version)
    _history(cluster, "removed", f"EXASolution {version}")
    cluster.settings.changed()
    cluster.log("EXAoperation", "", "Notice", f"EXASolution {version} removed")


def remove_obsolete(cluster: Cluster) -> list[str]:
    removed = obsolete_versions(cluster)
    for v in removed:
        remove_version(cluster, v)
    return removed


def available_updates(cluster: Cluster) -> list[str]:
    """What the (simulated) repository at the update URL offers: the next two patch versions of the
    newest installed one, [] without an update URL."""
    if not cluster.settings.values["software_update_url"]:
        return []
    newest = installed_versions(cluster)[-1]
    if not _VERSION.match(newest):
        return []
    major, minor, patch = (int(p) for p in newest.split("."))
    return [f"{major}.{minor}.{patch + i}" for i in (1, 2)]


# -- uploads and downloads, on the clock --------------------------------------------------------------


def _start_job(cluster: Cluster, state: str, package: str, version: str) -> dict[str, Any]:
    s = cluster.settings
    job = s.software["job"]
    if job.get("state") in ("unpacking", "downloading"):
        raise UsageError(f"{job['package']} is still {job['state']}; wait for it (getUploadPackageState)")
    if version in s.software["installed"]:
        raise UsageError(f"EXASolution {version} is already installed")
    duration = cluster.duration("software_install")
    s.software["job"] = {"state": state, "package": package, "version": version, "started": cluster.now,
                         "duration": duration, "message": ""}  # fmt: skip
    s.set_deadline(duration)
    cluster.log("EXAoperation", cluster.master.node, "Notice", f"{package}: {state}")
    return upload_state(cluster)


def upload(cluster: Cluster, file_name: Any, content: bytes) -> dict[str, Any]:
    """uploadSoftware: check the package, then unpack (install) it on the clock."""
    m = _PACKAGE.match(file_name) if isinstance(file_name, str) else None
    if m is None:
        raise UsageError(f"{file_name!r} is not a database package name such as "
                         "EXASolution-6.2.18_LINUX_x86_64.tar.gz")  # fmt: skip
    try:
        with tarfile.open(fileobj=io.BytesIO(content), mode="r:gz") as tar:
            members = tar.getnames()
    except (tarfile.TarError, OSError, EOFError):
        raise UsageError(f"{file_name} is not a gzip'ed tar archive") from None
    if not members:
        raise UsageError(f"{file_name} is an empty archive")
    return _start_job(cluster, "unpacking", file_name, m.group(1))


def download(cluster: Cluster, version: Any = "") -> dict[str, Any]:
    """getSoftware: fetch an update from the repository (the newest, or ``version``), then install it."""
    s = cluster.settings
    if not s.values["software_update_url"]:
        raise UsageError("no software_update_url is set (editNodeClusterNetwork)")
    offered = available_updates(cluster)
    if version in ("", None):
        version = offered[-1] if offered else ""
    if version not in offered:
        raise UsageError(f"the repository offers {', '.join(offered) or 'nothing'}; not {version!r}")
    return _start_job(cluster, "downloading", f"EXASolution-{version}.tar.gz", str(version))


def job_done(cluster: Cluster) -> None:
    s = cluster.settings
    job = s.software["job"]
    if job.get("state") not in ("unpacking", "downloading"):
        return
    s.software["installed"] = sorted({*s.software["installed"], job["version"]}, key=version_key)
    job.update(state="installed", message=f"EXASolution {job['version']} installed")
    _history(cluster, "installed", f"EXASolution {job['version']} from {job['package']}")
    s.changed()
    cluster.log("EXAoperation", cluster.master.node, "Notice", job["message"])


def upload_state(cluster: Cluster) -> dict[str, Any]:
    """The last upload or download: state ('idle', 'downloading', 'unpacking', 'installed'),
    package, version, progress (percent), message."""
    job = cluster.settings.software["job"]
    if not job:
        return {"state": "idle", "package": "", "version": "", "progress": 0, "message": "", "started": ""}
    running = job["state"] in ("unpacking", "downloading")
    done = min(1.0, (cluster.now - job["started"]) / job["duration"]) if job["duration"] else 1.0
    return {"state": job["state"], "package": job["package"], "version": job["version"],
            "progress": int(done * 100) if running else 100, "message": job["message"],
            "started": strtime(job["started"])[:19]}  # fmt: skip


def update_url(cluster: Cluster) -> str:
    """The update URL with its user; the password shows as ******** (it is never given back)."""
    v = cluster.settings.values
    url = v["software_update_url"]
    if not url or not v["software_update_user"]:
        return url
    scheme, _, rest = url.partition("://")
    cred = v["software_update_user"] + (":********" if v["software_update_password"] else "")
    return f"{scheme}://{cred}@{rest}"


def history(cluster: Cluster) -> list[dict[str, Any]]:
    return [dict(e) for e in cluster.settings.software["history"]]


# -- the license ---------------------------------------------------------------------------------------


def license_properties(cluster: Cluster) -> dict[str, Any]:
    lic = cluster.settings.license
    return {f"license_{k}": lic.get(k, "") for k, _, _ in LICENSE_FIELDS}


def database_memory(cluster: Cluster) -> int:
    return sum(int(db.memory_gib) for db in cluster.databases.values())


def license_limits(cluster: Cluster) -> list[dict[str, Any]]:
    lic = cluster.settings.license
    nodes = len(cluster.database_node_names())
    return [
        {"name": "maxdbmemory", "unit": "GiB", "limit": lic["maxdbmemory"] or "unlimited",
         "used": database_memory(cluster)},
        {"name": "maxnodes", "unit": "nodes", "limit": lic["maxnodes"] or "unlimited", "used": nodes},
    ]  # fmt: skip


def license_features(cluster: Cluster) -> list[dict[str, str]]:
    lic = cluster.settings.license
    return [{"feature": f, "expiration": lic["expiration"]} for f in lic["features"]]


def available_nodes(cluster: Cluster) -> int:
    limit = cluster.settings.license["maxnodes"]
    return max(0, limit - len(cluster.database_node_names())) if limit else UNLIMITED_NODES


def check_memory(cluster: Cluster) -> None:
    """Log a warning when the databases' memory reaches rawmem_warning percent of the license's."""
    limit = cluster.settings.license["maxdbmemory"]
    used = database_memory(cluster)
    threshold = cluster.settings.values["rawmem_warning"]
    if limit and used * 100 >= limit * threshold:
        cluster.log("EXAoperation", "", "Warning", f"the databases' memory ({used} GiB) is {used * 100 // limit} % "
                    f"of what the license allows ({limit} GiB); warning from {threshold} %")  # fmt: skip


def update_license(cluster: Cluster, text: Any) -> dict[str, Any]:
    """licenseUpdate: a license as XML (``<license>`` with companyname, serial_number, expiration,
    maxdbmemory, maxnodes, features/feature ...). Checked against the cluster before it replaces
    the current one; returns the new license properties."""
    if not isinstance(text, str) or not text.strip():
        raise UsageError("license_data must be the license as an XML string")
    try:
        root = ElementTree.fromstring(text, forbid_dtd=True)
    except (ElementTree.ParseError, DefusedXmlException) as e:
        raise UsageError(f"license_data is not valid XML: {e}") from None
    if root.tag != "license":
        raise UsageError(f"license_data: the root element must be <license>, got <{root.tag}>")
    known = {*_LICENSE_TEXT, "expiration", "maxdbmemory", "maxnodes", "features"}
    unknown = sorted({child.tag for child in root} - known)
    if unknown:
        raise UsageError(f"license_data: unknown element(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    values: dict[str, Any] = {k: (root.findtext(k) or "").strip() for k in _LICENSE_TEXT}
    for required in ("companyname", "serial_number", "validation_key"):
        if not values[required]:
            raise UsageError(f"license_data: <{required}> is required")
    expiration = (root.findtext("expiration") or "").strip()
    if expiration:
        try:
            ends = datetime.strptime(expiration, "%Y-%m-%d").replace(tzinfo=UTC).timestamp() + 86400
        except ValueError:
            raise UsageError(f"license_data: expiration {expiration!r} is not a date YYYY-MM-DD") from None
        if ends <= cluster.now:
            raise UsageError(f"license_data: the license expired on {expiration}")
    values["expiration"] = expiration
    for limit in ("maxdbmemory", "maxnodes"):
        raw = (root.findtext(limit) or "0").strip()
        if not raw.isdigit():
            raise UsageError(f"license_data: <{limit}> must be a whole number (0 for no limit), got {raw!r}")
        values[limit] = int(raw)
    used_memory, nodes = database_memory(cluster), len(cluster.database_node_names())
    if values["maxdbmemory"] and values["maxdbmemory"] < used_memory:
        raise UsageError(f"license_data: maxdbmemory {values['maxdbmemory']} GiB is below the "
                         f"{used_memory} GiB the databases are configured with")  # fmt: skip
    if values["maxnodes"] and values["maxnodes"] < nodes:
        raise UsageError(f"license_data: maxnodes {values['maxnodes']} is below the cluster's {nodes} nodes")
    values["features"] = [(f.text or "").strip() for f in root.iter("feature") if (f.text or "").strip()]
    cluster.settings.license = values
    cluster.settings.changed()
    _history(cluster, "license", f"license {values['serial_number']} for {values['companyname']}")
    cluster.log("EXAoperation", "", "Notice", f"license {values['serial_number']} for {values['companyname']} "
                f"installed (expires: {expiration or 'never'})")  # fmt: skip
    check_memory(cluster)
    return license_properties(cluster)


# -- certificates ------------------------------------------------------------------------------------


def load_certificates(text: str, field: str) -> list[x509.Certificate]:
    from cryptography import x509

    try:
        certs = x509.load_pem_x509_certificates(text.encode())
    except ValueError:
        raise UsageError(f"{field} is not a PEM certificate (-----BEGIN CERTIFICATE----- ...)") from None
    return certs


def check_tls_pair(cert: Any, key: Any, now: float) -> dict[str, str]:
    """A certificate (PEM, the server's first, then its chain) and the private key (PEM, not
    encrypted) that belong together and are valid at ``now``; returns the subject and the end."""
    from cryptography.hazmat.primitives import serialization

    if not isinstance(cert, str) or not isinstance(key, str):
        raise UsageError("uploadTlsFiles takes the certificate and the private key as PEM strings")
    first = load_certificates(cert, "cert")[0]
    try:
        private = serialization.load_pem_private_key(key.encode(), password=None)
    except (ValueError, TypeError):
        raise UsageError("private_key is not an unencrypted PEM private key") from None
    der, spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if private.public_key().public_bytes(der, spki) != first.public_key().public_bytes(der, spki):
        raise UsageError("private_key does not belong to the certificate")
    not_after = first.not_valid_after_utc
    if not_after.timestamp() <= now:
        raise UsageError(f"the certificate expired on {not_after:%Y-%m-%d}")
    return {"subject": first.subject.rfc4514_string(), "not_after": f"{not_after:%Y-%m-%d %H:%M}"}


# -- what the software is made of ----------------------------------------------------------------------


def legal_info() -> list[dict[str, str]]:
    """The third-party packages this EXAoperation runs on, with their versions and licenses."""
    try:
        requirements = metadata.requires("exaop") or []
    except metadata.PackageNotFoundError:
        return []
    out = []
    for req in requirements:
        if "extra ==" in req:
            continue
        name = re.split(r"[\s<>=!~;\[(]", req, maxsplit=1)[0]
        try:
            meta = metadata.metadata(name)
        except metadata.PackageNotFoundError:
            continue
        license_text = meta.get("License-Expression") or meta.get("License") or ""
        if not license_text or len(license_text) > 100:  # some packages put the whole text there
            classifiers = [c.split(" :: ")[-1] for c in meta.get_all("Classifier") or [] if c.startswith("License")]
            license_text = ", ".join(classifiers) or "see the package"
        out.append({"name": meta["Name"], "version": meta["Version"], "license": license_text})
    return sorted(out, key=lambda d: d["name"].lower())


# -- plugins and the license server ---------------------------------------------------------------------


def remove_plugin(cluster: Cluster, name: Any) -> None:
    """removePlugin: uninstall a plugin; refused while its daemon runs on a node."""
    from exaop.model.plugins import find_plugin

    plugin = find_plugin(cluster, name)
    if plugin.running:
        raise UsageError(f"plugin {plugin.name}: {plugin.daemon} runs on {', '.join(sorted(plugin.running))}; "
                         "stop it there first (callPlugin ... STOP)")  # fmt: skip
    del cluster.plugins[plugin.name]
    cluster.forget(plugin)
    _history(cluster, "removed", f"plugin {plugin.name}")
    cluster.settings.changed()
    cluster.log("EXAoperation", "", "Notice", f"plugin {plugin.name} removed")


def restart_license_server(cluster: Cluster) -> str:
    """restartLicenseServer: EXAoperation starts again on the license server (it answers 503 meanwhile),
    and the license is checked against the clock again. Returns the license server's name."""
    names = cluster.license_server_names()
    target = cluster.master.node if cluster.master.node in names else names[0]
    expiration = cluster.settings.license["expiration"]
    if expiration and datetime.strptime(expiration, "%Y-%m-%d").replace(tzinfo=UTC).timestamp() + 86400 <= cluster.now:
        cluster.log("EXAoperation", target, "Error", f"the license expired on {expiration}")
    cluster.restart_exaoperation(target)
    return target
