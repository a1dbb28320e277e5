"""Databases: create, start, stop, restart, backup, force shutdown, and failures."""

from __future__ import annotations

import pytest

from tests.unit.modelkit import Sim, refusal, without_jitter


def ready() -> Sim:
    """Every node up and EXAStorage online; exa_db1 in setup."""
    s = Sim()
    s.boot()
    s.storage_online()
    return s


def new_db(s: Sim, name: str = "db2", port: int = 8564):  # type: ignore[no-untyped-def]
    """A second database, on a data volume of its own (added here when there is none free)."""
    free = [v for v, vol in s.c.volumes.items() if vol.type == "Data" and not vol.owner
            and v not in {d.volume for d in s.c.databases.values()}]  # fmt: skip
    vid = free[0] if free else s.c.add_volume("Data", 100, ["n0011", "n0012"]).vid
    return s.c.add_database(
        {
            "database_name": name,
            "clients_port_number": port,
            "nodes_list": ["n0011", "n0012"],
            "nodes_number": 2,
            "data_volume": vid,
            "memory_usage": 4,
        }
    )


def test_a_defined_database_is_none_until_created() -> None:
    s = ready()
    db = new_db(s)
    assert db.state == "none" and db.operation == "None"
    assert refusal(db.start) == "database db2 does not exist yet; call createDatabase first"
    assert refusal(db.stop) == "database db2 is not running (state none)"
    db.create()
    assert db.state == "setup"
    assert "Database db2 created" in s.messages()
    assert refusal(db.create) == "database db2 already exists (state setup)"


def test_add_database_refusals() -> None:
    s = Sim()
    new_db(s)
    assert refusal(new_db, s) == "database db2 already exists"
    assert refusal(new_db, s, "db3", 8563) == "clients_port_number 8563 is already used by database exa_db1"
    assert "database_name 'bad name'" in refusal(new_db, s, "bad name", 8565)
    assert refusal(s.c.add_database, {"database_name": "db4"}).startswith("missing required field(s)")
    assert refusal(s.c.add_database, ["x"]) == "addDatabase takes a dictionary of fields"


def test_start_refused_unless_storage_is_online() -> None:
    s = Sim()
    s.boot()
    assert refusal(s.db.start) == "database exa_db1 cannot start: EXAStorage is not online (stopped)"
    s.c.storage.start()
    assert refusal(s.db.start) == "database exa_db1 cannot start: EXAStorage is not online (starting)"
    assert s.db.state == "setup" and s.db.operation == "None"


def test_start_refused_without_enough_running_nodes() -> None:
    s = Sim()
    s.boot("n0011", "n0012")
    s.storage_online(["n0013", "n0014"])
    reason = refusal(s.db.start)
    assert reason == (
        "database exa_db1 cannot start: it needs 3 running nodes of n0011, n0012, n0013, n0014,"
        " but 2 are running; not running: n0013 (powered off), n0014 (powered off)"
    )


def test_a_reserve_node_replaces_an_active_node_that_is_down() -> None:
    s = Sim()
    s.boot("n0011", "n0012", "n0014")
    s.storage_online(["n0013"])
    assert s.db.node_sets() == {"active": ["n0011", "n0012", "n0013"], "failed": [], "reserve": ["n0014"]}
    s.db.start()
    assert s.db.node_sets() == {"active": ["n0011", "n0012", "n0014"], "failed": ["n0013"], "reserve": []}
    s.settle("database_start")
    s.settle("database_connect")
    assert s.db.connection_string() == "10.50.1.11..12,10.50.1.14:8563"
    assert s.db.info()["connection string"] == "10.50.1.11..12,10.50.1.14:8563"


def test_start_goes_through_starting_to_running_then_connectible() -> None:
    s = without_jitter(ready())
    db = s.db
    db.start()
    assert (db.state, db.operation, db.connectible) == ("starting", "Startup", False)
    assert "Database exa_db1 is starting on n0011, n0012, n0013" in s.messages()
    assert refusal(db.start) == "database exa_db1 is already starting"
    s.advance(99)
    assert db.state == "starting"
    s.advance(1)
    assert (db.state, db.operation, db.connectible) == ("running", "None", False)
    assert db.info()["connectible"] == "No"
    s.advance(5)
    assert (db.state, db.operation, db.connectible) == ("running", "None", True)
    assert db.info()["connectible"] == "Yes"
    assert "Database exa_db1 is accepting connections at 10.50.1.11..13:8563" in s.messages()
    assert refusal(db.start) == "database exa_db1 is already running"
    assert db.info()["usage persistent"] > 0


