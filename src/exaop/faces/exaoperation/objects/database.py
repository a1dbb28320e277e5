"""Database objects (/cluster1/db_<name>): lifecycle, settings, backups, restores, schedules."""

from __future__ import annotations

import base64
import binascii
import xmlrpc.client
from typing import Any

from exaop.faces.exaoperation.dispatch import Context
from exaop.faces.exaoperation.objects.kinds import fields_help
from exaop.faces.exaoperation.registry import ObjectType
from exaop.model import backups
from exaop.model.database import NODE_ACTIONS, RESTORE_TYPES, SCHEMA, Database
from exaop.model.errors import UsageError
from exaop.model.schema import Schema

DATABASE = ObjectType("Database")
m = DATABASE.method
OK = "OK"
#: the fields addDatabase takes (editDatabase's nodes_list_* actions are not among them)
ADD_FIELDS = Schema("database", [f for f in SCHEMA if f.name not in NODE_ACTIONS])


# -- state and lifecycle ------------------------------------------------------------------------


@m("getDatabaseState", "read", "The database's state: 'none' (defined, never created), 'setup' "
   "(created, stopped), 'starting', 'running' or 'stopping'.")  # fmt: skip
def get_database_state(ctx: Context, db: Database) -> str:
    return db.state


@m("stateDatabase", "read", "The database's state in words.")
def state_database(ctx: Context, db: Database) -> str:
    return db.state_in_words()


@m("getDatabaseOperation", "read", "The operation in progress ('Startup', 'Shutdown', 'Backup', 'Restore', "
   "'Shrink' ...), or the string 'None' when idle.", aliases=("operationGetCurrent",))  # fmt: skip
def get_database_operation(ctx: Context, db: Database) -> str:
    return db.operation


@m("getDatabaseConnectionState", "read", "'Yes' once clients can connect, else 'No'.")
def get_database_connection_state(ctx: Context, db: Database) -> str:
    return "Yes" if db.connectible else "No"


@m("getDatabaseConnectionString", "read", "The address clients connect to, like '10.50.1.11..13:8563': "
   "the addresses of its active nodes and its port.")  # fmt: skip
def get_database_connection_string(ctx: Context, db: Database) -> str:
    return db.connection_string()


@m("createDatabase", "operate", "Create the database's files; it must not exist yet. Leaves it in 'setup'.")
def create_database(ctx: Context, db: Database) -> str:
    db.create()
    return OK


@m("startDatabase", "operate", "Start the database; returns at once. Refused unless EXAStorage is "
   "online and enough of its nodes are running (an active node that is down is replaced by a running "
   "reserve node, which it is listed as failed for). Watch getDatabaseConnectionState.")  # fmt: skip
def start_database(ctx: Context, db: Database) -> str:
    db.start()
    return OK


@m("startDatabaseMaintenance", "operate", "Start the database in maintenance mode: it runs, backups and "
   "shrinking work, but clients cannot connect until it is restarted normally. Same conditions as "
   "startDatabase.")  # fmt: skip
def start_database_maintenance(ctx: Context, db: Database) -> str:
    db.start(maintenance=True)
    return OK


@m("maintenanceDatabase", "read", "Whether the database runs (or starts) in maintenance mode.", returns="boolean")
def maintenance_database(ctx: Context, db: Database) -> bool:
    return db.maintenance


@m("shutdownDatabase", "operate", "Stop the running, idle database; returns at once and the state "
   "reaches 'setup' when it is down (runningDatabase stays True until then).",
   aliases=("stopDatabase",))  # fmt: skip
def shutdown_database(ctx: Context, db: Database) -> str:
    db.stop()
    return OK


@m("forceShutdownDatabase", "operate", "Stop the database quickly, aborting any operation: a backup is "
   "dropped, a shrink keeps what it did, a restore under way leaves the data incomplete.")  # fmt: skip
def force_shutdown_database(ctx: Context, db: Database) -> str:
    db.force_stop()
    return OK


@m("restartDatabase", "operate", "Stop the running, idle database and start it again; returns at once.")
def restart_database(ctx: Context, db: Database) -> str:
    db.restart()
    return OK


