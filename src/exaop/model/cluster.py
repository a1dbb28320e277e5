"""The cluster: the root of the object tree, and the rules that span objects."""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Iterable, Iterator
from typing import Any

from exaop.model import jobs, node_config, volumes
from exaop.model import kinds as _kinds  # noqa: F401 - registers every configurable kind
from exaop.model import node as node_states
from exaop.model.base import Entity, Timeline
from exaop.model.configurable import KINDS, Configurable
from exaop.model.database import ENTITY_KINDS as DATABASE_KINDS
from exaop.model.database import Database, database_at, database_from_profile, delete_database, new_database
from exaop.model.errors import NotFound, UsageError
from exaop.model.logs import LogBook, LogService, new_logservice
from exaop.model.node import Node
from exaop.model.plugins import Plugin
from exaop.model.power import DriverError, PowerPort, PowerPorts
from exaop.model.profile import Profile
from exaop.model.secrets import SecretBox
from exaop.model.settings import Settings
from exaop.model.storage import STARTING, Storage, Volume
from exaop.model.users import User, Users

SERVICES = ("Loggingd", "Lockd", "Storaged", "DWAd")
#: names below /cluster1 that objects added by clients cannot take
RESERVED_NAMES = frozenset({"storage", "users", "simulation", "support", "setup"})
FAULTS = ("boot_hang", "power_fail", "crash", "start_fail")


class Master(Entity):
    """Where the EXAoperation master runs, and whether it is restarting."""

    kind = "exaoperation"

    def __init__(self, cluster: Cluster, node: str) -> None:
        super().__init__(cluster)
        self.node = node
        self.moving_to = ""

    @property
    def key(self) -> str:
        return "master"

    @property
    def restarting(self) -> bool:
        return bool(self.moving_to)

    def record(self) -> dict[str, Any]:
        return {"node": self.node, "moving_to": self.moving_to, "deadline": self.deadline}

    @classmethod
    def from_record(cls, cluster: Cluster, key: str, rec: dict[str, Any]) -> Master:
        m = cls(cluster, rec["node"])
        m.moving_to = rec.get("moving_to", "")
        m.restore_deadline(rec.get("deadline"))
        return m

    def on_deadline(self) -> None:
        target = self.cluster.nodes.get(self.moving_to)
        if target is not None and target.online:
            self.node = self.moving_to
        self.moving_to = ""
        self.changed()
        self.cluster.log("EXAoperation", self.node, "Notice", f"EXAoperation master is running on {self.node}")
        self.cluster.settings.exaoperation_started()


