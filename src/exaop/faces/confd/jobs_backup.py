"""Backup and restore jobs: db_backup_start, db_backup_abort, db_backup_list, db_backup_progress,
db_backups_delete, db_backup_change_expiration, db_backup_add_schedule, db_backup_modify_schedule,
db_backup_remove_schedule, db_restore."""

from __future__ import annotations

import calendar
import time
from typing import TYPE_CHECKING, Any

from exaop.faces.confd import views
from exaop.faces.confd.jobs_db import DB_NAME
from exaop.faces.confd.registry import Wait, job, on_database, p
from exaop.faces.confd.service import JobContext, Outcome, condition
from exaop.model import backups, jobs
from exaop.model.database import RESTORE_TYPES, RUNNING
from exaop.model.errors import NotFound, UsageError

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster

VOLUME_ID = p("backup_volume_id", int, "Id of the archive volume (1; a remote volume r0001 is 10001).")
VOLUME_NAME = p("backup_volume_name", str, "Name of the archive volume (ArchiveVolume2, or r0001 for a remote one).")
VOLUME_SUBS = {"backup_volume_id": "backup_volume_name"}
LEVEL = p("level", int, "Backup level: 0 full, 1-9 incremental.")
EXPIRE = p("expire", (str, int), "When the backup expires, like '1w 3d' (a number: seconds, whole minutes); "
           "none: never.")  # fmt: skip
CRON = ("minute", "hour", "day", "month", "weekday")


def _archive(c: Cluster, params: dict[str, Any]) -> str:
    """The archive volume's id ('v0001', 'r0001') from backup_volume_id or backup_volume_name."""
    if "backup_volume_id" in params:
        return backups.volume_by_number(c, params["backup_volume_id"])
    name = params["backup_volume_name"]
    for vol in views.local_volumes(c):
        if name in (views.volume_name(vol), vol.vid):
            return vol.vid
    if name in c.volumes:
        return str(name)
    raise NotFound(f"backup_volume_name: no volume named {name!r}")


def _expire(value: Any) -> str:
    if isinstance(value, int):
        if value < 0 or value % 60:
            raise UsageError("expire as a number is seconds, in whole minutes (0: never)")
        return f"{value // 60}m" if value else ""
    return str(value).strip()


@job("db_backup_start", "operate", "Start a backup of a running database to an archive volume; the job ends "
     "once it has started (db_backup_progress follows it).", mandatory=(DB_NAME, VOLUME_ID, LEVEL),
     optional=(VOLUME_NAME, EXPIRE), substitutes=VOLUME_SUBS,
     example={"db_name": "exa_db1", "backup_volume_id": 1, "level": 0, "expire": "1w"},
     on=on_database)  # fmt: skip
def db_backup_start(ctx: JobContext, params: dict[str, Any]) -> None:
    c = ctx.cluster
    db = c.database(params["db_name"])
    db.start_backup(_archive(c, params), params["level"], _expire(params.get("expire", "")))


@job("db_backup_abort", "operate", "Abort the database's backup under way; its space on the volume is freed.",
     mandatory=(DB_NAME,), example={"db_name": "exa_db1"}, on=on_database)  # fmt: skip
def db_backup_abort(ctx: JobContext, params: dict[str, Any]) -> None:
    ctx.cluster.database(params["db_name"]).abort_backup()


@job("db_backup_list", "read", "The database's backups: bid, comment, dependencies, expire, expire_alterable, "
     "expired, id (what db_backups_delete and db_restore take), last_item, level, path, system, timestamp, ts, "
     "usable, usage, volume.", mandatory=(DB_NAME,),
     optional=(p("show_foreign", bool, "Also the backups of other databases."),),
     example={"db_name": "exa_db1"}, on=on_database)  # fmt: skip
def db_backup_list(ctx: JobContext, params: dict[str, Any]) -> list[dict[str, Any]]:
    c = ctx.cluster
    db = c.database(params["db_name"])
    return backups.listing(c, db.name, params.get("show_foreign", False), True)


