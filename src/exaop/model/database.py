"""EXASolution database instances: settings, lifecycle, backups and restores, failover.

A database's settings are one :class:`Schema` (addDatabase, editDatabase, getProperties);
its runtime state (state, operation, nodes, data, the backup or restore under way) is
kept beside them. Everything that takes time runs on the clock as the database's one
deadline.

Figures that add up across calls:

* its data lives on its persistent volume (``data_volume``): ``usage persistent`` is what
  it holds there (``Volume.use('db:<name>')``), at least the data itself (``shrinkDatabase``
  brings it down towards that);
* while it runs it has a temporary volume of its own (``owner`` 'db_<name>', a quarter of
  its memory, at least 1 GiB) that goes away when it stops;
* a full backup is the size of its data, an incremental one a tenth of it, used on the
  archive volume (model/backups.py).

Nodes: ``active`` are the nodes it runs on (``nodes_number`` of them), ``failed`` the ones
taken out (down at a start, crashed under it, or deactivated), the rest of ``nodes_list``
are reserves. A node that crashes under the running database is replaced by a running
reserve and the database restarts on it; without one the database stops and says why.
A failed node stays failed until ``editDatabase({'nodes_list_reactivate': [...]})``.
"""

from __future__ import annotations

import base64
import calendar
import csv
import hashlib
import io
import re
import time
import zipfile
from typing import TYPE_CHECKING, Any

from exaop.model import backups
from exaop.model.backups import Backup, expire_seconds, utc_text, volume_number
from exaop.model.base import Entity, check_name
from exaop.model.errors import NotFound, UsageError
from exaop.model.lists import list_values
from exaop.model.schema import Field, Schema
from exaop.model.software import install_version, installed_versions

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster

NONE, SETUP, STARTING, RUNNING, STOPPING = "none", "setup", "starting", "running", "stopping"
IDLE = "None"  # what getDatabaseOperation answers when nothing runs (a string, not nil)
STARTUP, SHUTDOWN, RESTART, FORCE = "Startup", "Shutdown", "Restart", "Force shutdown"
BACKUP, RESTORE, SHRINK = "Backup", "Restore", "Shrink"
RESTORE_TYPES = ("blocking", "nonblocking", "virtual access")

TEMP_VOLUME_SHARE = 0.25  # a running database's temporary volume: this share of its memory (GiB)
FRAGMENTATION = 1.25  # a profile database's volume usage over its data (what shrinkDatabase reclaims)
KEYTAB_MAX = 64 * 1024
STATISTICS_DAYS = 30
VERSION_RE = re.compile(r"^(\d+)\.\d+(\.\d+)?([.-](dev|rc|beta|alpha)\d*)?$")
DURATION_RE = re.compile(r"^\s*(\d+\s*[wdhms]\s*)+$")
LDAP_RE = re.compile(r"^ldaps?://[A-Za-z0-9.\-\[\]:]+(:\d+)?/?$")
NODE_ACTIONS = ("nodes_list_add_reserve", "nodes_list_remove_reserve", "nodes_list_deactivate",
                "nodes_list_reactivate")  # fmt: skip


# -- the schema ------------------------------------------------------------------------------


def _db_nodes(db: Database) -> list[str]:
    return db.cluster.database_node_names()


def _data_disks(db: Database) -> list[str]:
    return list(list_values(db.cluster, "DataDisks"))


def _interfaces(db: Database) -> list[str]:
    return list(list_values(db.cluster, "DatabaseNetworkInterfaces"))


def _free_data_volumes(db: Database) -> list[str]:
    """Data volumes this database may use: its own, and those nobody else uses or owns."""
    c = db.cluster
    taken = {o.volume for o in c.databases.values() if o is not db}
    return sorted(v for v, vol in c.volumes.items() if vol.type == "Data" and (v == db.volume
                  or (not vol.owner and v not in taken)))  # fmt: skip


def _version(db: Database, value: str) -> None:
    m = VERSION_RE.match(value) if isinstance(value, str) else None
    major = db.cluster.version.split(".")[0]
    if m is None or m.group(1) != major:
        raise UsageError(
            f"database_version {value!r} is not an EXASolution {major} version: use {major}.<minor>[.<patch>], "
            f"optionally with a suffix such as .dev5 or -rc1 (installed: {', '.join(installed_versions(db.cluster))})"
        )


def _duration_or_empty(db: Database, value: str) -> None:
    if value and not DURATION_RE.match(value):
        raise UsageError(f"volume_restore_delay {value!r} is not a duration such as '10m', '1h' or '2h 30m'")


def _ldap(db: Database, value: str) -> None:
    for part in filter(None, (p.strip() for p in value.split(","))):
        if not LDAP_RE.match(part):
            raise UsageError(f"ldap_server {part!r} is not an LDAP URL such as ldap://192.168.16.10 or "
                             "ldaps://ldap.example.com:636 (several: separated by commas)")  # fmt: skip