class Cluster:
    """Root of the model. Holds every object and the rules between them.

    ``now`` is the simulated time of the change being made; :meth:`advance` moves it
    forward, firing due deadlines in order so that every log entry carries the
    simulated moment it happened.
    """

    def __init__(
        self, profile: Profile, now: float, drivers: dict[str, PowerPort], secrets: SecretBox | None = None
    ) -> None:
        self.profile = profile
        self.name = profile.name
        self.version = profile.version
        self.now = now
        self.rng = random.Random()
        self.timeline = Timeline()
        self.logbook = LogBook(profile.logs)
        self.drivers = drivers
        #: the engine's ports for nodes in server-management groups (None: every node is simulated)
        self.ports: PowerPorts | None = None
        #: moves on whenever what decides a node's port changes (a group, a node's group or card address)
        self.power_epoch = 0
        self.nodes: dict[str, Node] = {}
        self.storage = Storage(self)
        self.volumes: dict[str, Volume] = {}
        self.databases: dict[str, Database] = {}
        self.logservices: dict[str, LogService] = {}
        self.plugins: dict[str, Plugin] = {}
        self.users = Users(self)
        self.master = Master(self, profile.license_servers[0]["name"])
        self.halt_reason = ""  # set when the node running EXAoperation goes down
        self._dirty: dict[tuple[str, str], Entity] = {}
        self._deleted: set[tuple[str, str]] = set()
        self._unsaved: tuple[dict[tuple[str, str], Entity], set[tuple[str, str]]] = ({}, set())
        self._net = ipaddress.ip_network(profile.private_network, strict=False)
        self.secrets = secrets
        # every table of entities by kind: the built-in ones above, and the configurable kinds
        self.tables: dict[str, dict[str, Any]] = {
            "node": self.nodes, "volume": self.volumes, "database": self.databases,
            "logservice": self.logservices, "plugin": self.plugins,
        }  # fmt: skip
        self.settings = Settings(self)  # the cluster's own settings (getProperties, editNodeCluster* ...)

    # -- building ------------------------------------------------------------------------

    @classmethod
    def from_profile(
        cls, profile: Profile, now: float, drivers: dict[str, PowerPort], secrets: SecretBox | None = None
    ) -> Cluster:
        c = cls(profile, now, drivers, secrets)
        for ls in profile.license_servers:
            c._add(Node(c, ls["name"], license_server=True))
        for n in profile.nodes:
            node = Node(c, n["name"])
            node.hardware = dict(n.get("hardware", {}))
            node.driver = n.get("driver", "simulated")
            c._add(node)
        volumes.seed(c, profile.volumes)  # the nodes' disks, then the volumes on them
        for d in profile.databases:
            c._add(database_from_profile(c, d))
        for ls in profile.logservices:
            svc = LogService(c, ls["name"])
            svc.description = ls.get("description", "")
            svc.priority = ls.get("priority", "Information")
            svc.exaclusteros_services = list(ls.get("services", svc.exaclusteros_services))
            svc.exasolution_systems = list(ls.get("databases", list(c.databases)))
            c._add(svc)
        for p in profile.plugins:
            c._add(Plugin(c, p["name"], p.get("daemon", p["name"]), p.get("description", "")))
        c.touch(c.storage)
        c.touch(c.master)
        c.touch(c.settings)
        for kind in KINDS.values():  # what each configurable kind starts with
            kind.seed(c)
        c.log("EXAoperation", c.master.node, "Notice", f"cluster {c.name} created from profile")
        return c

    @classmethod
    def from_records(
        cls,
        profile: Profile,
        now: float,
        records: Iterable[tuple[str, str, dict[str, Any]]],
        drivers: dict[str, PowerPort],
        secrets: SecretBox | None = None,
    ) -> Cluster:
        c = cls(profile, now, drivers, secrets)
        factories = {
            "node": Node, "volume": Volume, "database": Database, "logservice": LogService,
            "plugin": Plugin,
        }  # fmt: skip
        factories.update(KINDS)
        factories.update(DATABASE_KINDS)
        factories.update(jobs.ENTITY_KINDS)  # ConfD's job history
        for kind, key, rec in records:
            if kind in factories:
                c._add(factories[kind].from_record(c, key, rec), dirty=False)
            elif kind == "storage":
                c.storage = Storage.from_record(c, key, rec)
            elif kind == "exaoperation":
                c.master = Master.from_record(c, key, rec)
            elif kind == "settings":
                c.settings = Settings.from_record(c, key, rec)
            elif kind == "user":
                c.users.load(User.from_record(c, key, rec))
        volumes.after_load(c)
        return c

    def _add(self, obj: Entity, dirty: bool = True) -> None:
        self.table(obj.kind)[obj.key] = obj
        if dirty:
            self.touch(obj)

    def table(self, kind: str) -> dict[str, Any]:
        """The entities of ``kind`` by key (an empty table for a kind with none yet)."""
        return self.tables.setdefault(kind, {})

    # -- persistence hooks ---------------------------------------------------------------

    def touch(self, obj: Entity) -> None:
        self._dirty[(obj.kind, obj.key)] = obj
        if obj.kind == "srvmgmt_group":
            self.power_epoch += 1

    def forget(self, obj: Entity) -> None:
        if obj.kind in ("srvmgmt_group", "node"):
            self.power_epoch += 1
        self._dirty.pop((obj.kind, obj.key), None)
        self._deleted.add((obj.kind, obj.key))

    def take_changes(self) -> tuple[list[tuple[str, str, dict[str, Any]]], list[tuple[str, str]]]:
        changed = [(k, key, obj.record()) for (k, key), obj in self._dirty.items()]
        deleted = list(self._deleted)
        self._unsaved = (dict(self._dirty), set(self._deleted))
        self._dirty.clear()
        self._deleted.clear()
        return changed, deleted

    def keep_changes(self) -> None:
        """The changes last taken could not be saved: keep them for the next attempt."""
        dirty, deleted = self._unsaved
        for k, obj in dirty.items():
            self._dirty.setdefault(k, obj)
        self._deleted |= deleted - set(self._dirty)

    @property
    def has_changes(self) -> bool:
        return bool(self._dirty or self._deleted or self.logbook.unsaved)

    def all_entities(self) -> list[Entity]:
        out: list[Entity] = [self.storage, self.master, self.settings]
        for table in self.tables.values():
            out.extend(table.values())
        out.extend(self.users.by_id.values())
        return out

    # -- time ----------------------------------------------------------------------------

    def advance(self, now: float) -> int:
        """Fire every deadline up to ``now``, each at its own moment. Returns how many fired."""
        fired = 0
        while True:
            due = self.timeline.pop_due(now)
            if due is None:
                break
            at, entity = due
            self.now = max(self.now, at)
            entity.deadline = None
            entity.changed()
            entity.on_deadline()
            fired += 1
        self.now = max(self.now, now)
        return fired

    def next_deadline(self) -> float | None:
        return self.timeline.next_due()

    def duration(self, name: str) -> float:
        return self.profile.durations[name].draw(self.rng)

    def log(self, system: str, node: str, priority: str, message: str) -> None:
        self.logbook.add(self.now, system, node, priority, message)

    # -- lookups -------------------------------------------------------------------------

    def node(self, ident: Any) -> Node:
        """A node by name (``n0011``) or number (``11``, ``'11'``)."""
        if isinstance(ident, bool):
            raise UsageError("a node is named like n0011 or given by its number")
        if isinstance(ident, int) or (isinstance(ident, str) and ident.isdigit()):
            ident = f"n{int(ident):04d}"
        if isinstance(ident, str) and ident in self.nodes:
            return self.nodes[ident]
        raise NotFound(f"Object {ident} (node) not found")

    def database(self, name: Any) -> Database:
        if isinstance(name, str) and name.startswith("db_"):
            name = name[3:]
        if isinstance(name, str) and name in self.databases:
            return self.databases[name]
        raise NotFound(f"Object db_{name} not found")

    def driver(self, node: Node) -> PowerPort:
        """The port that powers ``node``: its server-management group's driver, else its own (simulated)."""
        if self.ports is not None and node.values.get("ipmi_group"):
            try:
                port = self.ports.port_for(node.name)
            except DriverError as e:
                raise UsageError(f"{node.name}: no power driver for its server management group: {e}") from e
            if port is not None:
                return port
        try:
            return self.drivers[node.driver]
        except KeyError:
            raise UsageError(f"{node.name} uses power driver {node.driver!r}, which is not configured") from None

    @property
    def simulated(self) -> bool:
        return all(d.simulated for d in self.drivers.values())

    def database_node_names(self) -> list[str]:
        return sorted(n for n, node in self.nodes.items() if not node.license_server)

    def license_server_names(self) -> list[str]:
        return sorted(n for n, node in self.nodes.items() if node.license_server)

    def hardware_of(self, node: Node) -> dict[str, Any]:
        return {**self.profile.hardware, **node.hardware}

    def node_ip(self, number: int) -> str:
        return str(self._net.network_address + number)

    def ip_ranges(self, names: Iterable[str]) -> str:
        """'10.50.1.11..13' for n0011-n0013; runs joined by commas."""
        numbers = sorted(int(n[1:]) for n in names)
        runs: list[list[int]] = []
        for num in numbers:
            if (
                runs
                and num == runs[-1][-1] + 1
                and (self.node_ip(num).rsplit(".", 1)[0] == self.node_ip(runs[-1][0]).rsplit(".", 1)[0])
            ):
                runs[-1].append(num)
            else:
                runs.append([num])
        parts = []
        for run in runs:
            first = self.node_ip(run[0])
            parts.append(first if len(run) == 1 else f"{first}..{self.node_ip(run[-1]).rsplit('.', 1)[1]}")
        return ",".join(parts)

    # -- cluster-wide views --------------------------------------------------------------

    def service_states(self) -> list[list[str]]:
        states = []
        for svc in SERVICES:
            # a stopping storage service still runs; a starting one does not yet
            ok = self.storage.state in ("online", "stopping") if svc == "Storaged" else True
            states.append([svc, "OK" if ok else "not running"])
        return states

    def exaoperation_nodes(self) -> list[str]:
        return self.settings.exaoperation_order(list(self.profile.exaoperation_nodes))

    def possible_exaoperation_nodes(self) -> list[str]:
        return [n for n in self.exaoperation_nodes() if self.nodes[n].online]

    def pxe_available(self) -> bool:
        return any(self.nodes[n].online for n in self.license_server_names())

    def databases_using_storage(self) -> list[Database]:
        return [db for db in self.databases.values() if db.uses_storage]

    # -- rules between objects ------------------------------------------------------------

    def check_node_may_stop(self, node: Node) -> None:
        """Refuse to take a running node away from work that needs it."""
        users = [db.name for db in self.databases.values() if db.uses_storage and node.name in db.active]
        if users:
            raise UsageError(
                f"{node.name} runs database(s) {', '.join(users)}; stop them before shutting the node down"
            )
        st = self.storage
        if not node.license_server and st.state != "stopped" and not st.excused(node.name):
            raise UsageError(f"EXAStorage is {st.state} on {node.name}; stop EXAStorage before shutting the node down")
        if node.name == self.master.node:
            if not node.license_server:
                raise UsageError(f"{node.name} runs the EXAoperation master; move it with restartEXAoperation first")
            if self.storage.state != "stopped" or self.databases_using_storage():
                raise UsageError(
                    f"shutting down {node.name} ends EXAoperation; stop the databases and EXAStorage first"
                )

    def node_leaving(self, node: Node) -> None:
        for p in self.plugins.values():
            p.node_gone(node.name)
        if node.name == self.master.node:
            self.halt_reason = f"{node.name}, where EXAoperation runs, is shutting down"
            self.log("EXAoperation", node.name, "Warning", f"EXAoperation is going down with {node.name}")

    def node_lost(self, node: Node, how: str) -> None:
        reason = f"node {node.name} {how}"
        for p in self.plugins.values():
            p.node_gone(node.name)
        for db in self.databases.values():
            db.node_lost(node.name, reason)
        storage_running = self.storage.state == STARTING or self.storage.online
        if storage_running and not node.license_server and not self.storage.excused(node.name):
            self.storage.fail(reason, node.name)
        if node.name == self.master.node and not self.halt_reason:
            # powered off under EXAoperation's feet: it goes down as with a shutdown
            self.halt_reason = f"{node.name}, where EXAoperation runs, {how}"
            self.log("EXAoperation", node.name, "Warning", f"EXAoperation is going down with {node.name}")

    def node_arrived(self, node: Node) -> None:
        for p in self.plugins.values():
            p.node_gone(node.name)
        self.storage.node_arrived(node.name)

    # -- EXAoperation itself ---------------------------------------------------------------

    def boot_license_server(self) -> None:
        """EXAoperation starts: the license server it runs on is up."""
        if self.master.restarting:  # ended in the middle of a restart: this start completes it
            target = self.nodes.get(self.master.moving_to)
            if target is not None and target.online:
                self.master.node = target.name
            self.master.moving_to = ""
            self.master.set_deadline(None)  # or the old restart would end once more, later
        master = self.nodes.get(self.master.node)
        if master is None or not master.online:
            self.master.node = self.license_server_names()[0]
        self.master.changed()
        ls = self.nodes[self.master.node]
        if not ls.online:
            ls.state = node_states.RUNNING
            ls.since = self.now
            ls.set_deadline(None)
            ls.changed()
        drv = self.driver(ls)
        if not drv.asynchronous and drv.power_state(ls.name) != "on":  # it runs EXAoperation: its machine is on
            drv.machine_changed(ls.name, True)
        self.log("EXAoperation", ls.name, "Notice", f"EXAoperation started on {ls.name}")
        self.settings.exaoperation_started()

    def reconcile_power(self) -> list[str]:
        """On a start (after :meth:`boot_license_server`): make every node's state agree with
        the power its driver reports. Returns one sentence per repair, each also a Warning in
        the log; the node running EXAoperation is up by definition and left alone. Nodes of real
        machines are left to :meth:`read_back_power` (their BMCs answer in their own time)."""
        repaired = []
        for node, port, _why in self._ports():
            if port is not None and port.asynchronous:
                continue
            power = port.power_state(node.name) if port is not None else "unknown"  # no driver: nothing can tell
            sentence = node.reconcile_power(power)
            if sentence:
                repaired.append(sentence)
        return repaired

    def _ports(self) -> Iterator[tuple[Node, PowerPort | None, str]]:
        """Every node but the one running EXAoperation, with its port (None, and why, when it has none)."""
        for node in list(self.nodes.values()):
            if node.name == self.master.node:
                continue
            try:
                yield node, self.driver(node), ""
            except UsageError as e:
                yield node, None, str(e)

    def read_back_power(self) -> list[str]:
        """On a start, once outcomes can come back: ask every real machine's BMC for its power, in
        the background; each answer repairs its node (:meth:`Node.power_read_back`). Returns the
        nodes asked."""
        asked = []
        for node, port, _why in self._ports():  # a node without a port: reconcile_power said so
            if port is not None and port.asynchronous:
                port.read(node.name, node.power_read_back)
                asked.append(node.name)
        return asked

    def restart_exaoperation(self, node_name: Any) -> None:
        target = self.master.node if node_name in ("", None) else self.node(node_name).name
        if target not in self.exaoperation_nodes():
            raise UsageError(f"EXAoperation cannot run on {target}; it runs on {', '.join(self.exaoperation_nodes())}")
        if not self.nodes[target].online:
            raise UsageError(f"EXAoperation cannot move to {target}: the node is {self.nodes[target].status.lower()}")
        self.master.moving_to = target
        self.log("EXAoperation", self.master.node, "Notice", f"EXAoperation is restarting on {target}")
        self.master.set_deadline(self.duration("exaoperation_restart"))

    def halt_license_server(self, node_name: Any) -> None:
        if node_name in ("", None):
            names = self.license_server_names()
            target = self.master.node if self.master.node in names else names[0]
        else:
            target = self.node(node_name).name
        node = self.nodes[target]
        if not node.license_server:
            raise UsageError(f"{target} is not a license server")
        node.shutdown()

    # -- simulation controls ---------------------------------------------------------------

    def inject_fault(self, target: Any, fault: Any) -> str:
        if fault not in FAULTS:
            raise UsageError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
        if fault == "start_fail":
            db = self.database(target)
            db.start_fail = True
            db.changed()
            return f"the next starts of database {db.name} fail"
        node = self.node(target)
        if fault == "boot_hang":
            node.boot_hang = True
            if node.state == node_states.BOOTING:
                node.set_deadline(None)
            node.changed()
            return f"{node.name} hangs in its boot"
        if fault == "power_fail":
            drv = self.driver(node)
            if not drv.simulated:
                raise UsageError(f"{node.name} is not powered by the simulated driver")
            drv.set_refuse(node.name, True)
            return f"the management card of {node.name} refuses requests"
        if node.name == self.master.node:
            raise UsageError(f"{node.name} runs EXAoperation; crashing it would end this server")
        node.crash()
        return f"{node.name} crashed"

    def clear_faults(self) -> list[str]:
        cleared = []
        for node in self.nodes.values():
            if node.boot_hang:
                node.boot_hang = False
                node.changed()
                node.resume_hung_boot()
                cleared.append(f"boot_hang {node.name}")
            drv = self.drivers.get(node.driver)
            if drv is not None and node.name in drv.refusing():
                drv.set_refuse(node.name, False)
                cleared.append(f"power_fail {node.name}")
        for db in self.databases.values():
            if db.start_fail:
                db.start_fail = False
                db.changed()
                cleared.append(f"start_fail {db.name}")
        return cleared

    # -- creating objects ------------------------------------------------------------------

    def add_database(self, values: Any) -> Database:
        db = new_database(self, values)
        self._add(db)
        self.log("EXAoperation", "", "Notice", f"database {db.name} defined")
        return db

    def add_volume(self, vtype: str, size_gib: float, nodes: list[str], redundancy: int = 1, owner: str = "") -> Volume:
        """A new EXAStorage volume (v0000, v0001 ... the lowest free id) with one segment per node on
        the nodes' first common storage disk; UsageError when the disks have no room for it."""
        return volumes.create(self, vtype, size_gib, list(nodes), redundancy, owner=owner)

    def remove_volume(self, vol: Volume) -> None:
        del self.volumes[vol.vid]
        vol.set_deadline(None)
        self.forget(vol)
        self.log("Storage", "", "Notice", f"volume {vol.vid} removed")

    def add_logservice(self, values: Any) -> LogService:
        if not isinstance(values, dict):
            raise UsageError("addLogService takes a dictionary of fields")
        name = values.get("name") or f"logservice{len(self.logservices) + 1}"
        while name in self.logservices:
            name = f"logservice{int(name.removeprefix('logservice') or 0) + 1}"
        svc = new_logservice(self, name, {k: v for k, v in values.items() if k != "name"})
        self._add(svc)
        return svc

    # -- configurable objects (model/configurable.py) ----------------------------------------------

    def add_object(self, cls: type[Configurable], values: Any, parent: str = "") -> Configurable:
        """A new object of a configurable kind from a dictionary of its fields (checked first:
        a refusal adds nothing)."""
        obj = cls(self, "", parent)
        new = cls.SCHEMA.validate(values, obj, creating=True, seal=self.seal)
        obj.check(new, creating=True)
        obj.name = cls.new_name(self, new, parent)
        obj.values = new
        self._add(obj)
        obj.added()
        self.log("EXAoperation", "", "Notice", f"{cls.TITLE} {obj.name} added")
        return obj

    def delete_object(self, obj: Configurable) -> None:
        obj.check_delete()
        for child in self.children_of(obj):
            self.delete_object(child)
        del self.table(obj.kind)[obj.key]
        self.forget(obj)
        obj.set_deadline(None)
        self._dirty.pop((obj.kind, obj.key), None)
        obj.deleted()
        self.log("EXAoperation", "", "Notice", f"{obj.TITLE} {obj.name} deleted")

    def delete_child(self, name: Any) -> None:
        """deleteSubObject on the cluster: the object called ``name`` directly below it."""
        obj = self.object_at(name) if isinstance(name, str) else None
        if obj is not None:
            self.delete_object(obj)
            return
        if isinstance(name, str) and name.startswith("db_"):
            delete_database(self, database_at(self, name))
            return
        if isinstance(name, str) and name in self.logservices:
            svc = self.logservices.pop(name)
            self.forget(svc)
            self.log("EXAoperation", "", "Notice", f"log service {name} deleted")
            return
        if isinstance(name, str) and name in self.nodes:
            node_config.remove_node(self, self.nodes[name])
            return
        raise NotFound(f"Object {name} not found in /{self.name}")

    def objects(self, kind: str, parent: str = "") -> list[Any]:
        """The objects of a configurable kind below ``parent`` ('' the cluster), by name."""
        return sorted((o for o in self.table(kind).values() if o.parent == parent), key=lambda o: o.name)

    def children_of(self, obj: Configurable) -> list[Configurable]:
        return [o for kind in KINDS for o in self.table(kind).values() if o.parent == obj.key]

    def object_at(self, name: str, parent: str = "") -> Configurable | None:
        """The configurable object called ``name`` below ``parent``, of whatever kind."""
        key = f"{parent}/{name}" if parent else name
        for kind in KINDS:
            obj = self.tables.get(kind, {}).get(key)
            if obj is not None:
                return obj  # type: ignore[no-any-return]
        return None

    def name_free(self, name: str, cls: type[Configurable], parent: str = "") -> bool:
        """Whether a new object may be called ``name``: below the cluster, names share one
        space with the nodes, databases, log services and the fixed objects."""
        if self.object_at(name, parent) is not None:
            return False
        if parent:
            return True
        return (
            name not in self.nodes
            and name not in self.logservices
            and not name.startswith("db_")
            and (name not in RESERVED_NAMES)
        )

    def seal(self, plain: str) -> str:
        if self.secrets is None:
            raise UsageError("this cluster keeps no passwords: it was made without a secret box")
        return self.secrets.seal(plain)

    def unseal(self, sealed: str) -> str:
        if self.secrets is None:
            raise UsageError("this cluster keeps no passwords: it was made without a secret box")
        return self.secrets.open(sealed)