def test_stop_only_when_running_and_idle() -> None:
    s = without_jitter(ready())
    db = s.db
    assert refusal(db.stop) == "database exa_db1 is not running (state setup)"
    db.start()
    assert refusal(db.stop) == "database exa_db1 is not running (state starting)"
    s.settle("database_start")
    s.settle("database_connect")
    db.stop()
    assert (db.state, db.operation, db.connectible) == ("stopping", "Shutdown", False)
    assert refusal(db.stop) == "database exa_db1 is not running (state stopping)"
    assert refusal(db.start) == "database exa_db1 is shutting down; start it once it is in setup"
    s.advance(40)
    assert (db.state, db.operation) == ("setup", "None")
    assert db.active == ["n0011", "n0012", "n0013"] and db.failed == []
    assert "Database exa_db1 is shut down" in s.messages()


def test_backup_is_an_operation_that_refuses_stop_and_restart() -> None:
    s = without_jitter(ready())
    db = s.db
    assert refusal(db.start_backup, "v0001", 0, "1w") == (
        "database exa_db1 must be running and accepting connections to back up"
    )
    s.db_running()
    db.start_backup("v0001", 0, "1w")
    assert db.operation == "Backup" and db.state == "running" and db.busy
    assert refusal(db.stop) == "database exa_db1 cannot shut down: operation Backup is in progress"
    assert refusal(db.restart) == "database exa_db1 cannot restart: operation Backup is in progress"
    assert refusal(db.start_backup, "v0001", 0, "1w") == (
        "database exa_db1 cannot start a backup: operation Backup is in progress"
    )
    assert refusal(s.c.storage.stop).startswith("EXAStorage cannot stop while databases use it: exa_db1")
    s.advance(599)
    assert db.operation == "Backup"
    s.advance(1)
    assert db.operation == "None" and len(s.c.table("backup")) == 1
    assert "Backup of exa_db1 (level 0) to v0001 finished: exa_db1/id_1/level_0, 180.000 GiB" in s.messages()
    db.stop()


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("v0099", 0, "1w"), "backup volume 'v0099' does not exist"),
        (("v0000", 0, "1w"), "volume v0000 is a Data volume; backups go to an Archive volume"),
        (("v0001", 10, "1w"), "backup level must be a whole number from 0 to 9"),
        (("v0001", True, "1w"), "backup level must be a whole number from 0 to 9"),
        (("v0001", 1, "soon"), "expire must be a duration such as '1w', '3d 12h' or '30m' ('' for never)"),
        (
            ("v0001", 1, "1w"),
            "a level 1 backup of exa_db1 builds on a usable backup of a lower level on v0001, "
            "and there is none; make a level 0 backup first",
        ),
    ],
)
def test_backup_argument_refusals(args: tuple, reason: str) -> None:
    s = ready()
    s.db_running()
    assert refusal(s.db.start_backup, *args) == reason
    assert s.db.operation == "None"


def test_abort_backup() -> None:
    s = ready()
    s.db_running()
    assert refusal(s.db.abort_backup) == "database exa_db1 has no backup running"
    s.db.start_backup("v0001", 0, "3d 12h")
    assert s.c.volumes["v0001"].usage == {"backup:1": 180.0}
    s.db.abort_backup()
    assert s.db.operation == "None"
    assert s.c.volumes["v0001"].usage == {}  # its space is free again
    s.settle("database_backup")
    assert s.c.table("backup") == {}
    assert "Backup of exa_db1 aborted" in s.messages(priority="Warning")


def test_force_shutdown_aborts_a_backup() -> None:
    s = without_jitter(ready())
    db = s.db
    assert refusal(db.force_stop) == "database exa_db1 is not running (state setup)"
    s.db_running()
    db.start_backup("v0001", 0, "1w")
    db.force_stop()
    assert (db.state, db.operation, db.connectible) == ("stopping", "Force shutdown", False)
    assert "Backup of exa_db1 aborted by a forced shutdown" in s.messages(priority="Warning")
    s.advance(5)
    assert (db.state, db.operation) == ("setup", "None")
    s.settle("database_backup")
    assert s.c.table("backup") == {} and db.state == "setup"
    assert s.c.volumes["v0001"].usage == {}