SCHEMA = Schema("database", [
    Field("clients_port_number", "Int", "TCP port clients connect to.", required=True, minimum=1024,
          maximum=65535),
    Field("data_disk", "Choice", "Node disk for the database's runtime data (logs, spool); default the "
          "first data disk.", add_only=True, choices=_data_disks),
    Field("data_volume", "Choice", "EXAStorage data volume that holds the database's data; default a data "
          "volume no other database uses.", choices=_free_data_volumes),
    Field("database_comment", "TextLine", "A comment of your own.", max_len=200),
    Field("database_name", "TextLine", "The database's name; its object is db_<name>.", required=True,
          add_only=True, max_len=32),
    Field("database_version", "Choice", "EXASolution version it runs: the cluster's (default) or another of "
          "the same major version, like 6.0.dev5; a new one is installed with the database.", check=_version),
    Field("enable_auditing", "Bool", "Whether the database audits its sessions."),
    Field("extra_params", "TextLine", "Extra startup parameters of the database processes."),
    Field("krb_host", "TextLine", "Host name for Kerberos authentication."),
    Field("krb_realm", "TextLine", "Kerberos realm."),
    Field("krb_service", "TextLine", "Kerberos service name, e.g. exasol."),
    Field("ldap_server", "TextLine", "LDAP servers for remote authentication, like ldap://192.168.16.10, "
          "separated by commas.", check=_ldap),
    Field("memory_usage", "Int", "Database memory in GiB, over all its active nodes.", required=True, minimum=1),
    Field("nodes_list", "List", "The database's nodes: its active nodes first, then its reserve nodes.",
          required=True, add_only=True, choices=_db_nodes),
    Field("nodes_list_add_reserve", "List", "editDatabase: nodes to add as reserve nodes.", choices=_db_nodes),
    Field("nodes_list_deactivate", "List", "editDatabase: nodes to take out (an active one is replaced by a "
          "reserve node).", choices=_db_nodes),
    Field("nodes_list_reactivate", "List", "editDatabase: failed or deactivated nodes to make reserve nodes "
          "again.", choices=_db_nodes),
    Field("nodes_list_remove_reserve", "List", "editDatabase: reserve nodes to remove from the database.",
          choices=_db_nodes),
    Field("nodes_number", "Int", "How many of nodes_list are active (enlargeDatabase adds more).",
          required=True, add_only=True, minimum=1),
    Field("vlan_list", "List", "Network interfaces the database uses ([] : all).", choices=_interfaces),
    Field("volume_quota", "Int", "Largest size in GiB the database may use on its data volume (0: no quota); "
          "on start it shrinks to it where its data allows.", minimum=0),
    Field("volume_restore_delay", "TextLine", "How long a failed volume node waits before a reserve node "
          "takes its segments, like '10m' ('' : never).", check=_duration_or_empty),
])  # fmt: skip


# installed versions live in the cluster's software settings (model/software.py)


# -- the database ------------------------------------------------------------------------------


