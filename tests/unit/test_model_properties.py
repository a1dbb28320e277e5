"""Property test: random operations on the default cluster never break its rules.

Hypothesis drives nodes, EXAStorage, the database, faults, the master and the clock in
random order. Every operation either succeeds or raises a DomainError (a refusal, which
changes nothing but the log); after every step the invariants below hold. A `reload`
step rebuilds the cluster from its records, as `exaop serve` does after a crash.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from exaop.engine.drivers import SimulatedDriver
from exaop.engine.profile import default_profile
from exaop.model.cluster import Cluster
from exaop.model.errors import DomainError
from tests.unit.modelkit import DB_NODES, T0
from tests.unit.test_model_database_rules import check_nodes, check_volume_usage, rebuilt, snapshot

ALL_NODES = ["n0010", *DB_NODES]
DB_STATES = {"none", "setup", "starting", "running", "stopping"}
OPERATION_BY_STATE = {
    "none": {"None"},
    "setup": {"None"},
    "starting": {"Startup", "Restore"},
    "running": {"None", "Backup", "Restore", "Shrink"},
    "stopping": {"Shutdown", "Restart", "Force shutdown"},
}


class ClusterMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.c = Cluster.from_profile(default_profile(), T0, {"simulated": SimulatedDriver()})
        self.c.rng = random.Random(0)
        self.c.boot_license_server()
        self.refusals = 0

    # -- acting ------------------------------------------------------------------------------

    def attempt(self, fn, *args: Any) -> None:  # type: ignore[no-untyped-def]
        """Call a model operation; a refusal must leave every record as it was."""
        before = snapshot(self.c)
        try:
            fn(*args)
        except DomainError as e:
            self.refusals += 1
            assert e.reason and isinstance(e.reason, str)
            after = snapshot(self.c)
            assert after == before, f"refused {getattr(fn, '__qualname__', fn)}{args} ({e.reason}) changed state"
        if self.c.halt_reason:
            self.reload()  # EXAoperation went down with its node; `exaop serve` is started again

    @rule(node=st.sampled_from(ALL_NODES), op=st.sampled_from(["startup", "shutdown", "poweroff", "reboot"]))
    def node_op(self, node: str, op: str) -> None:
        n = self.c.nodes[node]
        fn = {"startup": n.startup, "shutdown": n.shutdown, "poweroff": n.poweroff}.get(op)
        if op == "reboot":
            self.attempt(n.shutdown, True)
        else:
            self.attempt(fn)

    @rule()
    def start_database_nodes(self) -> None:
        for n in DB_NODES:
            self.attempt(self.c.nodes[n].startup)

    @rule(ignored=st.lists(st.sampled_from(DB_NODES), unique=True, max_size=1))
    def bring_up(self, ignored: list[str]) -> None:
        """The seed's startup in one go, each step allowed to be refused."""
        self.start_database_nodes()
        self.advance(300)
        self.storage_start(ignored)
        self.advance(50)
        self.db_op("start")
        self.advance(120)

    @rule(node=st.sampled_from(ALL_NODES), fault=st.sampled_from(["crash", "boot_hang", "power_fail"]))
    def node_fault(self, node: str, fault: str) -> None:
        self.attempt(self.c.inject_fault, node, fault)

    @rule()
    def start_fail(self) -> None:
        self.attempt(self.c.inject_fault, "exa_db1", "start_fail")

    @rule()
    def clear_faults(self) -> None:
        self.c.clear_faults()

    @rule(ignored=st.lists(st.sampled_from(DB_NODES), unique=True, max_size=2))
    def storage_start(self, ignored: list[str]) -> None:
        self.attempt(self.c.storage.start, ignored)

    @rule()
    def storage_stop(self) -> None:
        self.attempt(self.c.storage.stop)

    @rule(op=st.sampled_from(["start", "stop", "restart", "force_stop", "abort_backup", "create"]))
    def db_op(self, op: str) -> None:
        self.attempt(getattr(self.c.databases["exa_db1"], op))

    @rule(level=st.integers(-1, 10), volume=st.sampled_from(["v0001", "v0000"]))
    def db_backup(self, level: int, volume: str) -> None:
        self.attempt(self.c.databases["exa_db1"].start_backup, volume, level, "1w")

    @rule(node=st.sampled_from(["", "n0010", "n0011", "n0012", "n0013"]))
    def restart_exaoperation(self, node: str) -> None:
        self.attempt(self.c.restart_exaoperation, node)

    @rule()
    def halt_license_server(self) -> None:
        self.attempt(self.c.halt_license_server, "")

    @rule(seconds=st.one_of(st.integers(0, 60), st.integers(0, 700), st.floats(0, 3600, allow_nan=False)))
    def advance(self, seconds: float) -> None:
        self.c.advance(self.c.now + seconds)

    @rule()
    def reload(self) -> None:
        """What `exaop serve` does after kill -9: rebuild from the records, same drivers."""
        old = self.c
        self.c = new = rebuilt(old)
        if old.halt_reason or not new.nodes[new.master.node].online:
            new.boot_license_server()  # the next `exaop serve` starts on the license server

    # -- invariants ---------------------------------------------------------------------------

    @invariant()
    def databases_stand_on_storage_and_nodes(self) -> None:
        c = self.c
        for db in c.databases.values():
            assert db.state in DB_STATES
            assert db.operation in OPERATION_BY_STATE[db.state], (db.state, db.operation)
            assert (db.operation == "None") == (not db.busy)
            if db.connectible:
                assert db.state == "running"
            if db.state in ("starting", "running"):
                assert c.storage.state in ("online", "starting"), c.storage.state
                assert len(db.active) == db.nodes_number
                assert set(db.active) <= set(db.nodes_list)
                down = [n for n in db.active if not c.nodes[n].online]
                assert not down, f"{db.name} is {db.state} on {down}, which are not running"
            sets = db.node_sets()
            assert not set(sets["active"]) & set(sets["reserve"])

    @invariant()
    def volumes_and_database_nodes_add_up(self) -> None:
        check_volume_usage(self.c)
        check_nodes(self.c)

    @invariant()
    def storage_online_means_its_nodes_run_or_a_loss_was_logged(self) -> None:
        c = self.c
        if not c.storage.online:
            return
        messages = []
        for e in reversed(c.logbook.entries):
            if e.system == "Storage" and e.message == "EXAStorage is online":
                break
            messages.append((e.priority, e.message))
        for n in c.storage.storage_nodes():
            if n in c.storage.ignored or c.nodes[n].online:
                continue
            assert any(p == "Warning" and f"EXAStorage lost a node: node {n} " in m for p, m in messages), n

    @invariant()
    def services_follow_storage(self) -> None:
        states = dict(map(tuple, self.c.service_states()))
        # a stopping EXAStorage still runs; a starting one does not yet
        assert states["Storaged"] == ("OK" if self.c.storage.state in ("online", "stopping") else "not running")
        assert [s for s, st in states.items() if st != "OK"] in ([], ["Storaged"])

    @invariant()
    def nodes_are_consistent(self) -> None:
        c = self.c
        drv = c.drivers["simulated"]
        for n in c.nodes.values():
            if n.state in ("booting", "running", "shutting_down"):
                assert drv.power_state(n.name) == "on", (n.name, n.state)
            if n.state == "shutting_down" or (n.state == "booting" and not n.boot_hang):
                assert n.deadline is not None and n.deadline >= c.now, (n.name, n.state)
            if n.state in ("off", "running", "crashed"):
                assert n.deadline is None, (n.name, n.state)
        for p in c.plugins.values():
            assert all(c.nodes[node].online for node in p.running), p.running

    @invariant()
    def transitions_under_way_have_a_deadline(self) -> None:
        c = self.c
        if c.storage.state in ("starting", "stopping"):
            assert c.storage.deadline is not None
        for db in c.databases.values():
            if db.state in ("starting", "stopping") or db.operation != "None":
                assert db.deadline is not None, (db.state, db.operation)
            if db.state == "running" and not db.connectible and not db.maintenance:
                assert db.deadline is not None
        due = c.next_deadline()
        assert due is None or due > c.now or due == c.now  # nothing overdue is left behind
        assert all(e.deadline is None or e.deadline >= c.now for e in c.all_entities())

    @invariant()
    def the_master_runs_on_an_online_node(self) -> None:
        c = self.c
        if not c.halt_reason:
            assert c.nodes[c.master.node].online, c.master.node
        assert c.master.node in c.exaoperation_nodes()

    @invariant()
    def log_is_ordered(self) -> None:
        entries = list(self.c.logbook.entries)[-50:]
        assert all(a.id < b.id and a.t <= b.t for a, b in zip(entries, entries[1:], strict=False))


ClusterMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestClusterRules = ClusterMachine.TestCase