@m("runningDatabase", "read", "Whether the database is started: True from startDatabase until it has "
   "fully stopped (state 'setup'), so a script can wait for a shutdown with it.", returns="boolean")  # fmt: skip
def running_database(ctx: Context, db: Database) -> bool:
    return db.running


@m("existDatabase", "read", "Whether the database has been created.", returns="boolean")
def exist_database(ctx: Context, db: Database) -> bool:
    return db.state != "none"


@m("getDatabaseInfo", "read", "The database's main facts: name, state, operation, connectible, "
   "connection string, info, nodes (active, failed, reserve), persistent volume, temporary volume "
   "('None' while it is stopped), quota, usage persistent and usage temporary (GiB, what it uses on "
   "those volumes), version.", returns="struct")  # fmt: skip
def get_database_info(ctx: Context, db: Database) -> dict[str, Any]:
    return db.info()


@m("getDatabaseNodes", "read", "The database's nodes: {'active': [...], 'failed': [...], 'reserve': [...]}.",
   returns="struct")  # fmt: skip
def get_database_nodes(ctx: Context, db: Database) -> dict[str, list[str]]:
    return db.node_sets()


@m("getNodeState", "read", "For each of the database's nodes: 'online', 'offline' or 'failed'.", returns="struct")
def get_node_state(ctx: Context, db: Database) -> dict[str, str]:
    return db.node_states()


@m("getDatabaseVersion", "read", "The EXASolution version the database runs.")
def get_database_version(ctx: Context, db: Database) -> str:
    return db.version


@m("getCurrentErrors", "read", "Why the database last failed to start or stopped by itself (empty when fine).",
   returns="array")  # fmt: skip
def get_current_errors(ctx: Context, db: Database) -> list[str]:
    return list(db.errors)


@m("getCurrentDatabaseSize", "read", "What the database holds on its data volume now, in GiB (the same "
   "figure as getDatabaseInfo's 'usage persistent').", returns="double")  # fmt: skip
def get_current_database_size(ctx: Context, db: Database) -> float:
    return round(db.allocated_gib, 3)


# -- settings -------------------------------------------------------------------------------------


@m("getProperties", "read", "The database's settings as a dictionary (the nodes_list_* fields are "
   "editDatabase actions and read as []).", returns="struct")  # fmt: skip
def get_properties(ctx: Context, db: Database) -> dict[str, Any]:
    return db.properties()


@m("editDatabase", "operate", "Change the database's settings while it is stopped: a dictionary with "
   "any of these fields, checked together before anything changes. Returns the names of the fields "
   "that changed.\n\n" + fields_help(SCHEMA, creating=False), returns="array")  # fmt: skip
def edit_database(ctx: Context, db: Database, values: dict) -> list[str]:
    return db.configure(values)


@m("enlargeDatabase", "operate", "Make count_of_added_active_nodes reserve nodes active nodes, for good; "
   "the database must be stopped and have that many reserve nodes. Backups made before cannot be "
   "restored into it afterwards (a restore needs as many nodes).")  # fmt: skip
def enlarge_database(ctx: Context, db: Database, count_of_added_active_nodes: int) -> str:
    db.enlarge(count_of_added_active_nodes)
    return OK


@m("shrinkDatabase", "operate", "Shrink what the running database holds on its data volume to "
   "target_size_in_gb (not below its data); runs as operation 'Shrink' on the clock, abortShrink stops "
   "it where it is.")  # fmt: skip
def shrink_database(ctx: Context, db: Database, target_size_in_gb: float) -> str:
    db.start_shrink(target_size_in_gb)
    return OK


@m("abortShrink", "operate", "Stop the shrink under way; the database keeps the space it has freed so far.")
def abort_shrink(ctx: Context, db: Database) -> str:
    db.abort_shrink()
    return OK


# -- backups ----------------------------------------------------------------------------------------


@m("backupDatabase", "operate", "Start a backup to an archive volume: backupDatabase(volume, level, "
   "expire), e.g. ('v0001', 0, '1w'). Level 0 is full; level n holds the changes since the latest usable "
   "backup of a lower level on that volume. expire is like '1w', '3d 12h', '30m' ('' never). The "
   "database shows operation 'Backup' until it ends; the backup's size is used on the volume from the "
   "start, and a volume without room refuses it.", aliases=("startStorageBackup",))  # fmt: skip