class Database(Entity):
    kind = "database"
    SCHEMA = SCHEMA

    def __init__(self, cluster: Cluster, name: str) -> None:
        super().__init__(cluster)
        self.name = name
        self.values: dict[str, Any] = {}  # the settings, by SCHEMA
        self.state = NONE
        self.operation = IDLE
        self.connectible = False
        self.active: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.start_fail = False  # injected fault: the next starts fail
        self.backup: dict[str, Any] = {}  # the backup under way
        self.restore: dict[str, Any] = {}  # the restore under way
        self.shrink: dict[str, Any] = {}  # the shrink under way
        self.last_pdd: dict[str, Any] = {}  # the last backup or restore that ended, for getPddProgress
        self.restart_after_stop = False
        self.maintenance = False  # started with startDatabaseMaintenance: no client connections
        self.temp_volume = ""
        self.data_gib = 0.0  # what its data takes
        self.allocated_gib = 0.0  # what it holds on its data volume ('usage persistent')
        self.virtual_backup = ""  # the backup it runs on with a 'virtual access' restore
        self.restore_incomplete = ""  # a restore that stopped half way: the data is not whole
        self.keytab: dict[str, Any] = {}

    @property
    def key(self) -> str:
        return self.name

    RECORD_FIELDS = (
        "values", "state", "operation", "connectible", "active", "failed", "errors", "start_fail",
        "backup", "restore", "shrink", "last_pdd", "restart_after_stop", "maintenance", "temp_volume",
        "data_gib", "allocated_gib", "virtual_backup", "restore_incomplete", "keytab",
    )  # fmt: skip
    #: where a record from before the schema kept each setting
    OLD_FIELDS = {"port": "clients_port_number", "volume": "data_volume", "comment": "database_comment",
                  "version": "database_version", "memory_gib": "memory_usage", "nodes_list": "nodes_list",
                  "nodes_number": "nodes_number", "extra_params": "extra_params", "ldap_server": "ldap_server",
                  "enable_auditing": "enable_auditing", "volume_quota": "volume_quota",
                  "volume_restore_delay": "volume_restore_delay"}  # fmt: skip

    def record(self) -> dict[str, Any]:
        rec = {f: getattr(self, f) for f in self.RECORD_FIELDS}
        rec["deadline"] = self.deadline
        return rec

    @classmethod
    def from_record(cls, cluster: Cluster, key: str, rec: dict[str, Any]) -> Database:
        db = cls(cluster, key)
        for f in cls.RECORD_FIELDS:
            if f in rec:
                setattr(db, f, rec[f])
        if "values" not in rec:  # written before the schema: the settings were fields of their own
            db.values = {f.name: f.empty() for f in SCHEMA if f.name not in NODE_ACTIONS}
            db.values.update({new: rec[old] for old, new in cls.OLD_FIELDS.items() if old in rec})
            db.values["database_name"] = key
            if not db.active:
                db.active = db.nodes_list[: db.nodes_number]
        db.restore_deadline(rec.get("deadline"))
        return db

    # -- settings by name ----------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self.values.get("clients_port_number", 8563))

    @property
    def volume(self) -> str:
        return str(self.values.get("data_volume", ""))

    @property
    def version(self) -> str:
        return str(self.values.get("database_version", ""))

    @property
    def nodes_list(self) -> list[str]:
        return list(self.values.get("nodes_list", []))

    @property
    def nodes_number(self) -> int:
        return int(self.values.get("nodes_number", 1))

    @property
    def memory_gib(self) -> int:
        return int(self.values.get("memory_usage", 1))

    @property
    def vlan_list(self) -> list[str]:
        return list(self.values.get("vlan_list", []))

    # -- derived views ---------------------------------------------------------------------

    @property
    def reserve(self) -> list[str]:
        out = set(self.active) | set(self.failed)
        return [n for n in self.nodes_list if n not in out]

    @property
    def busy(self) -> bool:
        return self.operation != IDLE

    @property
    def uses_storage(self) -> bool:
        return self.state in (STARTING, RUNNING, STOPPING)

    @property
    def running(self) -> bool:
        """runningDatabase: from the start until it has fully stopped (scripts wait on it)."""
        return self.state in (STARTING, RUNNING, STOPPING)

    def node_sets(self) -> dict[str, list[str]]:
        return {"active": list(self.active), "failed": list(self.failed), "reserve": self.reserve}

    def state_in_words(self) -> str:
        text = f"{self.name} is {self.state}"
        if self.busy:
            text += f", operation {self.operation} in progress"
        if self.state == RUNNING:
            if self.maintenance:
                text += ", in maintenance mode (no client connections)"
            else:
                text += ", accepting connections" if self.connectible else ", not yet accepting connections"
        if self.virtual_backup:
            text += f", on virtual access to backup {self._backup_name(self.virtual_backup)} (read-only)"
        return text

    def node_states(self) -> dict[str, str]:
        """Each of the database's nodes: 'failed' (taken out), 'online' or 'offline'."""
        nodes = self.cluster.nodes
        return {
            n: "failed" if n in self.failed else ("online" if nodes[n].online else "offline") for n in self.nodes_list
        }

    def connection_string(self) -> str:
        return f"{self.cluster.ip_ranges(self.active)}:{self.port}"

    def properties(self) -> dict[str, Any]:
        return SCHEMA.public(self.values)

    def info(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state,
            "operation": self.operation,
            "connectible": "Yes" if self.connectible else "No",
            "connection string": self.connection_string(),
            "info": self._info_text(),
            "nodes": self.node_sets(),
            "persistent volume": self.volume or "None",
            "temporary volume": self.temp_volume or "None",
            "quota": int(self.values.get("volume_quota", 0)),
            "usage persistent": round(self.allocated_gib, 3),
            "usage temporary": self.temp_usage(),
            "version": self.version,
        }

    def _info_text(self) -> str:
        if self.errors:
            return "; ".join(self.errors)
        if self.restore_incomplete:
            return f"the restore from {self.restore_incomplete} did not finish; restore a backup again"
        if self.virtual_backup:
            return f"virtual access to backup {self._backup_name(self.virtual_backup)} (read-only)"
        if self.maintenance and self.state == RUNNING:
            return "maintenance mode: clients cannot connect"
        return ""

    def temp_usage(self) -> float:
        vol = self.cluster.volumes.get(self.temp_volume)
        return round(vol.usage.get(f"db:{self.name}", 0.0), 3) if vol else 0.0

    def _backup_name(self, key: str) -> str:
        b = self.cluster.table(Backup.kind).get(key)
        return f"{b.prefix} on {b.volume}" if b else key

    def log(self, priority: str, message: str) -> None:
        self.cluster.log(self.name, "", priority, message)

    # -- data on the volumes ---------------------------------------------------------------------

    def _hold_data(self) -> None:
        """What the database holds on its data volume is used there."""
        vol = self.cluster.volumes.get(self.volume)
        if vol is None:
            return
        if self.allocated_gib > 0:
            vol.use(f"db:{self.name}", self.allocated_gib)
        else:
            vol.release(f"db:{self.name}")

    def _room_on_data_volume(self, gib: float) -> float:
        """GiB the data volume has for this database (what it holds now included)."""
        vol = self.cluster.volumes.get(self.volume)
        return 0.0 if vol is None else vol.free_gib + vol.usage.get(f"db:{self.name}", 0.0) - gib

    def _make_temp_volume(self, nodes: list[str]) -> None:
        size = max(1, round(self.memory_gib * TEMP_VOLUME_SHARE))
        vol = self.cluster.add_volume("Data", size, nodes, redundancy=1, owner=f"db_{self.name}")
        self.temp_volume = vol.vid

    def _drop_temp_volume(self) -> None:
        vol = self.cluster.volumes.get(self.temp_volume)
        if vol is not None:
            self.cluster.remove_volume(vol)
        self.temp_volume = ""

    # -- lifecycle ---------------------------------------------------------------------------

    def _refuse_busy(self, what: str) -> None:
        if self.busy:
            raise UsageError(f"database {self.name} cannot {what}: operation {self.operation} is in progress")

    def create(self) -> None:
        if self.state != NONE:
            raise UsageError(f"database {self.name} already exists (state {self.state})")
        self.state = SETUP
        self.changed()
        self.log("Notice", f"Database {self.name} created")

    def _pick_nodes(self, what: str) -> tuple[list[str], list[str]]:
        """The nodes a start runs on: an active node that is not running is replaced by a running
        reserve node and counts as failed from now on. Refuses (changing nothing) without enough."""
        nodes = self.cluster.nodes
        active, failed = list(self.active), list(self.failed)
        spare = [n for n in self.reserve if nodes[n].online]
        missing = []
        for i, n in enumerate(active):
            if not nodes[n].online:
                if spare:
                    active[i] = spare.pop(0)
                    failed.append(n)
                else:
                    missing.append(n)
        if missing:
            usable = [n for n in self.nodes_list if n not in self.failed]
            up = [n for n in usable if nodes[n].online]
            down = ", ".join(f"{n} ({nodes[n].status.lower()})" for n in usable if not nodes[n].online)
            raise UsageError(
                f"database {self.name} cannot {what}: it needs {self.nodes_number} running nodes"
                f" of {', '.join(usable)}, but {len(up)} are running; not running: {down}"
            )
        return active, failed

    def _check_startable(self, what: str) -> tuple[list[str], list[str]]:
        if self.state == NONE:
            raise UsageError(f"database {self.name} does not exist yet; call createDatabase first")
        if self.state in (STARTING, RUNNING):
            raise UsageError(f"database {self.name} is already {self.state}")
        if self.state == STOPPING:
            raise UsageError(f"database {self.name} is shutting down; {what} it once it is in setup")
        self._refuse_busy(what)
        storage = self.cluster.storage
        if not storage.online:
            raise UsageError(f"database {self.name} cannot {what}: EXAStorage is not online ({storage.state})")
        if self.cluster.volumes.get(self.volume) is None:
            raise UsageError(f"database {self.name} cannot {what}: its data volume {self.volume!r} does not exist")
        return self._pick_nodes(what)

    def _begin_start(self, active: list[str], failed: list[str], operation: str, maintenance: bool) -> None:
        self._make_temp_volume(active)  # first: a refusal here changes nothing else
        newly = [n for n in failed if n not in self.failed]
        self.active, self.failed = active, failed
        self.errors = []
        self.state, self.operation, self.connectible = STARTING, operation, False
        self.maintenance = maintenance
        self.changed()
        for n in newly:
            self.log("Warning", f"Database {self.name}: node {n} is not running; it is replaced by a reserve node "
                     "and listed as failed")  # fmt: skip
        self.set_deadline(self.cluster.duration("database_start"))

    def start(self, maintenance: bool = False) -> None:
        active, failed = self._check_startable("start")
        if self.restore_incomplete:
            raise UsageError(f"database {self.name} cannot start: the restore from {self.restore_incomplete} did "
                             "not finish, so its data is not whole; restore a backup first")  # fmt: skip
        self._begin_start(active, failed, STARTUP, maintenance)
        mode = " in maintenance mode" if maintenance else ""
        self.log("Notice", f"Database {self.name} is starting{mode} on {', '.join(active)}")
        self._meet_quota()

    def _meet_quota(self) -> None:
        quota = int(self.values.get("volume_quota", 0))
        if quota and self.allocated_gib > quota:
            target = max(float(quota), self.data_gib)
            if target < self.allocated_gib:
                self.allocated_gib = round(target, 3)
                self._hold_data()
                self.log("Notice", f"Database {self.name} shrank to {self.allocated_gib:.3f} GiB on {self.volume} "
                         f"to meet its quota of {quota} GiB")  # fmt: skip
            if self.data_gib > quota:
                self.log("Warning", f"Database {self.name} holds {self.data_gib:.3f} GiB of data, more than its "
                         f"quota of {quota} GiB")  # fmt: skip

    def stop(self) -> None:
        if self.state != RUNNING:
            raise UsageError(f"database {self.name} is not running (state {self.state})")
        self._refuse_busy("shut down")
        self._begin_stop(SHUTDOWN)

    def restart(self) -> None:
        if self.state != RUNNING:
            raise UsageError(f"database {self.name} is not running (state {self.state})")
        self._refuse_busy("restart")
        self.restart_after_stop = True
        self._begin_stop(RESTART)

    def force_stop(self) -> None:
        if self.state not in (STARTING, RUNNING, STOPPING):
            raise UsageError(f"database {self.name} is not running (state {self.state})")
        self._interrupt("a forced shutdown")
        self.restart_after_stop = False
        self.state, self.operation, self.connectible = STOPPING, FORCE, False
        self.log("Warning", f"Database {self.name} is being shut down by force")
        self.set_deadline(self.cluster.duration("database_force_stop"))

    def _begin_stop(self, operation: str) -> None:
        self.state, self.operation, self.connectible = STOPPING, operation, False
        self.log("Notice", f"Database {self.name} is shutting down")
        self.set_deadline(self.cluster.duration("database_stop"))

    def _stopped(self) -> None:
        """It is down: back in setup, without its temporary volume."""
        self._drop_temp_volume()
        self.state, self.operation, self.connectible = SETUP, IDLE, False
        self.maintenance = False
        if self.virtual_backup:
            self.log("Notice", f"Virtual access to backup {self._backup_name(self.virtual_backup)} ended; "
                     f"{self.name} has its own data again")  # fmt: skip
            self.virtual_backup = ""
        self.changed()

    def _interrupt(self, why: str) -> None:
        """A backup, shrink or restore under way ends because of ``why``."""
        if self.operation == BACKUP:
            self._end_backup(f"aborted by {why}", "Warning")
        elif self.operation == SHRINK:
            self._end_shrink(f"aborted by {why}")
        elif self.operation == RESTORE or self.restore:
            self._end_restore_failed(why)

    def node_lost(self, node: str, reason: str) -> None:
        """A node went away (crashed, lost its power). The running database fails over to a
        running reserve node, or stops and says why."""
        if node not in self.active or self.state not in (STARTING, RUNNING):
            return
        restoring = bool(self.restore)
        why = reason
        self._interrupt(why)
        spare = [n for n in self.reserve if self.cluster.nodes[n].online]
        if restoring:
            self._fail(f"{why} during a restore")
        elif not spare:
            self._fail(f"{why} and no reserve node is running to take its place")
        else:
            active = [spare[0] if n == node else n for n in self.active]
            self._drop_temp_volume()
            try:
                self._make_temp_volume(active)
            except UsageError as e:
                self._fail(f"{why}; restarting on {spare[0]} failed: {e.reason}")
                return
            self.active, self.failed = active, [*self.failed, node]
            self.restart_after_stop = False
            self.state, self.operation, self.connectible = STARTING, STARTUP, False
            self.log("Warning", f"Database {self.name}: {why}; failing over to reserve node {spare[0]}, "
                     f"restarting on {', '.join(active)}")  # fmt: skip
            self.set_deadline(self.cluster.duration("database_start"))

    def _fail(self, reason: str) -> None:
        self.errors = [f"database {self.name} failed: {reason}"]
        self.restart_after_stop = False
        self.set_deadline(None)
        self._stopped()
        self.log("Error", self.errors[0])

    def on_deadline(self) -> None:
        c = self.cluster
        if self.state == STARTING:
            if self.start_fail:
                self._interrupt("a failed start")
                self._stopped()
                self.errors = [f"database {self.name} failed to start: the database process exited during startup"
                               " (injected fault start_fail)"]  # fmt: skip
                self.log("Error", self.errors[0])
                return
            self.state = RUNNING
            self.changed()
            if self.restore:
                self._restore_running()
            elif self.maintenance:
                self.operation = IDLE
                self.log("Notice", f"Database {self.name} is running in maintenance mode; clients cannot connect")
            else:
                self.operation = IDLE
                self.log("Notice", f"Database {self.name} is running, opening connections")
                self.set_deadline(c.duration("database_connect"))
        elif self.state == RUNNING:
            if self.operation == BACKUP:
                self._finish_backup()
            elif self.operation == SHRINK:
                self._finish_shrink()
            elif self.operation == RESTORE and self.restore["type"] == "nonblocking" and not self.connectible:
                self._open_connections()
                self.set_deadline(max(0.0, self.restore["ends"] - c.now))
            elif self.operation == RESTORE:
                self._finish_restore()
            elif not self.connectible:
                self._open_connections()
        elif self.state == STOPPING:
            self._stopped()
            self.log("Notice", f"Database {self.name} is shut down")
            if self.restart_after_stop:
                self.restart_after_stop = False
                try:
                    self.start()
                except UsageError as e:
                    self.errors = [e.reason]
                    self.log("Error", f"restart of {self.name} failed: {e.reason}")

    def _open_connections(self) -> None:
        self.connectible = True
        self.changed()
        self.log("Notice", f"Database {self.name} is accepting connections at {self.connection_string()}")

    # -- maintenance, enlarging, shrinking ----------------------------------------------------------

    def enlarge(self, count: Any) -> None:
        """enlargeDatabase: ``count`` reserve nodes become active nodes for good."""
        if self.state not in (NONE, SETUP):
            raise UsageError(f"database {self.name} must be stopped to be enlarged (state {self.state})")
        self._refuse_busy("be enlarged")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise UsageError("count_of_added_active_nodes must be a whole number of at least 1")
        reserve = self.reserve
        if count > len(reserve):
            raise UsageError(f"database {self.name} has {len(reserve)} reserve node(s) "
                             f"({', '.join(reserve) or 'none'}); it cannot add {count} active nodes")  # fmt: skip
        added = reserve[:count]
        self.active = [*self.active, *added]
        self.values["nodes_number"] = self.nodes_number + count
        self._order_nodes()
        self.changed()
        self.log("Warning", f"Database {self.name} enlarged by {count} node(s) ({', '.join(added)}) to "
                 f"{self.nodes_number} active nodes; this cannot be undone")  # fmt: skip

    def _order_nodes(self) -> None:
        """nodes_list: active nodes first, then reserve nodes, then failed ones."""
        self.values["nodes_list"] = [*self.active, *self.reserve, *self.failed]

    def start_shrink(self, target: Any) -> None:
        if self.state != RUNNING or not (self.connectible or self.maintenance):
            raise UsageError(f"database {self.name} must be running to be shrunk (state {self.state})")
        self._refuse_busy("shrink")
        if isinstance(target, bool) or not isinstance(target, int | float) or target <= 0:
            raise UsageError("target_size_in_gb must be a number of GiB above 0")
        if target >= self.allocated_gib:
            raise UsageError(f"target_size_in_gb {target} is not below the database's size on "
                             f"{self.volume}, {self.allocated_gib:.3f} GiB")  # fmt: skip
        if target < self.data_gib:
            raise UsageError(f"target_size_in_gb {target} is below the {self.data_gib:.3f} GiB of data "
                             f"{self.name} holds; it can shrink to {self.data_gib:.3f} GiB at most")  # fmt: skip
        duration = self.cluster.duration("database_shrink")
        now = self.cluster.now
        self.shrink = {"from": self.allocated_gib, "target": float(target), "started": now, "ends": now + duration}
        self.operation = SHRINK
        self.log("Notice", f"Database {self.name} is shrinking from {self.allocated_gib:.3f} to {target} GiB")
        self.set_deadline(duration)

    def abort_shrink(self) -> None:
        if self.operation != SHRINK:
            raise UsageError(f"database {self.name} is not shrinking")
        self._end_shrink("aborted")
        self.set_deadline(None)

    def _end_shrink(self, how: str) -> None:
        s = self.shrink
        span = max(s["ends"] - s["started"], 1e-9)
        done = min(1.0, max(0.0, (self.cluster.now - s["started"]) / span))
        self.allocated_gib = round(s["from"] - (s["from"] - s["target"]) * done, 3)
        self._hold_data()
        self.shrink, self.operation = {}, IDLE
        self.changed()
        self.log("Warning", f"Shrinking {self.name} {how} at {round(done * 100)} %; it holds "
                 f"{self.allocated_gib:.3f} GiB on {self.volume}")  # fmt: skip

    def _finish_shrink(self) -> None:
        self.allocated_gib = round(self.shrink["target"], 3)
        self._hold_data()
        self.shrink, self.operation = {}, IDLE
        self.changed()
        self.log("Notice", f"Database {self.name} shrank to {self.allocated_gib:.3f} GiB on {self.volume}")

    # -- backups --------------------------------------------------------------------------------

    def start_backup(self, volume: Any, level: Any, expire: Any) -> None:
        if self.state != RUNNING or not (self.connectible or self.maintenance):
            raise UsageError(f"database {self.name} must be running and accepting connections to back up")
        self._refuse_busy("start a backup")
        if self.virtual_backup:
            raise UsageError(f"database {self.name} runs on virtual access to a backup; shut it down first")
        c = self.cluster
        vol = c.volumes.get(volume) if isinstance(volume, str) else None
        if vol is None:
            raise UsageError(f"backup volume {volume!r} does not exist")
        if vol.type != "Archive":
            raise UsageError(f"volume {volume} is a {vol.type} volume; backups go to an Archive volume")
        if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 9:
            raise UsageError("backup level must be a whole number from 0 to 9")
        seconds = expire_seconds(expire)
        base = backups.latest_base(c, self.name, volume, level) if level else None
        if level and base is None:
            raise UsageError(f"a level {level} backup of {self.name} builds on a usable backup of a lower level on "
                             f"{volume}, and there is none; make a level 0 backup first")  # fmt: skip
        size = max(backups.MIN_BACKUP_GIB, self.data_gib * (1 if level == 0 else backups.INCREMENT_SHARE))
        if size > vol.free_gib:
            expired = [b for b in backups.backups_of(c, None) if b.volume == volume and b.expired]
            hint = f"; {len(expired)} expired backup(s) there could be deleted" if expired else ""
            raise UsageError(f"backup of {self.name} refused: archive volume {volume} is full ({vol.free_gib:.3f} GiB "
                             f"free, {size:.3f} GiB needed){hint}")  # fmt: skip
        bid = backups.next_bid(c, volume)
        vol.use(f"backup:{bid}", size)
        self.backup = {"volume": volume, "bid": bid, "level": level, "expire": expire.strip(), "seconds": seconds,
                       "base": base.bid if base else None, "size": round(size, 3), "started": c.now,
                       "nodes": len(self.active), "data": self.data_gib}  # fmt: skip
        self.operation = BACKUP
        self.log("Notice", f"Backup of {self.name} (level {level}) to {volume} started")
        self.set_deadline(c.duration("database_backup"))

    def scheduled_backup(self, entry: backups.Entry) -> None:
        """A schedule's entry is due: start its backup, or say why it cannot run."""
        try:
            self.start_backup(entry.volume, entry.level, entry.expire)
        except UsageError as e:
            self.log("Warning", f"Scheduled backup {entry.backup_name} of {self.name} not started: {e.reason}")
        else:
            self.log("Notice", f"Scheduled backup {entry.backup_name} of {self.name} started")

    def _finish_backup(self) -> None:
        c, b = self.cluster, self.backup
        made = Backup(c, b["volume"], b["bid"])
        made.system, made.level, made.base = self.name, b["level"], b["base"]
        made.started, made.finished, made.size_gib = b["started"], c.now, b["size"]
        made.data_gib, made.nodes, made.version = b["data"], b["nodes"], self.version
        c._add(made)
        made.set_expiry(None if b["seconds"] is None else b["started"] + b["seconds"])
        self.last_pdd = {**self._pdd_running(), "Progress": 100, "Comment": "Backup has been successfully finished"}
        self.backup, self.operation = {}, IDLE
        self.changed()
        self.log("Notice", f"Backup of {self.name} (level {b['level']}) to {b['volume']} finished: {made.prefix}, "
                 f"{made.size_gib:.3f} GiB")  # fmt: skip

    def abort_backup(self) -> None:
        if self.operation != BACKUP:
            raise UsageError(f"database {self.name} has no backup running")
        self._end_backup("aborted", "Warning")
        self.set_deadline(None)

    def _end_backup(self, how: str, priority: str) -> None:
        b = self.backup
        vol = self.cluster.volumes.get(b["volume"])
        if vol is not None:
            vol.release(f"backup:{b['bid']}")
        self.last_pdd = {**self._pdd_running(), "Comment": f"Backup has been {how}"}
        self.backup, self.operation = {}, IDLE
        self.changed()
        self.log(priority, f"Backup of {self.name} {how}")

    # -- restores ---------------------------------------------------------------------------------

    def start_restore(self, ident: Any, restore_type: Any) -> None:
        if restore_type not in RESTORE_TYPES:
            raise UsageError(f"restore_type must be one of: {', '.join(RESTORE_TYPES)}; got {restore_type!r}")
        b = backups.by_ident(self.cluster, ident)
        if self.state == NONE:
            raise UsageError(f"database {self.name} does not exist yet; call createDatabase first")
        if self.state != SETUP:
            raise UsageError(f"database {self.name} must be stopped (state setup) to be restored; it is {self.state}")
        self._refuse_busy("restore")
        if not b.usable:
            raise UsageError(f"backup {b.prefix} on {b.volume} is not usable: a backup it builds on was deleted")
        if b.nodes != self.nodes_number:
            raise UsageError(f"backup {b.prefix} was made on {b.nodes} nodes, database {self.name} has "
                             f"{self.nodes_number} active nodes; a restore needs as many")  # fmt: skip
        copying = restore_type != "virtual access"
        if copying and self._room_on_data_volume(b.data_gib) < 0:
            raise UsageError(f"data volume {self.volume} has no room for the {b.data_gib:.3f} GiB of backup "
                             f"{b.prefix}")  # fmt: skip
        active, failed = self._check_startable("restore")
        self._begin_start(active, failed, RESTORE, False)
        if copying:  # the restored data takes its room from the start
            self.allocated_gib = round(max(self.allocated_gib, b.data_gib), 3)
            self._hold_data()
        self.restore = {"backup": b.key, "ident": b.ident, "type": restore_type, "started": self.cluster.now,
                        "begun": None, "ends": None}  # fmt: skip
        self.last_pdd = {}
        self.log("Notice", f"Restore of {self.name} from backup {b.prefix} on {b.volume} ({restore_type}) started")

    def _restore_running(self) -> None:
        """The database runs: the restore's data phase begins (none for a virtual access)."""
        c, r = self.cluster, self.restore
        b = c.table(Backup.kind).get(r["backup"])
        if r["type"] == "virtual access":
            self.virtual_backup = r["backup"]
            self.last_pdd = {**self._pdd_running(), "Progress": 100, "Comment": "Virtual access has been enabled"}
            self.restore, self.operation = {}, IDLE
            self.log("Notice", f"Database {self.name} runs on backup {b.prefix if b else r['backup']} "
                     "(virtual access, read-only), opening connections")  # fmt: skip
            self.set_deadline(c.duration("database_connect"))
            return
        duration = c.duration("database_restore")
        r["begun"], r["ends"] = c.now, c.now + duration
        self.changed()
        if r["type"] == "nonblocking":
            self.log("Notice", f"Database {self.name} is restoring in the background; opening connections")
            self.set_deadline(min(duration, c.duration("database_connect")))
        else:
            self.log("Notice", f"Database {self.name} is restoring; clients can connect once it is done")
            self.set_deadline(duration)

    def _finish_restore(self) -> None:
        c, r = self.cluster, self.restore
        b = c.table(Backup.kind).get(r["backup"])
        self.data_gib = b.data_gib if b else self.data_gib
        self.allocated_gib = round(self.data_gib, 3)
        self._hold_data()
        self.last_pdd = {**self._pdd_running(), "Progress": 100, "Comment": "Restore has been successfully finished"}
        self.restore, self.operation, self.restore_incomplete = {}, IDLE, ""
        self.changed()
        self.log("Notice", f"Restore of {self.name} from {r['ident']} finished")
        if not self.connectible:
            self.log("Notice", f"Database {self.name} is running, opening connections")
            self.set_deadline(c.duration("database_connect"))

    def _end_restore_failed(self, why: str) -> None:
        r = self.restore
        self.last_pdd = {**self._pdd_running(), "Comment": f"Restore has failed: {why}"}
        if r.get("begun") is not None:  # data was being written: it is not whole
            self.restore_incomplete = r["ident"]
        self.restore, self.operation = {}, IDLE
        self.changed()
        self.log("Error", f"Restore of {self.name} from {r['ident']} failed: {why}")

    # -- progress --------------------------------------------------------------------------------

    def _pdd_running(self) -> dict[str, Any]:
        """getPddProgress of the backup or restore under way."""
        c = self.cluster
        if self.backup:
            b = self.backup
            path = backups.backup_path(self.name, b["bid"], b["level"], b["started"])
            span = (self.deadline or c.now) - b["started"]
            progress = 100 * (c.now - b["started"]) / span if span > 0 else 100
            return self._pdd("Backup", path, b["level"], b["volume"], progress, "Backup is running")
        r = self.restore
        bk = c.table(Backup.kind).get(r.get("backup", ""))
        if not r or bk is None:
            return {}
        if r.get("begun") is None:
            return self._pdd("Restore", bk.path, bk.level, bk.volume, 0, "Restore has been started")
        span = r["ends"] - r["begun"]
        progress = 100 * (c.now - r["begun"]) / span if span > 0 else 100
        return self._pdd("Restore", bk.path, bk.level, bk.volume, progress, "Restore is running")

    @staticmethod
    def _pdd(kind: str, path: str, level: int, volume: str, progress: float, comment: str) -> dict[str, Any]:
        return {"Type": kind, "Name": path, "Level": level, "Volume ID": volume_number(volume),
                "Progress": max(0, min(100, int(progress))), "Comment": comment, "Files": []}  # fmt: skip

    def pdd_progress(self) -> dict[str, Any]:
        """The backup or restore under way, else the last one that ended (empty values: none yet)."""
        return self._pdd_running() or dict(self.last_pdd) or self._pdd("", "", 0, "", 0, "")

    # -- keytabs, statistics ---------------------------------------------------------------------

    def upload_keytab(self, data: bytes) -> None:
        if not data:
            raise UsageError("the keytab is empty")
        if len(data) > KEYTAB_MAX:
            raise UsageError(f"the keytab is {len(data)} bytes; at most {KEYTAB_MAX} are accepted")
        if data[:1] != b"\x05" or data[1:2] not in (b"\x01", b"\x02"):
            raise UsageError("this is not a Kerberos keytab: it must start with the keytab version 0x0501 or 0x0502")
        self.keytab = {"data": base64.b64encode(data).decode("ascii"), "size": len(data),
                       "sha256": hashlib.sha256(data).hexdigest(), "uploaded": self.cluster.now}  # fmt: skip
        self.changed()
        self.log("Notice", f"Kerberos keytab of {self.name} uploaded ({len(data)} bytes); it is used from the next "
                 "start")  # fmt: skip

    def remove_keytab(self) -> None:
        if not self.keytab:
            raise UsageError(f"database {self.name} has no keytab")
        self.keytab = {}
        self.changed()
        self.log("Notice", f"Kerberos keytab of {self.name} removed")

    def statistics(self, user: Any, password: Any, start: Any = "", stop: Any = "") -> bytes:
        """A ZIP of CSV files: the database's sizes now, and its events from the log."""
        if not isinstance(user, str) or not user.strip():
            raise UsageError("user must name a database user")
        if not isinstance(password, str) or not password:
            raise UsageError("password must not be empty")
        if self.state != RUNNING or not self.connectible:
            raise UsageError(f"database {self.name} must be running and accepting connections to read its "
                             "statistics")  # fmt: skip
        now = self.cluster.now
        first = _day(start, "start") if start else now - STATISTICS_DAYS * 86400
        last = _day(stop, "stop") + 86400 - 1 if stop else now
        if first > last:
            raise UsageError(f"start {start!r} is after stop {stop!r}")
        sizes = [["MEASURE_TIME", "DATA_GIB", "PERSISTENT_VOLUME", "USAGE_PERSISTENT_GIB", "TEMPORARY_VOLUME",
                  "USAGE_TEMPORARY_GIB", "MEMORY_GIB", "ACTIVE_NODES"]]  # fmt: skip
        if first <= now <= last:
            sizes.append(
                [
                    utc_text(now),
                    f"{self.data_gib:.3f}",
                    self.volume,
                    f"{self.allocated_gib:.3f}",
                    self.temp_volume,
                    f"{self.temp_usage():.3f}",
                    self.memory_gib,
                    len(self.active),
                ]
            )
        events = [["EVENT_TIME", "PRIORITY", "MESSAGE"]]
        for e in self.cluster.logbook.entries:
            if e.system == self.name and first <= e.t <= last:
                events.append([time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(e.t)), e.priority, e.message])
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for name, rows in (("EXA_DB_SIZE.csv", sizes), ("EXA_SYSTEM_EVENTS.csv", events)):
                text = io.StringIO()
                csv.writer(text).writerows(rows)
                z.writestr(f"{self.name}/{name}", text.getvalue())
        return out.getvalue()

    # -- configuration ---------------------------------------------------------------------

    def configure(self, values: Any, creating: bool = False) -> list[str]:
        """addDatabase (``creating``) and editDatabase: check everything, then change."""
        if not isinstance(values, dict):
            raise UsageError("editDatabase takes a dictionary of fields")
        new = SCHEMA.validate(values, self, creating=creating)  # a wrong field is named whatever the state
        if creating:
            given = [a for a in NODE_ACTIONS if a in values]
            if given:
                raise UsageError(f"{', '.join(given)}: only for editDatabase; a new database takes nodes_list")
        elif self.state not in (NONE, SETUP):
            raise UsageError(f"database {self.name} must be stopped to be edited (state {self.state})")
        else:
            self._refuse_busy("be edited")
        actions = {a: new.pop(a) for a in NODE_ACTIONS if a in new}
        merged = {**self.values, **new}
        if creating:
            self._defaults(merged, given=values)
        self._check(merged, creating)
        nodes = self._node_actions(actions) if any(actions.values()) else None
        changed = sorted(k for k in new if self.values.get(k) != merged[k]) if not creating else []
        install_version(self.cluster, merged["database_version"])
        self.values = merged
        if creating:
            self.active = self.nodes_list[: self.nodes_number]
        if nodes is not None:
            self.active, self.failed, self.values["nodes_list"] = nodes
            changed = sorted({*changed, "nodes_list", *(a for a, v in actions.items() if v)})
        if not creating and changed:
            self.changed()
            self.log("Notice", f"Database {self.name}: changed {', '.join(changed)}")
        return changed

    def _defaults(self, v: dict[str, Any], given: dict[str, Any]) -> None:
        if "data_disk" not in given:
            disks = _data_disks(self)
            if not disks:
                raise UsageError("data_disk: this cluster has no data disk for the database's runtime data")
            v["data_disk"] = disks[0]
        if "data_volume" not in given:
            free = _free_data_volumes(self)
            if not free:
                raise UsageError("data_volume: no data volume is free for a new database; add one with "
                                 "storage.addStorageVolume (volume_type 'Data') or name one")  # fmt: skip
            v["data_volume"] = free[0]
        if "database_version" not in given:
            v["database_version"] = self.cluster.version

    def _check(self, v: dict[str, Any], creating: bool) -> None:
        c = self.cluster
        if v["nodes_number"] > len(v["nodes_list"]):
            raise UsageError(f"nodes_number must be from 1 to the {len(v['nodes_list'])} nodes in nodes_list")
        for other in c.databases.values():
            if other is not self and other.port == v["clients_port_number"]:
                raise UsageError(f"clients_port_number {v['clients_port_number']} is already used by database "
                                 f"{other.name}")  # fmt: skip
        if v["data_volume"] != self.volume and not creating and self.allocated_gib > 0:
            raise UsageError(f"data_volume cannot change: database {self.name} holds {self.allocated_gib:.3f} GiB "
                             f"of data on {self.volume}")  # fmt: skip
        active = self.active if not creating else v["nodes_list"][: v["nodes_number"]]
        memory = sum(int(c.hardware_of(c.nodes[n]).get("memory_gib", 0)) for n in active)
        if memory and v["memory_usage"] > memory:
            raise UsageError(f"memory_usage {v['memory_usage']} GiB is more than the {len(active)} active nodes "
                             f"have ({memory} GiB)")  # fmt: skip

    def _node_actions(self, actions: dict[str, list[str]]) -> tuple[list[str], list[str], list[str]]:
        """The nodes after editDatabase's nodes_list_* fields: (active, failed, nodes_list)."""
        listed, active, failed = self.nodes_list, list(self.active), list(self.failed)
        for n in actions.get("nodes_list_remove_reserve", []):
            if n not in listed or n in active:
                raise UsageError(f"nodes_list_remove_reserve: {n} is not a reserve node of {self.name}")
            listed = [x for x in listed if x != n]
            failed = [x for x in failed if x != n]
        for n in actions.get("nodes_list_deactivate", []):
            if n not in listed or n in failed:
                raise UsageError(f"nodes_list_deactivate: {n} is not an active or reserve node of {self.name}")
            if n in active:
                spare = [x for x in listed if x not in active and x not in failed]
                if not spare:
                    raise UsageError(f"nodes_list_deactivate: no reserve node can take the place of {n}")
                active[active.index(n)] = spare[0]
            failed.append(n)
        for n in actions.get("nodes_list_reactivate", []):
            if n not in failed:
                raise UsageError(f"nodes_list_reactivate: {n} is not a failed node of {self.name}")
            failed.remove(n)
        for n in actions.get("nodes_list_add_reserve", []):
            if n in listed:
                raise UsageError(f"nodes_list_add_reserve: {n} is already a node of {self.name}")
            listed = [*listed, n]
        reserve = [x for x in listed if x not in active and x not in failed]
        return active, failed, [*active, *reserve, *failed]


