"""Database objects (/cluster1/db_<name>)."""

from __future__ import annotations

from typing import Any

from exaop.model.database import Database
from exaop.rpc.dispatch import Context
from exaop.rpc.registry import ObjectType

DATABASE = ObjectType("Database")
m = DATABASE.method
OK = "OK"


@m("getDatabaseState", "read", "The database's state: 'none' (defined, never created), 'setup' "
   "(created, stopped), 'starting', 'running' or 'stopping'.")  # fmt: skip
def get_database_state(ctx: Context, db: Database) -> str:
    return db.state


@m("stateDatabase", "read", "The database's state in words.")
def state_database(ctx: Context, db: Database) -> str:
    return db.state_in_words()


@m("getDatabaseOperation", "read", "The operation in progress ('Startup', 'Shutdown', 'Backup', ...), "
   "or the string 'None' when idle.", aliases=("operationGetCurrent",))  # fmt: skip
def get_database_operation(ctx: Context, db: Database) -> str:
    return db.operation


@m("getDatabaseConnectionState", "read", "'Yes' once clients can connect, else 'No'.")
def get_database_connection_state(ctx: Context, db: Database) -> str:
    return "Yes" if db.connectible else "No"


@m("getDatabaseConnectionString", "read", "The address clients connect to, like '10.50.1.11..13:8563'.")
def get_database_connection_string(ctx: Context, db: Database) -> str:
    return db.connection_string()


@m("createDatabase", "operate", "Create the database's files; it must not exist yet. Leaves it in 'setup'.")
def create_database(ctx: Context, db: Database) -> str:
    db.create()
    return OK


@m("startDatabase", "operate", "Start the database; returns at once. Refused unless EXAStorage is "
   "online and enough of its nodes are running. Watch getDatabaseConnectionState.")  # fmt: skip
def start_database(ctx: Context, db: Database) -> str:
    db.start()
    return OK


@m("shutdownDatabase", "operate", "Stop the running, idle database; returns at once and the state "
   "reaches 'setup' when it is down.", aliases=("stopDatabase",))  # fmt: skip
def shutdown_database(ctx: Context, db: Database) -> str:
    db.stop()
    return OK


@m("forceShutdownDatabase", "operate", "Stop the database quickly, aborting any operation such as a backup.")
def force_shutdown_database(ctx: Context, db: Database) -> str:
    db.force_stop()
    return OK


@m("restartDatabase", "operate", "Stop the running, idle database and start it again; returns at once.")
def restart_database(ctx: Context, db: Database) -> str:
    db.restart()
    return OK


@m("runningDatabase", "read", "Whether the database is running.", returns="boolean")
def running_database(ctx: Context, db: Database) -> bool:
    return db.state == "running"


@m("existDatabase", "read", "Whether the database has been created.", returns="boolean")
def exist_database(ctx: Context, db: Database) -> bool:
    return db.state != "none"


@m("getDatabaseInfo", "read", "The database's main facts: state, operation, connectible, "
   "connection string, nodes, volumes and usage (GiB).", returns="struct")  # fmt: skip
def get_database_info(ctx: Context, db: Database) -> dict[str, Any]:
    return db.info()


@m("getDatabaseNodes", "read", "The database's nodes: {'active': [...], 'failed': [...], 'reserve': [...]}.",
   returns="struct")  # fmt: skip
def get_database_nodes(ctx: Context, db: Database) -> dict[str, list[str]]:
    return db.node_sets()


@m("getNodeState", "read", "For each of the database's nodes: 'online', 'offline' or 'failed'.", returns="struct")
def get_node_state(ctx: Context, db: Database) -> dict[str, str]:
    return db.node_states()


@m("getDatabaseVersion", "read", "The database's version.")
def get_database_version(ctx: Context, db: Database) -> str:
    return db.version


@m("getCurrentErrors", "read", "Why the database last failed to start or stopped by itself (empty when fine).",
   returns="array")  # fmt: skip
def get_current_errors(ctx: Context, db: Database) -> list[str]:
    return list(db.errors)


@m("backupDatabase", "operate", "Start a backup to an archive volume: backupDatabase(volume, level, "
   "expire), e.g. ('v0001', 0, '1w'). The database shows operation 'Backup' until it ends.",
   aliases=("startStorageBackup",))  # fmt: skip
def backup_database(ctx: Context, db: Database, volume: str, level: int, expire: str) -> str:
    db.start_backup(volume, level, expire)
    return OK


@m("abortBackup", "operate", "Abort the backup in progress.")
def abort_backup(ctx: Context, db: Database) -> str:
    db.abort_backup()
    return OK


@m("getProperties", "read", "The database's settings.", returns="struct")
def get_properties(ctx: Context, db: Database) -> dict[str, Any]:
    return db.properties()


@m("editDatabase", "operate", "Change the database's settings (it must be stopped); returns the names "
   "of the fields that changed.", returns="array")  # fmt: skip
def edit_database(ctx: Context, db: Database, values: dict) -> list[str]:
    return db.configure(values)
