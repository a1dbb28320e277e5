"""Database jobs: db_list, db_state, db_info, db_start, db_stop, db_create."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from exaop.faces.confd import views
from exaop.faces.confd.registry import Wait, job, on_database, p
from exaop.faces.confd.service import JobContext, condition
from exaop.model import jobs
from exaop.model.database import NONE, RUNNING, SETUP
from exaop.model.errors import UsageError

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster
    from exaop.model.database import Database

DB_NAME = p("db_name", str, "Name of the database.")
CLUSTER = p("cluster", str, "The cluster the database runs on (only this one exists here).")
TIMEOUT = p("timeout", int, "Seconds (of the cluster's clock) to wait for the state before the job fails; 0: no limit.")


def _database(ctx: JobContext, params: dict[str, Any]) -> tuple[Database, float | None]:
    """db_start's and db_stop's database and timeout (None: no limit), their cluster checked."""
    name = params.get("cluster")
    if name not in (None, "", ctx.cluster.name):
        raise UsageError(f"cluster: there is no cluster {name!r}; this one is {ctx.cluster.name!r}")
    t = params.get("timeout", 0)
    if t < 0:
        raise UsageError("timeout must be 0 (no limit) or more seconds")
    return ctx.cluster.database(params["db_name"]), float(t) or None


@job("db_list", "read", "List the names of the databases.")
def db_list(ctx: JobContext, params: dict[str, Any]) -> list[str]:
    return sorted(ctx.cluster.databases)


@job("db_state", "read", "The state of a database: 'setup' (stopped), 'startup', 'running' or 'shutdown'.",
     mandatory=(DB_NAME,), example={"db_name": "exa_db1"}, on=on_database)  # fmt: skip
def db_state(ctx: JobContext, params: dict[str, Any]) -> str:
    return views.db_state(ctx.cluster.database(params["db_name"]))


@job("db_info", "read", "Information about a database: state, connectible ('Yes'/'No'), connection string, "
     "nodes (active, failed, reserve), volumes, usage, and its configuration.", mandatory=(DB_NAME,),
     example={"db_name": "exa_db1"}, on=on_database)  # fmt: skip
def db_info(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    c = ctx.cluster
    db = c.database(params["db_name"])
    info = db.info()
    info["state"] = views.db_state(db)
    info["usage persistent"] = _usage(c, db.volume, f"db:{db.name}")
    info["usage temporary"] = _usage(c, db.temp_volume, f"db:{db.name}")
    info["config"] = {
        "name": db.name,
        "version": db.version,
        "port": db.port,
        "mem_size": views.mib_text(db.memory_gib),
        "nodes": [int(n[1:]) for n in db.nodes_list],
        "num_active_nodes": db.nodes_number,
        "volume": views.volume_name(c.volumes[db.volume]) if db.volume in c.volumes else "",
        "owner": "",
        "auto_start": False,
    }
    return info


def _usage(c: Cluster, vid: str, who: str) -> list[dict[str, Any]]:
    """What a database uses on a volume, per node that holds a segment of it."""
    vol = c.volumes.get(vid)
    if vol is None or not vol.nodes:
        return []
    share = len(vol.nodes)
    used = vol.usage.get(who, 0.0)
    return [{"host": n, "size": views.size_text(round(vol.size_gib / share, 3)),
             "used": views.size_text(round(used / share, 3)), "volume id": str(views.volume_number(vol))}
            for n in vol.nodes]  # fmt: skip


@job("db_start", "operate", "Start a database and wait until it runs (the job ends then; if the start fails, "
     "the job fails with the reason).", mandatory=(DB_NAME,),
     optional=(p("maintenance", bool, "Start in maintenance mode: clients cannot connect."), TIMEOUT, CLUSTER),
     example={"db_name": "exa_db1"}, on=on_database)  # fmt: skip
def db_start(ctx: JobContext, params: dict[str, Any]) -> Wait:
    db, timeout = _database(ctx, params)
    db.start(maintenance=params.get("maintenance", False))
    return Wait({"until": "db_running", "db": db.name, "what": f"state running of {db.name}"}, timeout)


@condition("db_running")
def _db_running(c: Cluster, wait: dict[str, Any]) -> tuple[int, str, Any] | None:
    db = c.database(wait["db"])
    if db.state == RUNNING:
        return jobs.OK, "Success", None
    if db.state in (SETUP, NONE):
        why = "; ".join(db.errors) or "it stopped"
        return jobs.FAILED, f"database {db.name} did not start: {why}", None
    return None


@job("db_stop", "operate", "Stop a database and wait until it is down (state 'setup'). force: abort what it "
     "does (a backup is dropped) and stop at once.", mandatory=(DB_NAME,),
     optional=(p("force", bool, "Stop by force, aborting any operation."), CLUSTER, TIMEOUT),
     example={"db_name": "exa_db1"}, on=on_database)  # fmt: skip
def db_stop(ctx: JobContext, params: dict[str, Any]) -> Wait:
    db, timeout = _database(ctx, params)
    if params.get("force", False):
        db.force_stop()
    else:
        db.stop()
    return Wait({"until": "db_stopped", "db": db.name, "what": f"state setup of {db.name}"}, timeout)


@condition("db_stopped")
def _db_stopped(c: Cluster, wait: dict[str, Any]) -> tuple[int, str, Any] | None:
    db = c.database(wait["db"])
    return (jobs.OK, "Success", None) if db.state in (SETUP, NONE) else None


def _mem_gib(text: str) -> int:
    """'2048 MiB', '2 GiB', '1 TiB' as whole GiB (a database's memory is kept in GiB)."""
    parts = text.split()
    units = {"MiB": 1 / 1024, "GiB": 1, "TiB": 1024}
    try:
        value = float(parts[0])
    except (ValueError, IndexError):
        value = -1.0
    if len(parts) != 2 or parts[1] not in units or value <= 0:
        raise UsageError(f"mem_size must be like '2048 MiB' or '2 GiB', got {text!r}")
    gib = value * units[parts[1]]
    if not float(gib).is_integer():
        raise UsageError(f"mem_size: this cluster keeps database memory in whole GiB; {text!r} is {gib:g} GiB")
    return int(gib)


@job("db_create", "operate", "Create a database: defined and created at once, in state 'setup' (db_start "
     "starts it). nodes: its nodes by id, the first num_active_nodes of them active, the rest reserve.",
     mandatory=(DB_NAME, p("version", str, "Database version (an installed one, like the cluster's)."),
                p("data_volume_name", str, "Name of a data volume no other database uses (DataVolume1 ...)."),
                p("mem_size", str, "Database memory over all its active nodes, like '2048 MiB' (whole GiB)."),
                p("nodes", list, "Ids of its nodes, like [11, 12, 13]."),
                p("num_active_nodes", int, "How many of nodes are active.")),
     optional=(p("data_volume_id", int, "Id of the data volume (substitutes data_volume_name)."),
               p("port", int, "Port clients connect to (default 8563)."),
               p("params", str, "Extra startup parameters of the database processes.")),
     substitutes={"data_volume_name": "data_volume_id"},
     example={"db_name": "exa_db2", "version": "6.2.17", "data_volume_name": "DataVolume3", "mem_size": "4 GiB",
              "nodes": [11, 12], "num_active_nodes": 2})  # fmt: skip
def db_create(ctx: JobContext, params: dict[str, Any]) -> None:
    c = ctx.cluster
    if "data_volume_id" in params:
        vol = views.volume_by(c, vid=params["data_volume_id"])
    else:
        vol = views.volume_by(c, vname=params["data_volume_name"])
    nodes = views.nodes_by_ids(c, params["nodes"], "nodes")
    values = {"database_name": params["db_name"], "database_version": params["version"], "data_volume": vol.vid,
              "memory_usage": _mem_gib(params["mem_size"]), "nodes_list": [n.name for n in nodes],
              "nodes_number": params["num_active_nodes"], "clients_port_number": params.get("port", 8563)}  # fmt: skip
    if "params" in params:
        values["extra_params"] = params["params"]
    db = c.add_database(values)
    db.create()