def _day(text: Any, what: str) -> float:
    if not isinstance(text, str):
        raise UsageError(f"{what} must be a date like 2024-01-31")
    try:
        return float(calendar.timegm(time.strptime(text.strip(), "%Y-%m-%d")))
    except ValueError:
        raise UsageError(f"{what} {text!r} is not a date like 2024-01-31") from None


# -- adding, deleting --------------------------------------------------------------------------


def new_database(cluster: Cluster, values: Any) -> Database:
    if not isinstance(values, dict):
        raise UsageError("addDatabase takes a dictionary of fields")
    name = check_name("database_name", values.get("database_name"))
    if name in cluster.databases:
        raise UsageError(f"database {name} already exists")
    db = Database(cluster, name)
    db.configure(values, creating=True)
    return db


def database_from_profile(cluster: Cluster, d: dict[str, Any]) -> Database:
    """A database of the profile (``[[databases]]``): created unless ``created = false``."""
    db = Database(cluster, d["name"])
    nodes = list(d.get("nodes", cluster.database_node_names()))
    disks = list_values(cluster, "DataDisks")
    db.values = {f.name: f.empty() for f in SCHEMA if f.name not in NODE_ACTIONS}
    db.values.update({
        "clients_port_number": d.get("port", 8563), "data_disk": disks[0] if disks else "",
        "data_volume": d.get("volume", ""), "database_name": db.name,
        "database_version": d.get("version", cluster.version), "memory_usage": d.get("memory_gib", 16),
        "nodes_list": nodes, "nodes_number": d.get("active", len(nodes)),
    })  # fmt: skip
    db.active = nodes[: db.nodes_number]
    db.state = SETUP if d.get("created", True) else NONE
    install_version(cluster, db.version)
    if db.state == SETUP:
        db.data_gib = float(d.get("data_gib", 0))
        vol = cluster.volumes.get(db.volume)
        room = vol.size_gib if vol else 0.0
        db.allocated_gib = round(min(room, db.data_gib * FRAGMENTATION), 3)
        db.data_gib = min(db.data_gib, db.allocated_gib)
        db._hold_data()
    return db