def backup_database(ctx: Context, db: Database, volume: str, level: int, expire: str) -> str:
    db.start_backup(volume, level, expire)
    return OK


@m("abortBackup", "operate", "Abort the backup in progress; its space on the archive volume is freed.")
def abort_backup(ctx: Context, db: Database) -> str:
    db.abort_backup()
    return OK


@m("getBackups", "read", "The backups, each a dictionary: id (volume number, path and database, "
   "space-separated: what restoreDatabase and deleteBackups take), bid, volume, system, level, "
   "dependencies, timestamp, expire ('%Y-%m-%d %H:%M' UTC, '' never), expire_alterable (its "
   "element [1] is what changeBackupExpiration takes), expired, usable, usage, path, ts, comment, "
   "last_item. show_all_databases: every database's, not only this one's; show_expired_backups: "
   "expired ones too.", returns="array")  # fmt: skip
def get_backups(ctx: Context, db: Database, show_all_databases: bool = False,
                show_expired_backups: bool = True) -> list[dict[str, Any]]:  # fmt: skip
    return backups.listing(ctx.cluster, db.name, show_all_databases, show_expired_backups)


@m("getBackupList", "read", "This database's backups that have not expired, as [backup id, volume id] "
   "pairs (ids are unique per volume). getBackups tells more.", returns="array")  # fmt: skip
def get_backup_list(ctx: Context, db: Database) -> list[list[Any]]:
    return backups.pairs(ctx.cluster, db.name)


@m("getBackupInfo", "read", "One of this database's backups: by id (an int, when only one volume has "
   "it), [id, volume], its timestamp ('%Y-%m-%d %H:%M') or its getBackups id. A dictionary with id, "
   "system, level, usable, expired, volume (a list), dependencies (the ids it needs, oldest first), "
   "timestamp, 'expire date', files (data and metadata per node), size (GiB), nodes, path, version.",
   aliases=("backupInfo",), returns="struct")  # fmt: skip
def get_backup_info(ctx: Context, db: Database, timestamp: Any) -> dict[str, Any]:
    return backups.find(ctx.cluster, db.name, timestamp).info()


@m("changeBackupExpiration", "operate", "Set when a backup expires: changeBackupExpiration(volume, "
   "backup_files, expire_time) with the volume's id or number, the backup as 'exa_db1/id_3/level_1' "
   "(getBackups: expire_alterable) and seconds since the epoch (0: never; a time past expires it now).")  # fmt: skip
def change_backup_expiration(ctx: Context, db: Database, volume: Any, backup_files: str, expire_time: Any) -> str:
    backups.change_expiration(ctx.cluster, volume, backup_files, expire_time)
    return OK


@m("deleteBackups", "operate", "Delete backups given as a list of getBackups ids; all are checked first. "
   "Backups that build on a deleted one become unusable. Returns how many were deleted.",
   returns="int")  # fmt: skip
def delete_backups(ctx: Context, db: Database, backup_list: list) -> int:
    return backups.delete_backups(ctx.cluster, backup_list, by=ctx.user.login)


@m("deleteUnusableBackups", "operate", "Delete this database's backups that can no longer be restored "
   "(a backup they build on is gone); use_all_databases: every database's. Returns how many.",
   returns="int")  # fmt: skip
def delete_unusable_backups(ctx: Context, db: Database, use_all_databases: bool = False) -> int:
    return backups.delete_unusable(ctx.cluster, None if use_all_databases else db.name, by=ctx.user.login)


@m("getPddProgress", "read", "The backup or restore under way (else the last one): a dictionary with "
   "Type ('Backup', 'Restore', '' for none yet), Name, Level, 'Volume ID', Progress (0-100), Comment, "
   "Files.", returns="struct")  # fmt: skip
def get_pdd_progress(ctx: Context, db: Database) -> dict[str, Any]:
    return db.pdd_progress()


# -- schedules --------------------------------------------------------------------------------------


@m("setBackupSchedule", "operate", "Replace the database's backup schedule with a list of backup "
   "definitions ([] clears it). Each is a dictionary: volume (an archive volume) and level are required; "
   "backup_name (default scheduleN), expire (like '1w', '' never), minute (default '0'), hour, day, "
   "month, weekday (cron fields, default '*'; weekdays 0-7 or names) and enabled (default True). At "
   "each due minute (UTC) the backup starts if the database can take it; otherwise the log says why.")  # fmt: skip
