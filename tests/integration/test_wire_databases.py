"""Databases over the wire, against a real `exaop serve` on a manual clock: the public README's
example sequence, the public shutdown script, failover, backups (full and incremental, the
three listings, expiry, schedules), restores, and kill -9 in the middle of a backup and of a
restore."""

from __future__ import annotations

import base64
import io
import xmlrpc.client
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.integration.wirekit import (
    DB_START,
    NODES,
    NOT_FOUND,
    advance,
    all_up,
    boot,
    fault,
    storage_call,
)
from tests.serverproc import ServerProcess

BACKUP = 601  # above database_backup 600

# The README's cluster: no database, and the data volume its addStorageVolume call makes.
README_PROFILE = """
[cluster]
name = "cluster1"
version = "6.2.17"
exaoperation_nodes = ["n0010", "n0011", "n0012"]

[nodes]
count = 4
first = 11

# Stands in for the README's storage.addStorageVolume({... 'size': 8, 'volume_type': 'Data'})
# until the storage object offers that method: the same volume, made by the profile.
[[volumes]]
id = "v0000"
type = "Data"
size_gib = 8
redundancy = 1
nodes = ["n0011", "n0012", "n0013", "n0014"]

[[logservices]]
name = "logservice1"
priority = "Information"
databases = []
"""


def usage(fn: Callable[..., Any], *args: Any) -> str:
    f = fault(fn, *args)
    assert f.faultString.startswith("UsageError: "), f.faultString
    return f.faultString.removeprefix("UsageError: ")


def messages(srv: ServerProcess, tag: str = "t") -> list[str]:
    return [e["message"] for e in srv.proxy("/cluster1/logservice1").logEntriesTagged(tag)[2]]


def db_proxy(srv: ServerProcess, name: str = "exa_db1") -> xmlrpc.client.ServerProxy:
    return srv.proxy(f"/cluster1/db_{name}")


def stop_database(srv: ServerProcess, db: xmlrpc.client.ServerProxy) -> None:
    assert db.shutdownDatabase() == "OK"
    advance(srv, 50)
    assert db.getDatabaseState() == "setup"


# -- the public README's example, startdatabase.py and stop.py ---------------------------------------