def delete_database(cluster: Cluster, db: Database) -> None:
    """deleteSubObject('db_<name>'): the database and its data go; its backups stay on their volumes."""
    if db.state not in (NONE, SETUP) or db.busy:
        raise UsageError(f"database {db.name} must be stopped to be deleted (state {db.state})")
    vol = cluster.volumes.get(db.volume)
    if vol is not None:
        vol.release(f"db:{db.name}")
    backups.drop_schedule(cluster, db.name)
    for svc in cluster.logservices.values():  # their settings name only databases that exist
        if db.name in svc.exasolution_systems:
            svc.exasolution_systems = [d for d in svc.exasolution_systems if d != db.name]
            svc.changed()
    db.set_deadline(None)
    del cluster.databases[db.name]
    cluster.forget(db)
    cluster.log("EXAoperation", "", "Notice", f"database {db.name} deleted; its backups stay on their volumes")


def database_at(cluster: Cluster, name: Any) -> Database:
    """The database of object name 'db_<name>' (NotFound otherwise)."""
    if isinstance(name, str) and name.startswith("db_") and name[3:] in cluster.databases:
        return cluster.databases[name[3:]]
    raise NotFound(f"Object {name} not found in /{cluster.name}")


#: the entity kinds of this module and of model/backups.py, for rebuilding a cluster from the store
ENTITY_KINDS: dict[str, Any] = {**backups.ENTITY_KINDS}