def test_force_shutdown_during_a_start() -> None:
    s = ready()
    s.db.start()
    s.db.force_stop()
    s.settle("database_force_stop")
    s.settle("database_start")
    assert (s.db.state, s.db.operation) == ("setup", "None")


def test_restart_stops_and_starts_again() -> None:
    s = without_jitter(ready())
    db = s.db
    assert refusal(db.restart) == "database exa_db1 is not running (state setup)"
    s.db_running()
    db.restart()
    assert (db.state, db.operation) == ("stopping", "Restart")
    s.advance(40)
    assert (db.state, db.operation) == ("starting", "Startup")
    s.advance(100)
    assert db.state == "running"
    s.advance(5)
    assert db.connectible


def test_start_fail_fault_returns_to_setup_with_the_reason() -> None:
    s = ready()
    assert s.c.inject_fault("exa_db1", "start_fail") == "the next starts of database exa_db1 fail"
    s.db.start()
    s.settle("database_start")
    db = s.db
    assert (db.state, db.operation, db.connectible) == ("setup", "None", False)
    assert len(db.errors) == 1 and "failed to start" in db.errors[0] and "start_fail" in db.errors[0]
    assert db.errors[0] in s.messages(priority="Error")
    assert db.info()["info"] == db.errors[0]
    # the fault stays until cleared
    db.start()
    s.settle("database_start")
    assert db.state == "setup"
    assert s.c.clear_faults() == ["start_fail exa_db1"]
    s.db_running()
    assert db.errors == []


def test_unknown_database_for_a_fault() -> None:
    from exaop.model.errors import NotFound

    s = Sim()
    with pytest.raises(NotFound, match="^Object db_nosuch not found$"):
        s.c.inject_fault("nosuch", "start_fail")


@pytest.mark.parametrize("when", ["starting", "running", "backup"])
def test_a_node_crash_without_a_running_reserve_fails_its_database(when: str) -> None:
    s = Sim()
    s.boot("n0011", "n0012", "n0013")  # the reserve node n0014 is down: nothing can take n0012's place
    s.storage_online(["n0014"])
    s.db.start()
    if when != "starting":
        s.settle("database_start")
        s.settle("database_connect")
    if when == "backup":
        s.db.start_backup("v0001", 0, "1w")
    s.node("n0012").crash()
    db = s.db
    assert (db.state, db.operation, db.connectible) == ("setup", "None", False)
    assert db.errors == ["database exa_db1 failed: node n0012 crashed and no reserve node is running to take its place"]
    assert db.errors[0] in s.messages(priority="Error")
    assert db.temp_volume == "" and sorted(s.c.volumes) == ["v0000", "v0001"]
    s.settle("database_backup")
    assert db.state == "setup" and s.c.table("backup") == {} and s.c.volumes["v0001"].usage == {}


def test_a_reserve_node_crash_leaves_the_database_running() -> None:
    s = ready()
    s.db_running()
    s.node("n0014").crash()
    assert s.db.state == "running" and s.db.connectible


def test_a_running_database_keeps_its_nodes() -> None:
    s = ready()
    s.db_running()
    for fn in (s.node("n0011").shutdown, s.node("n0011").poweroff):
        assert refusal(fn) == "n0011 runs database(s) exa_db1; stop them before shutting the node down"
    # a reserve node is not held by the database, but by EXAStorage, which runs on it
    assert "EXAStorage is online on n0014" in refusal(s.node("n0014").shutdown)


def test_edit_only_while_stopped() -> None:
    s = ready()
    assert s.db.configure({"database_comment": "hello"}) == ["database_comment"]
    assert refusal(s.db.configure, {"memory_usage": "lots"}) == "memory_usage must be a whole number, got a string"
    s.db_running()
    assert refusal(s.db.configure, {"database_comment": "x"}) == (
        "database exa_db1 must be stopped to be edited (state running)"
    )
    assert refusal(s.db.configure, {"database_coment": "x"}).startswith("unknown field(s) database_coment;"), \
        "a misspelt field is named first: stopping the database would not help"  # fmt: skip


def test_info_has_the_keys_clients_read() -> None:
    s = ready()
    info = s.db.info()
    for key in (
        "name", "state", "operation", "connectible", "connection string", "info", "nodes",
        "persistent volume", "temporary volume", "quota", "usage persistent", "usage temporary",
    ):  # fmt: skip
        assert key in info, key
    assert info["operation"] == "None" and info["connectible"] == "No"
    assert set(info["nodes"]) == {"active", "failed", "reserve"}
