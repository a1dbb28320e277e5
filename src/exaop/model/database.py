"""EXASolution database instances and their lifecycle."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from exaop.model.base import Entity, check_name
from exaop.model.errors import UsageError

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster

NONE, SETUP, STARTING, RUNNING, STOPPING = "none", "setup", "starting", "running", "stopping"
IDLE = "None"  # what getDatabaseOperation answers when nothing runs (a string, not nil)
STARTUP, SHUTDOWN, RESTART, BACKUP, FORCE = "Startup", "Shutdown", "Restart", "Backup", "Force shutdown"

# editable fields and their types, after EXAoperation's Database schema
FIELDS: dict[str, type] = {
    "clients_port_number": int,
    "data_volume": str,
    "database_comment": str,
    "database_version": str,
    "enable_auditing": bool,
    "extra_params": str,
    "ldap_server": str,
    "memory_usage": int,
    "volume_quota": int,
    "volume_restore_delay": str,
}
CREATE_FIELDS: dict[str, type] = {
    **FIELDS,
    "database_name": str,
    "nodes_list": list,
    "nodes_number": int,
    "data_disk": str,
    "vlan_list": list,
}
REQUIRED_ON_CREATE = ("database_name", "clients_port_number", "nodes_list", "nodes_number", "data_volume")
EXPIRE_RE = re.compile(r"^\s*(\d+\s*[wdhm]\s*)+$")


class Database(Entity):
    kind = "database"

    def __init__(self, cluster: Cluster, name: str) -> None:
        super().__init__(cluster)
        self.name = name
        self.state = NONE
        self.operation = IDLE
        self.connectible = False
        self.port = 8563
        self.version = cluster.version
        self.nodes_list: list[str] = []
        self.nodes_number = 1
        self.volume = ""
        self.memory_gib = 1
        self.comment = ""
        self.extra_params = ""
        self.ldap_server = ""
        self.enable_auditing = False
        self.volume_quota = 0
        self.volume_restore_delay = ""
        self.active: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.start_fail = False  # injected fault: the next starts fail
        self.backup: dict[str, Any] = {}
        self.backups: list[dict[str, Any]] = []
        self.restart_after_stop = False

    @property
    def key(self) -> str:
        return self.name

    RECORD_FIELDS = (
        "state", "operation", "connectible", "port", "version", "nodes_list", "nodes_number",
        "volume", "memory_gib", "comment", "extra_params", "ldap_server", "enable_auditing",
        "volume_quota", "volume_restore_delay", "active", "failed", "errors", "start_fail",
        "backup", "backups", "restart_after_stop",
    )  # fmt: skip

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
        db.restore_deadline(rec.get("deadline"))
        return db

    # -- derived views ---------------------------------------------------------------------

    @property
    def configured_active(self) -> list[str]:
        return self.nodes_list[: self.nodes_number]

    @property
    def reserve(self) -> list[str]:
        in_use = set(self.active or self.configured_active) | set(self.failed)
        return [n for n in self.nodes_list if n not in in_use]

    @property
    def busy(self) -> bool:
        return self.operation != IDLE

    @property
    def uses_storage(self) -> bool:
        return self.state in (STARTING, RUNNING, STOPPING)

    def node_sets(self) -> dict[str, list[str]]:
        active = self.active or self.configured_active
        return {"active": list(active), "failed": list(self.failed), "reserve": self.reserve}

    def state_in_words(self) -> str:
        text = f"{self.name} is {self.state}"
        if self.busy:
            text += f", operation {self.operation} in progress"
        if self.state == RUNNING:
            text += ", accepting connections" if self.connectible else ", not yet accepting connections"
        return text

    def node_states(self) -> dict[str, str]:
        """Each of the database's nodes: 'failed' (left out at its start), 'online' or 'offline'."""
        nodes = self.cluster.nodes
        return {
            n: "failed" if n in self.failed else ("online" if nodes[n].online else "offline") for n in self.nodes_list
        }

    def connection_string(self) -> str:
        nodes = self.active or self.configured_active
        return f"{self.cluster.ip_ranges(nodes)}:{self.port}"

    def properties(self) -> dict[str, Any]:
        return {
            "clients_port_number": self.port,
            "data_volume": self.volume,
            "database_comment": self.comment,
            "database_name": self.name,
            "database_version": self.version,
            "enable_auditing": self.enable_auditing,
            "extra_params": self.extra_params,
            "ldap_server": self.ldap_server,
            "memory_usage": self.memory_gib,
            "nodes_list": list(self.nodes_list),
            "nodes_number": self.nodes_number,
            "volume_quota": self.volume_quota,
            "volume_restore_delay": self.volume_restore_delay,
        }

    def info(self) -> dict[str, Any]:
        vol = self.cluster.volumes.get(self.volume)
        size = vol.size_gib if vol else 0
        running = self.state == RUNNING
        return {
            "name": self.name,
            "state": self.state,
            "operation": self.operation,
            "connectible": "Yes" if self.connectible else "No",
            "connection string": self.connection_string(),
            "info": "; ".join(self.errors) if self.errors else "",
            "nodes": self.node_sets(),
            "persistent volume": self.volume,
            "temporary volume": f"{self.volume}-tmp" if self.volume else "",
            "quota": self.volume_quota or size,
            "usage persistent": round(size * 0.31, 2) if running else 0.0,
            "usage temporary": round(size * 0.02, 2) if running else 0.0,
            "version": self.version,
        }

    # -- lifecycle ---------------------------------------------------------------------------

    def _refuse_busy(self, what: str) -> None:
        if self.busy:
            raise UsageError(f"database {self.name} cannot {what}: operation {self.operation} is in progress")

    def create(self) -> None:
        if self.state != NONE:
            raise UsageError(f"database {self.name} already exists (state {self.state})")
        self.state = SETUP
        self.changed()
        self.cluster.log(self.name, "", "Notice", f"Database {self.name} created")

    def _pick_nodes(self) -> tuple[list[str], list[str]]:
        nodes = self.cluster.nodes
        active, failed = [], []
        for n in self.configured_active:
            (active if nodes[n].online else failed).append(n)
        for n in self.nodes_list[self.nodes_number :]:
            if len(active) >= self.nodes_number:
                break
            if nodes[n].online:
                active.append(n)
        return active, failed

    def start(self) -> None:
        if self.state == NONE:
            raise UsageError(f"database {self.name} does not exist yet; call createDatabase first")
        if self.state in (STARTING, RUNNING):
            raise UsageError(f"database {self.name} is already {self.state}")
        if self.state == STOPPING:
            raise UsageError(f"database {self.name} is shutting down; start it once it is in setup")
        self._refuse_busy("start")
        storage = self.cluster.storage
        if not storage.online:
            raise UsageError(f"database {self.name} cannot start: EXAStorage is not online ({storage.state})")
        vol = self.cluster.volumes.get(self.volume)
        if vol is None:
            raise UsageError(f"database {self.name} cannot start: its data volume {self.volume!r} does not exist")
        active, failed = self._pick_nodes()
        if len(active) < self.nodes_number:
            down = [n for n in self.nodes_list if not self.cluster.nodes[n].online]
            states = ", ".join(f"{n} ({self.cluster.nodes[n].status.lower()})" for n in down)
            raise UsageError(
                f"database {self.name} cannot start: it needs {self.nodes_number} running nodes"
                f" of {', '.join(self.nodes_list)}, but {len(active)} are running; not running: {states}"
            )
        self.active, self.failed = active, failed
        self.errors = []
        self.state = STARTING
        self.operation = STARTUP
        self.connectible = False
        self.cluster.log(self.name, "", "Notice", f"Database {self.name} is starting on {', '.join(active)}")
        self.set_deadline(self.cluster.duration("database_start"))

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
        if self.operation == BACKUP:
            self.cluster.log(self.name, "", "Warning", f"Backup of {self.name} aborted by a forced shutdown")
        self.backup = {}
        self.restart_after_stop = False
        self.state = STOPPING
        self.operation = FORCE
        self.connectible = False
        self.cluster.log(self.name, "", "Warning", f"Database {self.name} is being shut down by force")
        self.set_deadline(self.cluster.duration("database_force_stop"))

    def _begin_stop(self, operation: str) -> None:
        self.state = STOPPING
        self.operation = operation
        self.connectible = False
        self.cluster.log(self.name, "", "Notice", f"Database {self.name} is shutting down")
        self.set_deadline(self.cluster.duration("database_stop"))

    def start_backup(self, volume: str, level: Any, expire: Any) -> None:
        if self.state != RUNNING or not self.connectible:
            raise UsageError(f"database {self.name} must be running and accepting connections to back up")
        self._refuse_busy("start a backup")
        vol = self.cluster.volumes.get(volume) if isinstance(volume, str) else None
        if vol is None:
            raise UsageError(f"backup volume {volume!r} does not exist")
        if vol.type != "Archive":
            raise UsageError(f"volume {volume} is a {vol.type} volume; backups go to an Archive volume")
        if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 9:
            raise UsageError("backup level must be a whole number from 0 to 9")
        if not isinstance(expire, str) or not EXPIRE_RE.match(expire):
            raise UsageError("expire must be a duration such as '1w', '3d 12h' or '30m'")
        self.operation = BACKUP
        self.backup = {"volume": volume, "level": level, "expire": expire.strip(), "started": self.cluster.now}
        self.cluster.log(self.name, "", "Notice", f"Backup of {self.name} (level {level}) to {volume} started")
        self.set_deadline(self.cluster.duration("database_backup"))

    def abort_backup(self) -> None:
        if self.operation != BACKUP:
            raise UsageError(f"database {self.name} has no backup running")
        self.operation = IDLE
        self.backup = {}
        self.set_deadline(None)
        self.cluster.log(self.name, "", "Warning", f"Backup of {self.name} aborted")

    def fail(self, reason: str) -> None:
        """A node the running database needs went away."""
        if self.state not in (STARTING, RUNNING):
            return
        self.state = SETUP
        self.operation = IDLE
        self.connectible = False
        self.backup = {}
        self.errors = [f"database {self.name} failed: {reason}"]
        self.set_deadline(None)
        self.cluster.log(self.name, "", "Error", self.errors[0])

    def on_deadline(self) -> None:
        c = self.cluster
        if self.state == STARTING:
            if self.start_fail:
                self.state, self.operation = SETUP, IDLE
                self.active, self.failed = [], []
                self.errors = [
                    f"database {self.name} failed to start: the database process exited during"
                    " startup (injected fault start_fail)"
                ]
                self.changed()
                c.log(self.name, "", "Error", self.errors[0])
                return
            self.state, self.operation = RUNNING, IDLE
            c.log(self.name, "", "Notice", f"Database {self.name} is running, opening connections")
            self.set_deadline(c.duration("database_connect"))
        elif self.state == RUNNING and self.operation == BACKUP:
            b = self.backup
            self.backups.append({**b, "finished": c.now, "id": len(self.backups) + 1})
            self.backup = {}
            self.operation = IDLE
            self.changed()
            c.log(self.name, "", "Notice", f"Backup of {self.name} (level {b['level']}) to {b['volume']} finished")
        elif self.state == RUNNING and not self.connectible:
            self.connectible = True
            self.changed()
            c.log(
                self.name, "", "Notice", f"Database {self.name} is accepting connections at {self.connection_string()}"
            )
        elif self.state == STOPPING:
            self.state, self.operation = SETUP, IDLE
            self.active, self.failed = [], []
            self.changed()
            c.log(self.name, "", "Notice", f"Database {self.name} is shut down")
            if self.restart_after_stop:
                self.restart_after_stop = False
                try:
                    self.start()
                except UsageError as e:
                    self.errors = [e.reason]
                    c.log(self.name, "", "Error", f"restart of {self.name} failed: {e.reason}")

    # -- configuration ---------------------------------------------------------------------

    def configure(self, values: dict[str, Any], creating: bool = False) -> list[str]:
        allowed = CREATE_FIELDS if creating else FIELDS
        if not isinstance(values, dict):
            raise UsageError("expected a dictionary of fields")
        unknown = set(values) - set(allowed)
        if unknown:
            raise UsageError(f"unknown field(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(allowed))}")
        for f, v in values.items():
            t = allowed[f]
            if (t is int and (isinstance(v, bool) or not isinstance(v, int))) or not isinstance(v, t):
                raise UsageError(f"{f} must be of type {t.__name__}, got {type(v).__name__}")
        if creating:
            missing = [f for f in REQUIRED_ON_CREATE if f not in values]
            if missing:
                raise UsageError(f"missing required field(s): {', '.join(missing)}")
        elif self.state not in (NONE, SETUP):
            raise UsageError(f"database {self.name} must be stopped to be edited (state {self.state})")
        v = values
        if "clients_port_number" in v and not 1024 <= v["clients_port_number"] <= 65535:
            raise UsageError("clients_port_number must be from 1024 to 65535")
        if "clients_port_number" in v:
            for other in self.cluster.databases.values():
                if other is not self and other.port == v["clients_port_number"]:
                    raise UsageError(f"port {v['clients_port_number']} is already used by database {other.name}")
        if "data_volume" in v:
            vol = self.cluster.volumes.get(v["data_volume"])
            if vol is None or vol.type != "Data":
                raise UsageError(f"data_volume {v['data_volume']!r} is not a data volume of this cluster")
        if "memory_usage" in v and v["memory_usage"] < 1:
            raise UsageError("memory_usage must be at least 1 GiB")
        if "database_comment" in v and len(v["database_comment"]) > 200:
            raise UsageError("database_comment is limited to 200 characters")
        if "nodes_list" in v:
            nodes = v["nodes_list"]
            bad = [n for n in nodes if not isinstance(n, str) or n not in self.cluster.nodes
                   or self.cluster.nodes[n].license_server]  # fmt: skip
            if bad or not nodes or len(set(nodes)) != len(nodes):
                raise UsageError(
                    "nodes_list must name distinct database nodes of this cluster"
                    + (f"; not database nodes: {', '.join(map(str, bad))}" if bad else "")
                )
        if "nodes_number" in v:
            count = len(v.get("nodes_list", self.nodes_list))
            if not 1 <= v["nodes_number"] <= count:
                raise UsageError(f"nodes_number must be from 1 to the {count} nodes in nodes_list")
        mapping = {
            "clients_port_number": "port", "data_volume": "volume", "database_comment": "comment",
            "database_version": "version", "memory_usage": "memory_gib", "nodes_list": "nodes_list",
            "nodes_number": "nodes_number", "extra_params": "extra_params", "ldap_server": "ldap_server",
            "enable_auditing": "enable_auditing", "volume_quota": "volume_quota",
            "volume_restore_delay": "volume_restore_delay",
        }  # fmt: skip
        changed = []
        for f, val in v.items():
            attr = mapping.get(f)
            if attr and getattr(self, attr) != val:
                setattr(self, attr, list(val) if isinstance(val, list) else val)
                changed.append(f)
        if changed:
            self.changed()
        return sorted(changed)


def new_database(cluster: Cluster, values: dict[str, Any]) -> Database:
    if not isinstance(values, dict):
        raise UsageError("addDatabase takes a dictionary of fields")
    name = check_name("database_name", values.get("database_name"))
    if name in cluster.databases:
        raise UsageError(f"database {name} already exists")
    db = Database(cluster, name)
    db.configure(values, creating=True)
    return db