def set_backup_schedule(ctx: Context, db: Database, schedule: list) -> str:
    backups.set_schedule(ctx.cluster, db, schedule)
    return OK


@m("getBackupSchedule", "read", "The database's backup schedule: the list setBackupSchedule took, each "
   "definition with all its fields.", returns="array")  # fmt: skip
def get_backup_schedule(ctx: Context, db: Database) -> list[dict[str, Any]]:
    return backups.schedule_entries(ctx.cluster, db.name)


@m("getNextSchedules", "read", "The scheduled backups due in the next 7 days (at most 100), in time "
   "order: dictionaries with time ('%Y-%m-%d %H:%M' UTC), timestamp, backup_name, volume, level, expire.",
   returns="array")  # fmt: skip
def get_next_schedules(ctx: Context, db: Database) -> list[dict[str, Any]]:
    return backups.next_schedules(ctx.cluster, db.name)


# -- restores ---------------------------------------------------------------------------------------


@m("restoreDatabase", "operate", "Restore a backup (its getBackups id, of this or another database) into "
   "this stopped database, with as many active nodes as the backup: restoreDatabase(backup_id, "
   "restore_type), restore_type one of " + ", ".join(repr(t) for t in RESTORE_TYPES) + ". The database "
   "starts with operation 'Restore'. blocking: clients connect once the data is back; nonblocking: they "
   "connect while it restores in the background; virtual access: it runs read-only on the backup itself, "
   "its own data untouched and back after the next shutdown. Progress: getPddProgress.")  # fmt: skip
def restore_database(ctx: Context, db: Database, backup_id: str, restore_type: str) -> str:
    db.start_restore(backup_id, restore_type)
    return OK


# -- keytabs, statistics ------------------------------------------------------------------------------


@m("uploadKeyTab", "operate", "Store a Kerberos keytab for the database (the file's content, as base64 "
   "binary or base64 text, at most 64 KiB); used from its next start with krb_host, krb_realm, "
   "krb_service.")  # fmt: skip
def upload_keytab(ctx: Context, db: Database, keytab: Any) -> str:
    db.upload_keytab(_file_content(keytab))
    return OK


@m("removeKeyTab", "operate", "Remove the database's Kerberos keytab.")
def remove_keytab(ctx: Context, db: Database) -> str:
    db.remove_keytab()
    return OK


@m("existsKeyTab", "read", "Whether the database has a Kerberos keytab.", returns="boolean")
def exists_keytab(ctx: Context, db: Database) -> bool:
    return bool(db.keytab)


@m("getDatabaseStatistics", "read", "Statistics of the running database as a ZIP of CSV files, base64 "
   "encoded: getDatabaseStatistics(user, password, start='', stop=''), dates like '2024-01-31' (default "
   "the last 30 days). EXA_DB_SIZE.csv holds its sizes now (no history is kept here), "
   "EXA_SYSTEM_EVENTS.csv its log messages in the range. The simulated database has no users of its "
   "own: user and password must be given but are not checked.")  # fmt: skip
def get_database_statistics(ctx: Context, db: Database, user: str, password: str, start: str = "",
                            stop: str = "") -> str:  # fmt: skip
    return base64.b64encode(db.statistics(user, password, start, stop)).decode("ascii")


@m("objectRepresentation", "read", "This object as a dictionary: its type, name, path and settings.",
   returns="struct")  # fmt: skip
def object_representation(ctx: Context, db: Database) -> dict[str, Any]:
    return {"type": DATABASE.name, "name": f"db_{db.name}", "path": ctx.url_path, "properties": db.properties()}


def _file_content(value: Any) -> bytes:
    """A file sent over XML-RPC: <base64> (Binary), or base64 text."""
    if isinstance(value, xmlrpc.client.Binary):
        return bytes(value.data)
    if isinstance(value, str):
        try:
            return base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise UsageError("keytab must be the file's content as base64 (text or an XML-RPC base64 value)") from None
    raise UsageError("keytab must be the file's content as base64 (text or an XML-RPC base64 value)")
