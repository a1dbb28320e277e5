"""Debug information for support (/cluster1/support): an archive of the cluster's log, settings
and state, without secrets, and a summary of the cluster.

The archive is a gzip'ed tar made in memory (its files dated at the cluster's time):
``debuginfo/log.txt`` (every entry the log keeps), ``settings.json`` (getProperties),
``state.json`` (every object's record, passwords and hashes left out) and ``support.json``
(:func:`support_data`). ``storeDebugInfo`` puts it on an archive volume, where it takes
its size.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from typing import TYPE_CHECKING, Any

from exaop.model import syslog
from exaop.model.configurable import Configurable
from exaop.model.errors import UsageError
from exaop.model.logs import strtime
from exaop.model.schema import MASK

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster

#: keys of records whose values are secrets, wherever they appear
SECRET_KEYS = frozenset({"password_hash", "key"})


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (MASK if v else "") if k in SECRET_KEYS else _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _masked(values: dict[str, Any], schema: Any) -> dict[str, Any]:
    return {k: (MASK if v else "") if k in schema.fields and schema.fields[k].type == "Password" else v
            for k, v in values.items()}  # fmt: skip


def state(cluster: Cluster) -> dict[str, dict[str, Any]]:
    """Every object's record by kind and key, without secrets."""
    out: dict[str, dict[str, Any]] = {}
    for entity in cluster.all_entities():
        rec = dict(entity.record())
        if isinstance(entity, Configurable):
            rec["values"] = _masked(rec["values"], entity.SCHEMA)
        elif entity is cluster.settings:
            rec["values"] = _masked(rec["values"], cluster.settings.schema)
        out.setdefault(entity.kind, {})[entity.key] = _scrub(rec)
    return out


def support_data(cluster: Cluster) -> dict[str, Any]:
    """What support asks first: versions, license, nodes, services, databases, volumes, the log's size."""
    lic = cluster.settings.license
    return {
        "cluster": cluster.name,
        "description": cluster.settings.values["cluster_desc"],
        "time": strtime(cluster.now)[:19],
        "exacluster_version": cluster.version,
        "exasolution_versions": cluster.settings.properties()["exasolution_versions"],
        "license": {"serial_number": lic["serial_number"], "companyname": lic["companyname"],
                    "expiration": lic["expiration"]},
        "exaoperation_master": cluster.master.node,
        "nodes": {name: node.status for name, node in sorted(cluster.nodes.items())},
        "services": {svc: st for svc, st in cluster.service_states()},
        "storage": cluster.storage.state,
        "volumes": sorted(cluster.volumes),
        "databases": {name: db.state for name, db in sorted(cluster.databases.items())},
        "log_entries": len(cluster.logbook.entries),
        "remote_syslog": syslog.stats(cluster),
    }  # fmt: skip


def archive(cluster: Cluster) -> bytes:
    log = "".join(f"{strtime(e.t)} {e.priority:<11} {e.system:<14} {e.node or '-':<6} {e.message}\n"
                  for e in cluster.logbook.entries)  # fmt: skip
    files = {
        "debuginfo/log.txt": log,
        "debuginfo/settings.json": json.dumps(cluster.settings.properties(), indent=1, sort_keys=True),
        "debuginfo/state.json": json.dumps(state(cluster), indent=1, sort_keys=True, default=str),
        "debuginfo/support.json": json.dumps(support_data(cluster), indent=1, sort_keys=True),
    }
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name, text in files.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), int(cluster.now), 0o600
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def file_name(cluster: Cluster) -> str:
    return f"debuginfo_{cluster.name}_{time.strftime('%Y%m%d_%H%M%S', time.gmtime(cluster.now))}.tar.gz"


def store(cluster: Cluster, volume: Any) -> str:
    """storeDebugInfo: the archive on an archive volume (it uses its size there); returns its file name."""
    vol = cluster.volumes.get(volume) if isinstance(volume, str) else None
    if vol is None:
        archives = sorted(v.vid for v in cluster.volumes.values() if v.type == "Archive")
        raise UsageError(f"volume {volume!r} does not exist; archive volumes: {', '.join(archives) or 'none'}")
    if vol.type != "Archive":
        raise UsageError(f"volume {vol.vid} is a {vol.type} volume; debug information goes to an Archive volume")
    data = archive(cluster)
    name = file_name(cluster)
    vol.use(f"support/{name}", len(data) / 2**30)
    cluster.log("EXAoperation", "", "Notice", f"debug information stored on volume {vol.vid} as {name} "
                f"({len(data)} bytes)")  # fmt: skip
    return name