def test_the_readme_example_sequence_on_a_cluster_without_a_database(server_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    profile = tmp_path / "readme.toml"
    profile.write_text(README_PROFILE)
    srv = server_factory(extra=["--profile", str(profile)])
    server = srv.proxy()
    assert server.getDatabaseList() == [] and server.getListValues("Databases") == []
    boot(srv)
    assert storage_call(srv, "startEXAStorage") == "OK"
    assert server.storage.getListValues("DataDisks") == ["d02_data"]
    assert server.getListValues("EXASolutionVersions")[-1] == "6.2.17"
    assert server.getListValues("Volumes") == ["v0000"]
    name = server.addDatabase({"clients_port_number": 2568, "data_disk": "d02_data", "database_name": "db1",
                               "database_version": "6.0.dev5", "memory_usage": 4, "nodes_list": NODES,
                               "nodes_number": 4})  # fmt: skip
    assert name == "db_db1"
    assert "6.0.dev5" in server.getListValues("EXASolutionVersions")  # installed with the database
    assert server.db_db1.getDatabaseState() == "none"
    server.db_db1.createDatabase()
    info = server.db_db1.getDatabaseInfo()
    assert info == {
        "connectible": "No", "connection string": "10.50.1.11..14:2568", "info": "", "name": "db1",
        "nodes": {"active": NODES, "failed": [], "reserve": []}, "operation": "None",
        "persistent volume": "v0000", "quota": 0, "state": "setup", "temporary volume": "None",
        "usage persistent": 0.0, "usage temporary": 0.0, "version": "6.0.dev5",
    }  # fmt: skip
    assert server.db_db1.startDatabase() == "OK"
    info = server.db_db1.getDatabaseInfo()
    assert (info["state"], info["operation"], info["connectible"]) == ("starting", "Startup", "No")
    temp = info["temporary volume"]
    assert temp.startswith("v") and temp in server.getListValues("Volumes")  # a volume of its own while it runs
    advance(srv, DB_START)
    info = server.db_db1.getDatabaseInfo()
    assert (info["state"], info["operation"], info["connectible"]) == ("running", "None", "Yes")
    props = server.db_db1.getProperties()
    assert (props["data_disk"], props["data_volume"], props["database_version"]) == ("d02_data", "v0000", "6.0.dev5")
    stop_database(srv, server.db_db1)
    assert server.db_db1.getDatabaseInfo()["temporary volume"] == "None"
    assert server.getListValues("Volumes") == ["v0000"]


def test_add_database_refuses_what_does_not_exist_naming_the_field(server: ServerProcess) -> None:
    c = server.proxy()
    base = {"clients_port_number": 8564, "database_name": "db2", "memory_usage": 4, "nodes_list": ["n0011"],
            "nodes_number": 1}  # fmt: skip
    assert usage(c.addDatabase, {**base, "data_disk": "d09_nothing"}) == (
        "data_disk must be one of: d02_data; got 'd09_nothing'"
    )
    assert usage(c.addDatabase, {**base, "data_volume": "v0042"}) == (
        "data_volume must be one of: none at the moment; got 'v0042'"
    )
    assert usage(c.addDatabase, {**base, "nodes_list": ["n0011", "n0099"]}).startswith(
        "nodes_list: unknown value(s) n0099; allowed: n0011, n0012, n0013, n0014"
    )
    assert usage(c.addDatabase, base).startswith("data_volume: no data volume is free for a new database")
    assert usage(c.addDatabase, {**base, "database_version": "7.1.0"}).startswith(
        "database_version '7.1.0' is not an EXASolution 6 version"
    )
    assert usage(c.addDatabase, {k: v for k, v in base.items() if k != "memory_usage"}) == (
        "missing required field(s) for a new database: memory_usage"
    )
    assert c.getDatabaseList() == ["exa_db1"]


def test_the_public_shutdown_script_succeeds_on_its_first_run(server: ServerProcess) -> None:
    all_up(server)
    cluster, storage = server.proxy(), server.proxy("/cluster1/storage")
    polls = 0
    # tools-and-examples/startstop/stop.py, with the clock moved where it sleeps
    for name in cluster.getDatabaseList():
        database = db_proxy(server, name)
        if database.runningDatabase():
            database.shutdownDatabase()
            while database.runningDatabase():
                assert database.getDatabaseState() == "stopping"
                polls += 1
                advance(server, 5)
    assert polls >= 7  # the stop takes 40 +- 5 s: runningDatabase stayed True all along
    assert storage.serviceIsOnline()
    assert storage_call(server, "stopEXAStorage", seconds=20) == "OK"
    assert not storage.serviceIsOnline()


# -- failover ------------------------------------------------------------------------------------------


def test_a_crash_fails_over_to_the_reserve_node_and_without_one_the_database_says_why(server: ServerProcess) -> None:
    all_up(server)
    db, sim = db_proxy(server), server.proxy("/cluster1/simulation")
    messages(server)
    assert sim.injectFault("n0013", "crash") == "n0013 crashed"
    info = db.getDatabaseInfo()
    assert info["nodes"] == {"active": ["n0011", "n0012", "n0014"], "failed": ["n0013"], "reserve": []}
    assert (info["state"], info["operation"]) == ("starting", "Startup")
    assert db.runningDatabase() is True
    assert ("Database exa_db1: node n0013 crashed; failing over to reserve node n0014, restarting on n0011, n0012, "
            "n0014") in messages(server)  # fmt: skip
    advance(server, DB_START)
    assert db.getDatabaseConnectionState() == "Yes"
    assert db.getDatabaseConnectionString() == "10.50.1.11..12,10.50.1.14:8563"
    assert db.getNodeState() == {"n0011": "online", "n0012": "online", "n0013": "failed", "n0014": "online"}
    # no reserve left: the next crash stops it, saying why
    assert sim.injectFault("n0011", "crash") == "n0011 crashed"
    assert (db.getDatabaseState(), db.getDatabaseOperation()) == ("setup", "None")
    reason = "database exa_db1 failed: node n0011 crashed and no reserve node is running to take its place"
    assert db.getCurrentErrors() == [reason] and db.getDatabaseInfo()["info"] == reason
    assert db.getDatabaseInfo()["nodes"]["failed"] == ["n0013"]
    # a failed node comes back as a reserve once reactivated
    assert db.editDatabase({"nodes_list_reactivate": ["n0013"]}) == ["nodes_list", "nodes_list_reactivate"]
    assert db.getDatabaseNodes() == {"active": ["n0011", "n0012", "n0014"], "failed": [], "reserve": ["n0013"]}


# -- backups ---------------------------------------------------------------------------------------------


def test_backups_listed_alike_expired_by_the_clock_and_deleted(server: ServerProcess) -> None:
    all_up(server)
    db = db_proxy(server)
    assert db.backupDatabase("v0001", 0, "1w") == "OK"
    assert db.getDatabaseOperation() == "Backup"
    assert db.getPddProgress()["Type"] == "Backup" and db.getPddProgress()["Progress"] == 0
    advance(server, 300)
    assert db.getPddProgress()["Progress"] == 50
    advance(server, BACKUP - 300)
    assert db.backupDatabase("v0001", 1, "1d") == "OK"
    advance(server, BACKUP)
    items = db.getBackups()
    assert [(b["bid"], b["level"], b["volume"], b["system"], b["usable"], b["expired"]) for b in items] == [
        (1, 0, "v0001", "exa_db1", True, False), (2, 1, "v0001", "exa_db1", True, False)
    ]  # fmt: skip
    assert db.getBackupList() == [[1, "v0001"], [2, "v0001"]]
    for item in items:
        assert len(item["id"].split()) == 3 and item["expire_alterable"].split()[1] == f"exa_db1/id_{item['bid']}/" \
            f"level_{item['level']}"  # fmt: skip
        for ref in (item["bid"], [item["bid"], "v0001"]):
            info = db.getBackupInfo(ref)
            assert info["id"] == item["bid"] and info["volume"][0] == "v0001" and info["usable"] is True
            assert info["timestamp"] == item["timestamp"] and info["expire date"] == item["expire"]
            assert any("/metadata_" in f for f in info["files"])
            assert all(f.startswith(f"exa_db1/id_{item['bid']}/") for f in info["files"])
        assert db.backupInfo(item["bid"]) == db.getBackupInfo(item["bid"])
    assert db.getBackupInfo(2)["dependencies"] == [1]
    # the incremental one expires a day after it started: hidden, unless expired ones are asked for
    advance(server, 86400)
    assert db.getBackupList() == [[1, "v0001"]]
    assert [b["bid"] for b in db.getBackups(False, False)] == [1]
    assert [(b["bid"], b["expired"]) for b in db.getBackups(False, True)] == [(1, False), (2, True)]
    assert "Backup exa_db1/id_2/level_1 on v0001 expired" in messages(server)
    # deleting the full one leaves the incremental one unusable; deleteUnusableBackups removes it
    assert db.deleteBackups([items[0]["id"]]) == 1
    assert [(b["bid"], b["usable"]) for b in db.getBackups(True, True)] == [(2, False)]
    assert db.deleteUnusableBackups() == 1
    assert db.getBackups(True, True) == [] and db.getBackupList() == []
    assert usage(db.getBackupInfo, 1) == "database exa_db1 has no backup 1 (see getBackupList)"
    assert usage(db.deleteBackups, ["nonsense"]).startswith("backup id 'nonsense' is not valid")


def test_a_backup_schedule_fires_on_the_clock(server: ServerProcess) -> None:
    all_up(server)
    db = db_proxy(server)
    now = server.proxy("/cluster1/simulation").getClock()["now"]
    assert db.setBackupSchedule([{"backup_name": "hourly", "volume": "v0001", "level": 0, "expire": "2h",
                                  "minute": "0"}]) == "OK"  # fmt: skip
    assert db.getBackupSchedule() == [{"backup_name": "hourly", "volume": "v0001", "level": 0, "expire": "2h",
                                       "minute": "0", "hour": "*", "day": "*", "month": "*", "weekday": "*",
                                       "enabled": True}]  # fmt: skip
    upcoming = db.getNextSchedules()
    assert len(upcoming) == 100 and upcoming[0]["backup_name"] == "hourly"
    first = upcoming[0]["timestamp"]
    assert first % 3600 == 0 and upcoming[1]["timestamp"] == first + 3600
    assert usage(db.setBackupSchedule, [{"volume": "v0001", "level": 0, "hour": "24"}]) == (
        "backup definition 1: hour: '24' in '24' is not a number from 0 to 23"
    )
    advance(server, first - now + 1)
    assert db.getDatabaseOperation() == "Backup"
    advance(server, BACKUP)
    assert db.getBackupList() == [[1, "v0001"]]
    assert "Scheduled backup hourly of exa_db1 started" in messages(server)
    assert db.setBackupSchedule([]) == "OK" and db.getNextSchedules() == []


# -- restores ----------------------------------------------------------------------------------------------


def test_a_restore_into_the_stopped_database(server: ServerProcess) -> None:
    all_up(server)
    db = db_proxy(server)
    db.backupDatabase("v0001", 0, "")
    advance(server, BACKUP)
    ident = db.getBackups()[0]["id"]
    assert usage(db.restoreDatabase, ident, "blocking") == (
        "database exa_db1 must be stopped (state setup) to be restored; it is running"
    )
    stop_database(server, db)
    assert usage(db.restoreDatabase, ident, "fast") == (
        "restore_type must be one of: blocking, nonblocking, virtual access; got 'fast'"
    )
    assert db.restoreDatabase(ident, "nonblocking") == "OK"
    assert (db.getDatabaseState(), db.getDatabaseOperation()) == ("starting", "Restore")
    assert db.runningDatabase() is True
    advance(server, 110 + 6)  # database_start is 100 +- 10, then database_connect
    assert (db.getDatabaseState(), db.getDatabaseOperation(), db.getDatabaseConnectionState()) == (
        "running", "Restore", "Yes"
    )  # fmt: skip
    advance(server, 60)  # (the start's jitter decides when the copying began: give it a minute)
    progress = db.getPddProgress()
    assert progress["Type"] == "Restore" and progress["Name"] == ident.split()[1] and 0 < progress["Progress"] < 100
    advance(server, 900)
    assert db.getDatabaseOperation() == "None"
    assert db.getPddProgress()["Comment"] == "Restore has been successfully finished"


# -- kill -9 in the middle ----------------------------------------------------------------------------------


def test_kill9_mid_backup_and_mid_restore_leaves_a_consistent_state(server_factory) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory()
    all_up(srv)
    db = db_proxy(srv)
    db.backupDatabase("v0001", 0, "1w")
    advance(srv, 200)
    srv.kill9()
    srv.start()
    db = db_proxy(srv)
    assert db.getDatabaseOperation() == "Backup"  # it goes on where it was
    assert db.getBackups() == []
    advance(srv, BACKUP - 200)
    assert db.getDatabaseOperation() == "None"
    (item,) = db.getBackups()
    assert db.getBackupList() == [[item["bid"], "v0001"]] and item["usable"]
    # mid-restore
    stop_database(srv, db)
    db.restoreDatabase(item["id"], "blocking")
    advance(srv, 100 + 300)
    assert (db.getDatabaseState(), db.getDatabaseOperation()) == ("running", "Restore")
    srv.kill9()
    srv.start()
    db = db_proxy(srv)
    assert (db.getDatabaseState(), db.getDatabaseOperation(), db.getDatabaseConnectionState()) == (
        "running", "Restore", "No"
    )  # fmt: skip
    advance(srv, 630)  # the restore began at 90-110 s and lasts 900, then database_connect
    assert (db.getDatabaseOperation(), db.getDatabaseConnectionState()) == ("None", "Yes")
    assert db.getBackups()[0]["id"] == item["id"]
    # a crash of a node mid-restore: the restore failed, the database says so and refuses a plain start
    stop_database(srv, db)
    db.restoreDatabase(item["id"], "blocking")
    advance(srv, 100 + 300)
    srv.proxy("/cluster1/simulation").injectFault("n0012", "crash")
    srv.kill9()
    srv.start()
    db = db_proxy(srv)
    assert (db.getDatabaseState(), db.getDatabaseOperation()) == ("setup", "None")
    assert db.getCurrentErrors() == ["database exa_db1 failed: node n0012 crashed during a restore"]
    assert usage(db.startDatabase).startswith(f"database exa_db1 cannot start: the restore from {item['id']} did not")


# -- settings, round trip, the rest ---------------------------------------------------------------------------


def test_round_trip_add_edit_delete_lasts_a_restart_and_kill9(server_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    profile = tmp_path / "two.toml"
    profile.write_text(README_PROFILE)
    srv = server_factory(extra=["--profile", str(profile)])
    c = srv.proxy()
    values = {"database_name": "db2", "clients_port_number": 8564, "nodes_list": NODES, "nodes_number": 3,
              "memory_usage": 16, "ldap_server": "ldap://10.0.0.5"}  # fmt: skip
    assert usage(c.addDatabase, {**values, "memory_usage": 4000}) == (
        "memory_usage 4000 GiB is more than the 3 active nodes have (1152 GiB)"
    )
    assert c.addDatabase(values) == "db_db2"
    props = c.db_db2.getProperties()
    assert props["nodes_list"] == NODES and props["nodes_number"] == 3 and props["data_volume"] == "v0000"
    assert props["ldap_server"] == "ldap://10.0.0.5" and props["nodes_list_add_reserve"] == []
    assert c.db_db2.editDatabase({"database_comment": "reports", "memory_usage": 32, "volume_quota": 5}) == [
        "database_comment", "memory_usage", "volume_quota"
    ]  # fmt: skip
    assert usage(c.db_db2.editDatabase, {"database_name": "x"}) == (
        "database_name of a database cannot be changed (set when it is added)"
    )
    assert usage(c.db_db2.editDatabase, {"ldap_server": "10.0.0.5"}).startswith("ldap_server '10.0.0.5' is not an")
    srv.stop()
    srv.start()
    c = srv.proxy()
    props = c.db_db2.getProperties()
    assert (props["database_comment"], props["memory_usage"], props["volume_quota"]) == ("reports", 32, 5)
    assert c.db_db2.getDatabaseInfo()["quota"] == 5
    assert "db_db2" in c.listObjects()
    assert c.deleteSubObject("db_db2") == "OK"
    srv.kill9()
    srv.start()
    c = srv.proxy()
    assert c.getDatabaseList() == [] and "db_db2" not in c.listObjects()
    assert fault(c.db_db2.getDatabaseState).faultString.startswith(NOT_FOUND)


def test_enlarge_shrink_maintenance_keytab_statistics_versions(server: ServerProcess) -> None:
    c, db = server.proxy(), db_proxy(server)
    all_up(server)
    assert db.getCurrentDatabaseSize() == db.getDatabaseInfo()["usage persistent"] == 225.0
    assert usage(db.shrinkDatabase, 100) == (
        "target_size_in_gb 100 is below the 180.000 GiB of data exa_db1 holds; it can shrink to 180.000 GiB at most"
    )
    assert db.shrinkDatabase(190) == "OK" and db.getDatabaseOperation() == "Shrink"
    advance(server, 600)
    assert db.abortShrink() == "OK"
    assert db.getCurrentDatabaseSize() == 207.5  # half of the way from 225 to 190
    stats = zipfile.ZipFile(io.BytesIO(base64.b64decode(db.getDatabaseStatistics("sys", "exasol"))))
    assert sorted(stats.namelist()) == ["exa_db1/EXA_DB_SIZE.csv", "exa_db1/EXA_SYSTEM_EVENTS.csv"]
    assert "207.500" in stats.read("exa_db1/EXA_DB_SIZE.csv").decode()
    assert "Shrinking exa_db1 aborted" in stats.read("exa_db1/EXA_SYSTEM_EVENTS.csv").decode()
    assert usage(db.getDatabaseStatistics, "sys", "exasol", "yesterday", "") == (
        "start 'yesterday' is not a date like 2024-01-31"
    )
    # keytabs
    assert db.existsKeyTab() is False
    assert db.uploadKeyTab(xmlrpc.client.Binary(b"\x05\x02" + b"\x00" * 30)) == "OK"
    assert db.existsKeyTab() is True
    assert usage(db.uploadKeyTab, "bm90IGEga2V5dGFi") == (
        "this is not a Kerberos keytab: it must start with the keytab version 0x0501 or 0x0502"
    )
    assert db.removeKeyTab() == "OK" and db.existsKeyTab() is False
    assert usage(db.removeKeyTab) == "database exa_db1 has no keytab"
    # maintenance mode and enlarging
    stop_database(server, db)
    assert db.startDatabaseMaintenance() == "OK"
    advance(server, DB_START)
    assert (db.getDatabaseState(), db.getDatabaseConnectionState(), db.maintenanceDatabase()) == ("running", "No", True)
    stop_database(server, db)
    assert db.maintenanceDatabase() is False
    assert usage(db.enlargeDatabase, 2) == (
        "database exa_db1 has 1 reserve node(s) (n0014); it cannot add 2 active nodes"
    )
    assert db.enlargeDatabase(1) == "OK"
    assert db.getDatabaseNodes() == {"active": NODES, "failed": [], "reserve": []}
    assert db.getProperties()["nodes_number"] == 4
    # installed versions
    assert usage(c.removeDatabase, "6.2.17") == (
        "EXASolution 6.2.17 is used by database(s) exa_db1; change their database_version first"
    )
    assert usage(c.removeDatabase, "5.0.1").startswith("EXASolution version '5.0.1' is not installed")
    assert db.editDatabase({"database_version": "6.2.18"}) == ["database_version"]
    assert c.getListValues("EXASolutionVersions") == ["6.2.17", "6.2.18"]
    assert usage(c.removeDatabase, "6.2.17") == "EXASolution 6.2.17 came with this EXAoperation and cannot be removed"
    assert db.editDatabase({"database_version": "6.2.17"}) == ["database_version"]
    assert c.removeDatabase("6.2.18") == "OK" and c.getEXASolutionVersions() == ["6.2.17"]
    assert db.objectRepresentation()["path"] == "/cluster1/db_exa_db1"


def test_every_database_method_has_help_and_answers_a_value_clients_parse(server: ServerProcess) -> None:
    db = db_proxy(server)
    methods = db.listMethods()
    for name in ("abortShrink", "backupInfo", "changeBackupExpiration", "deleteBackups", "deleteUnusableBackups",
                 "enlargeDatabase", "getBackupSchedule", "getBackups", "getBackupList", "getBackupInfo",
                 "getCurrentDatabaseSize", "getDatabaseStatistics", "getNextSchedules", "getPddProgress",
                 "maintenanceDatabase", "restoreDatabase", "setBackupSchedule", "shrinkDatabase",
                 "startDatabaseMaintenance", "uploadKeyTab", "removeKeyTab", "existsKeyTab", "objectRepresentation",
                 "startStorageBackup", "operationGetCurrent", "stopDatabase"):  # fmt: skip
        assert name in methods, name
        assert db.methodHelp(name)
    assert "removeDatabase" in server.proxy().listMethods()
    # getters answer the same shape when there is nothing to show
    assert db.getBackups() == [] and db.getBackupList() == [] and db.getBackupSchedule() == []
    assert db.getPddProgress() == {"Type": "", "Name": "", "Level": 0, "Volume ID": 0, "Progress": 0, "Comment": "",
                                   "Files": []}  # fmt: skip
    help_text = server.proxy().methodHelp("addDatabase")
    assert "data_disk" in help_text and "nodes_list_deactivate" not in help_text
    assert "nodes_list_deactivate" in db.methodHelp("editDatabase")
