"""Property test of databases: random lifecycles, backups, restores, shrinks, schedules, node
crashes and edits on a cluster that starts with everything up.

Every operation either succeeds or is refused without changing any record; after every step
the volumes' figures add up (each database's data and each backup, nothing else), the nodes
split into active, failed and reserve, and a rebuild from the records (what `exaop serve`
does after kill -9) gives the same cluster.
"""

from __future__ import annotations

import copy
import random
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from exaop.engine.drivers import SimulatedDriver
from exaop.engine.profile import default_profile
from exaop.model import backups
from exaop.model.cluster import Cluster
from exaop.model.errors import DomainError
from tests.unit.modelkit import DB_NODES, T0


def snapshot(c: Cluster) -> dict[tuple[str, str], dict[str, Any]]:
    return {(e.kind, e.key): copy.deepcopy(e.record()) for e in c.all_entities()}


def rebuilt(old: Cluster) -> Cluster:
    """What `exaop serve` does after kill -9: the cluster again from its records, same drivers;
    it must be the same cluster."""
    before = snapshot(old)
    new = Cluster.from_records(old.profile, old.now, [(k, key, rec) for (k, key), rec in before.items()],
                               old.drivers)  # fmt: skip
    new.rng, new.logbook = old.rng, old.logbook
    assert snapshot(new) == before, "a record does not carry everything the object needs"
    return new


def check_volume_usage(c: Cluster) -> None:
    """What each volume counts as used is exactly the databases' data and the backups on it."""
    for vid, vol in c.volumes.items():
        want = {f"db:{d.name}": round(d.allocated_gib, 3) for d in c.databases.values()
                if d.volume == vid and d.allocated_gib > 0}  # fmt: skip
        want.update({f"backup:{b.bid}": b.size_gib for b in backups.all_backups(c) if b.volume == vid})
        want.update({f"backup:{d.backup['bid']}": d.backup["size"] for d in c.databases.values()
                     if d.backup.get("volume") == vid})  # fmt: skip
        assert vol.usage == want, (vid, vol.usage, want)
        assert vol.used_gib <= vol.size_gib + 1e-6
    for db in c.databases.values():
        assert db.data_gib <= db.allocated_gib + 1e-6
    for b in backups.all_backups(c):
        assert (b.deadline is None) == (b.expire_at is None or b.expired), (b.key, b.deadline, b.expire_at)


def check_nodes(c: Cluster) -> None:
    for db in c.databases.values():
        assert len(db.active) == db.nodes_number
        assert sorted(db.active + db.failed + db.reserve) == sorted(db.nodes_list)
        assert not set(db.active) & set(db.failed)
        assert bool(db.temp_volume) == (db.state in ("starting", "running", "stopping")), db.temp_volume
        if db.temp_volume:
            assert c.volumes[db.temp_volume].owner == f"db_{db.name}"
        if db.state in ("starting", "running"):
            assert all(c.nodes[n].online for n in db.active), (db.state, db.active)


class DatabaseMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        c = Cluster.from_profile(default_profile(), T0, {"simulated": SimulatedDriver()})
        c.rng = random.Random(0)
        c.boot_license_server()
        for n in DB_NODES:
            c.nodes[n].startup()
        c.advance(c.now + 300)
        c.storage.start()
        c.advance(c.now + 50)
        c.databases["exa_db1"].start()
        c.advance(c.now + 120)
        assert c.databases["exa_db1"].connectible
        self.c = c

    @property
    def db(self):  # type: ignore[no-untyped-def]
        return self.c.databases["exa_db1"]

    def attempt(self, fn, *args: Any) -> None:  # type: ignore[no-untyped-def]
        before = snapshot(self.c)
        try:
            fn(*args)
        except DomainError as e:
            assert e.reason
            assert snapshot(self.c) == before, f"refused {getattr(fn, '__qualname__', fn)}{args} ({e.reason})"

    # -- the database ---------------------------------------------------------------------------

    @rule(op=st.sampled_from(["start", "stop", "restart", "force_stop", "abort_backup", "abort_shrink"]))
    def lifecycle(self, op: str) -> None:
        self.attempt(getattr(self.db, op))

    @rule()
    def start_maintenance(self) -> None:
        self.attempt(self.db.start, True)

    @rule(level=st.integers(0, 3), volume=st.sampled_from(["v0001", "v0001", "v0000"]),
          expire=st.sampled_from(["", "30m", "1d", "1w"]))  # fmt: skip
    def backup(self, level: int, volume: str, expire: str) -> None:
        self.attempt(self.db.start_backup, volume, level, expire)

    @rule(pick=st.integers(0, 9), kind=st.sampled_from(["blocking", "nonblocking", "virtual access"]))
    def restore(self, pick: int, kind: str) -> None:
        items = backups.listing(self.c, "exa_db1", True, True)
        if items:
            self.attempt(self.db.start_restore, items[pick % len(items)]["id"], kind)

    @rule(size=st.sampled_from([1, 120, 180, 200, 224.5, 300]))
    def shrink(self, size: float) -> None:
        self.attempt(self.db.start_shrink, size)

    @rule(level=st.integers(0, 2), hour=st.sampled_from(["*/3", "1", "2,14"]), roll=st.integers(0, 3))
    def schedule(self, level: int, hour: str, roll: int) -> None:
        if roll == 0:
            entries = [{"volume": "v0001", "level": level, "expire": "3h", "minute": "30", "hour": hour}]
            self.attempt(backups.set_schedule, self.c, self.db, entries)

    @rule()
    def clear_schedule(self) -> None:
        self.attempt(backups.set_schedule, self.c, self.db, [])

    @rule(pick=st.integers(0, 9))
    def delete_backup(self, pick: int) -> None:
        items = backups.listing(self.c, "exa_db1", True, True)
        if items:
            self.attempt(backups.delete_backups, self.c, [items[pick % len(items)]["id"]], "admin")

    @rule()
    def delete_unusable(self) -> None:
        self.attempt(backups.delete_unusable, self.c, None, "admin")

    @rule(pick=st.integers(0, 9), when=st.sampled_from([0, 1, 10**10]))
    def change_expiration(self, pick: int, when: int) -> None:
        items = backups.listing(self.c, "exa_db1", True, True)
        if items:
            item = items[pick % len(items)]
            self.attempt(backups.change_expiration, self.c, item["volume"], item["expire_alterable"].split()[1], when)

    @rule(node=st.sampled_from(DB_NODES), action=st.sampled_from(["nodes_list_deactivate", "nodes_list_reactivate"]))
    def edit_nodes(self, node: str, action: str) -> None:
        self.attempt(self.db.configure, {action: [node]})

    @rule(roll=st.integers(0, 7))
    def enlarge(self, roll: int) -> None:
        if roll == 0:  # for good: rarely
            self.attempt(self.db.enlarge, 1)

    # -- whole sequences, so that long operations get to their ends ---------------------------------

    @rule(level=st.integers(0, 2), expire=st.sampled_from(["", "2h", "1w"]))
    def backup_to_the_end(self, level: int, expire: str) -> None:
        self.attempt(self.db.start_backup, "v0001", level, expire)
        self.c.advance(self.c.now + 700)

    @rule(pick=st.integers(0, 9), kind=st.sampled_from(["blocking", "nonblocking", "virtual access"]),
          wait=st.sampled_from([0, 130, 700, 1200]))  # fmt: skip
    def restore_after_a_stop(self, pick: int, kind: str, wait: int) -> None:
        if not backups.all_backups(self.c):
            self.backup_to_the_end(0, "")
        for op in (self.db.abort_backup, self.db.abort_shrink, self.db.stop):
            if self.db.busy or op == self.db.stop:
                self.attempt(op)
        self.c.advance(self.c.now + 60)
        self.restore(pick, kind)
        self.c.advance(self.c.now + wait)

    @rule()
    def heal(self) -> None:
        """Everything back up: nodes, EXAStorage, the failed nodes reactivated, the database."""
        for n in DB_NODES:
            self.attempt(self.c.nodes[n].startup)
        self.c.advance(self.c.now + 300)
        self.attempt(self.c.storage.start)
        self.c.advance(self.c.now + 50)
        if self.db.failed:
            self.attempt(self.db.configure, {"nodes_list_reactivate": list(self.db.failed)})
        self.attempt(self.db.start)
        self.c.advance(self.c.now + 120)

    # -- the world around it --------------------------------------------------------------------

    @rule(node=st.sampled_from(DB_NODES), roll=st.integers(0, 3))
    def crash(self, node: str, roll: int) -> None:
        if roll == 0:
            self.attempt(self.c.inject_fault, node, "crash")

    @rule(node=st.sampled_from(DB_NODES))
    def node_up(self, node: str) -> None:
        self.attempt(self.c.nodes[node].startup)

    @rule()
    def storage_up(self) -> None:
        self.attempt(self.c.storage.start)

    @rule(seconds=st.sampled_from([1, 5, 60, 300, 650, 1000, 3600, 4 * 3600]))
    def advance(self, seconds: float) -> None:
        self.c.advance(self.c.now + seconds)

    @rule()
    def reload(self) -> None:
        self.c = rebuilt(self.c)

    # -- invariants ------------------------------------------------------------------------------

    @invariant()
    def figures_add_up(self) -> None:
        check_volume_usage(self.c)

    @invariant()
    def nodes_split(self) -> None:
        check_nodes(self.c)

    @invariant()
    def operations_have_deadlines(self) -> None:
        for db in self.c.databases.values():
            if db.operation != "None" or db.state in ("starting", "stopping"):
                assert db.deadline is not None and db.deadline >= self.c.now, (db.state, db.operation)
            if db.operation == "Restore":
                assert db.restore and db.state in ("starting", "running")
            if db.virtual_backup:
                assert db.state in ("starting", "running", "stopping")
                assert db.virtual_backup in self.c.table("backup")
        listed = {b["id"] for b in backups.listing(self.c, "exa_db1", True, True)}
        assert {b["id"] for b in backups.listing(self.c, "exa_db1", False, False)} <= listed
        assert {(p[0], p[1]) for p in backups.pairs(self.c, "exa_db1")} == {
            (b.bid, b.volume) for b in backups.backups_of(self.c, "exa_db1", show_expired=False)
        }


DatabaseMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestDatabaseRules = DatabaseMachine.TestCase