@job("db_backup_progress", "read", "The backup or restore under way (else the last one): Type ('Backup', "
     "'Restore', '' for none yet), Name, Level, 'Volume ID', Progress (0-100), Comment, Files.",
     mandatory=(DB_NAME,), example={"db_name": "exa_db1"}, on=on_database)  # fmt: skip
def db_backup_progress(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    return ctx.cluster.database(params["db_name"]).pdd_progress()


@job("db_backups_delete", "operate", "Delete backups by their ids (db_backup_list: id); all are checked first. "
     "Backups that build on a deleted one become unusable.",
     mandatory=(DB_NAME, p("backup_list", list, "Ids of the backups, as db_backup_list shows them.")),
     example={"db_name": "exa_db1", "backup_list": ["1 exa_db1/id_1/level_0/node_0/backup_202401010000 exa_db1"]},
     on=on_database)  # fmt: skip
def db_backups_delete(ctx: JobContext, params: dict[str, Any]) -> None:
    c = ctx.cluster
    db = c.database(params["db_name"])
    for ident in params["backup_list"]:
        b = backups.by_ident(c, ident)
        if b.system != db.name:
            raise UsageError(f"backup_list: {ident!r} is a backup of {b.system}, not of {db.name}")
    backups.delete_backups(c, params["backup_list"], by=ctx.user.login)


@job("db_backup_change_expiration", "operate", "Change when a backup expires: backup_files like "
     "'exa_db1/id_1/level_0' (db_backup_list: expire_alterable), expire_time 'YYYY-MM-DD hh:mm:ss' (UTC; '' "
     "never; a time past expires it now).",
     mandatory=(VOLUME_ID, p("backup_files", str, "The backup, like 'exa_db1/id_1/level_0'."),
                p("expire_time", str, "'YYYY-MM-DD hh:mm:ss' (UTC), '' for never.")),
     optional=(VOLUME_NAME,), substitutes=VOLUME_SUBS,
     example={"backup_volume_id": 1, "backup_files": "exa_db1/id_1/level_0",
              "expire_time": "2030-05-14 05:00:00"})  # fmt: skip
def db_backup_change_expiration(ctx: JobContext, params: dict[str, Any]) -> None:
    c = ctx.cluster
    backups.change_expiration(c, _archive(c, params), params["backup_files"], _epoch(params["expire_time"]))


def _epoch(text: str) -> int:
    """'YYYY-MM-DD hh:mm[:ss]' (UTC) as seconds since the epoch; '' is 0 (never)."""
    if not text.strip():
        return 0
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return calendar.timegm(time.strptime(text.strip(), fmt))
        except ValueError:
            continue
    raise UsageError(f"expire_time must be 'YYYY-MM-DD hh:mm:ss' (UTC) or '' for never, got {text!r}")


# -- schedules ------------------------------------------------------------------------------------------

BACKUP_NAME = p("backup_name", str, "Name of the schedule.")
CRON_PARAMS = tuple(p(f, (str, int), f"Cron {f} (like a crontab's; default: '0' for minute, else '*').")
                    for f in CRON)  # fmt: skip
ENABLED = p("enabled", bool, "Whether the schedule runs (default True).")


def _entries(c: Cluster, db_name: str) -> list[dict[str, Any]]:
    return backups.schedule_entries(c, c.database(db_name).name)


def _schedule_fields(params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {f: str(params[f]) for f in CRON if f in params}
    if "expire" in params:
        out["expire"] = _expire(params["expire"])
    if "enabled" in params:
        out["enabled"] = params["enabled"]
    return out


@job("db_backup_add_schedule", "operate", "Add a backup schedule to the database: at each due minute (UTC) a "
     "backup of that level starts on the archive volume if the database can take it.",
     mandatory=(DB_NAME, BACKUP_NAME, VOLUME_ID, LEVEL), optional=(VOLUME_NAME, EXPIRE, ENABLED, *CRON_PARAMS),
     substitutes=VOLUME_SUBS,
     example={"db_name": "exa_db1", "backup_name": "nightly", "backup_volume_id": 1, "level": 0, "hour": 2},
     on=on_database)  # fmt: skip
def db_backup_add_schedule(ctx: JobContext, params: dict[str, Any]) -> None:
    c = ctx.cluster
    entries = _entries(c, params["db_name"])
    if any(e["backup_name"] == params["backup_name"] for e in entries):
        raise UsageError(f"backup_name: the database has a schedule {params['backup_name']!r} already")
    entry = {"backup_name": params["backup_name"], "volume": _archive(c, params), "level": params["level"],
             **_schedule_fields(params)}  # fmt: skip
    backups.set_schedule(c, c.database(params["db_name"]), [*entries, entry])


@job("db_backup_modify_schedule", "operate", "Change a backup schedule of the database: any of expire, enabled "
     "and the cron fields.", mandatory=(DB_NAME, BACKUP_NAME), optional=(EXPIRE, ENABLED, *CRON_PARAMS),
     example={"db_name": "exa_db1", "backup_name": "nightly", "enabled": False}, on=on_database)  # fmt: skip
def db_backup_modify_schedule(ctx: JobContext, params: dict[str, Any]) -> None:
    c = ctx.cluster
    entries = _entries(c, params["db_name"])
    entry = _find(entries, params["backup_name"])
    entry.update(_schedule_fields(params))
    backups.set_schedule(c, c.database(params["db_name"]), entries)


@job("db_backup_remove_schedule", "operate", "Remove a backup schedule of the database.",
     mandatory=(DB_NAME, BACKUP_NAME), example={"db_name": "exa_db1", "backup_name": "nightly"},
     on=on_database)  # fmt: skip
def db_backup_remove_schedule(ctx: JobContext, params: dict[str, Any]) -> None:
    c = ctx.cluster
    entries = _entries(c, params["db_name"])
    entries.remove(_find(entries, params["backup_name"]))
    backups.set_schedule(c, c.database(params["db_name"]), entries)


def _find(entries: list[dict[str, Any]], name: str) -> dict[str, Any]:
    for e in entries:
        if e["backup_name"] == name:
            return e
    names = ", ".join(e["backup_name"] for e in entries) or "none"
    raise NotFound(f"backup_name: no schedule {name!r} (schedules: {names})")


# -- restore --------------------------------------------------------------------------------------------


@job("db_restore", "operate", "Restore a backup (its db_backup_list id, of this or another database) into the "
     "stopped database, and wait until the restore has ended. restore_type: " +
     ", ".join(repr(t) for t in RESTORE_TYPES) + ". The job fails if the restore does.",
     mandatory=(DB_NAME, p("backup_id", str, "The backup's id, as db_backup_list shows it."),
                p("restore_type", str, "blocking, nonblocking or virtual access.")),
     example={"db_name": "exa_db1", "backup_id": "1 exa_db1/id_1/level_0/node_0/backup_202401010000 exa_db1",
              "restore_type": "blocking"}, on=on_database)  # fmt: skip
def db_restore(ctx: JobContext, params: dict[str, Any]) -> Wait:
    db = ctx.cluster.database(params["db_name"])
    db.start_restore(params["backup_id"], params["restore_type"])
    return Wait({"until": "restored", "db": db.name, "what": f"the restore of {db.name}"})


@condition("restored")
def _restored(c: Cluster, wait: dict[str, Any]) -> Outcome | None:
    db = c.database(wait["db"])
    if db.restore:
        return None
    comment = str(db.last_pdd.get("Comment", ""))
    if db.state == RUNNING and not db.restore_incomplete and "failed" not in comment:
        return jobs.OK, "Success", None
    why = comment or "; ".join(db.errors) or f"the database is {db.state}"
    return jobs.FAILED, f"the restore of {db.name} did not finish: {why}", None
