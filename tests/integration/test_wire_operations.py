"""Operations over the wire on a manual clock: every refusal is a Fault with its reason,
transitions take the profile's simulated time, injected faults behave, and the shapes of
logEntries, logEntriesTagged, getDatabaseInfo and callPlugin are what clients parse.

Each test has its own server (they change the cluster); time moves only by advanceClock.
"""

from __future__ import annotations

from xmlrpc.client import ProtocolError

import pytest

from tests.integration.wirekit import (
    BOOT,
    DB_START,
    NODES,
    NOT_FOUND,
    advance,
    all_up,
    boot,
    fault,
    start_database,
    storage_call,
)
from tests.serverproc import ServerProcess

PLUGIN = "Administration.vmware-tools"


def usage(fn, *args) -> str:  # type: ignore[no-untyped-def]
    f = fault(fn, *args)
    assert f.faultString.startswith("UsageError: "), f.faultString
    return f.faultString.removeprefix("UsageError: ")


def tagged(srv: ServerProcess, tag: str) -> list[dict]:
    return srv.proxy("/cluster1/logservice1").logEntriesTagged(tag)[2]


# -- nodes ------------------------------------------------------------------------------------


def test_node_lifecycle_and_refusals(server: ServerProcess) -> None:
    c = server.proxy()
    node = server.proxy("/cluster1/n0011")
    assert usage(c.shutdownNode, "n0011") == "n0011 is already powered off"
    assert usage(node.poweroffNode) == "n0011 is already powered off"
    assert c.startupNode("n0011") == "OK"
    assert c.getNodeState("n0011")["status"] == "Booting"
    assert node.operationGetCurrent() == "Booting"
    assert usage(c.startupNode, "n0011") == "n0011 is already booting"
    assert usage(node.shutdownNode) == "n0011 is still booting; power it off with poweroffNode instead"
    advance(server, 200)
    assert node.nodeRunning() is False
    advance(server, BOOT - 200)
    assert node.nodeRunning() is True and node.getNodeState()["status"] == "Running"
    assert "dmidecode" in c.getHardwareInformation("n0011")
    assert node.rebootNode() == "OK"
    assert node.getNodeState()["status"] == "Shutting down"
    assert usage(node.startupNode) == "n0011 is shutting down; start it once it is powered off"
    advance(server, 50 + BOOT)
    assert node.nodeRunning() is True
    assert node.shutdownNode() == "OK"
    advance(server, 50)
    assert node.getNodeState()["status"] == "Powered off"
    assert node.getNodeState()["power"] == "off"
    assert c.startupNode(11) == "OK"  # by number, too
    assert node.poweroffNode() == "OK"
    assert node.getNodeState()["status"] == "Powered off"


def test_boot_messages_reach_the_log_once_per_tag(server: ServerProcess) -> None:
    c = server.proxy()
    tagged(server, "monitor")  # everything so far
    for n in NODES:
        c.startupNode(n)
    advance(server, BOOT)
    boots = [e for e in tagged(server, "monitor") if e["message"].startswith("Boot process finished after")]
    assert sorted(e["node"] for e in boots) == NODES
    for e in boots:
        assert e["priority"] == "Notice" and e["system"] == "EXAoperation"
        assert 210 <= int(e["message"].split()[4]) <= 270
        assert e["message"].endswith(" seconds")
    assert tagged(server, "monitor") == []  # nothing new for this tag
    other = [e for e in tagged(server, "other") if e["message"].startswith("Boot process finished")]
    assert len(other) == 4  # another tag has its own memory
    f = fault(server.proxy("/cluster1/logservice1").logEntriesTagged, "")
    assert "the tag must be a non-empty string" in f.faultString


def test_delete_logs_deletes_what_it_is_asked_keeps_tags_right_and_lasts(server: ServerProcess) -> None:
    c = server.proxy()
    svc = server.proxy("/cluster1/logservice1")
    boot(server, ["n0011"])
    held = len(svc.logEntries()[2])
    assert held > 3
    assert tagged(server, "reader")  # a monitor that has read everything so far
    day = svc.logEntries()[2][-1]["strtime"][:10]
    assert usage(c.deleteLogs, False, [], "2024-02-30", "") == (
        "start_date '2024-02-30' is not a date: write YYYY-MM-DD or YYYY-MM-DD HH:MM (UTC), or '' for no limit"
    )
    assert usage(c.deleteLogs, False, [], "", "03/01/2024").startswith("stop_date '03/01/2024' is not a date")
    assert usage(c.deleteLogs, False, ["exa_db9"], "", "") == (
        "db_name_list: unknown database(s) exa_db9; the databases are: exa_db1"
    )
    assert usage(c.deleteLogs, 1, [], "", "") == "deleteLogs: argument delete_coredumps must be boolean, got int"
    assert len(svc.logEntries()[2]) == held  # refused: nothing deleted
    assert c.deleteLogs(False, [], "2001-01-01", "2001-12-31 23:59") == 0
    assert c.deleteLogs(True, ["exa_db1"], day, day) == 0  # the database has said nothing yet

    deleted = c.deleteLogs(False, [], "", day)
    assert isinstance(deleted, int) and deleted == held + 2  # and the two lines of the calls above
    line = f"deleteLogs by admin: {deleted} log entries deleted from the first entry to {day}"
    assert [e["message"] for e in svc.logEntries()[2]] == [line]
    assert [e["message"] for e in tagged(server, "reader")] == [line]  # the tag goes on where it was
    assert [e["message"] for e in tagged(server, "new")] == [line]
    boot(server, ["n0012"])
    assert [e["message"] for e in tagged(server, "reader")][-1].startswith("Boot process finished")
    assert tagged(server, "reader") == []

    server.stop()  # the deletion is in the store: a restart brings nothing back
    again = ServerProcess(server.state_dir, speed=0).start()
    try:
        messages = [e["message"] for e in again.proxy("/cluster1/logservice1").logEntries()[2]]
        assert messages[0] == line and not any("n0011" in m for m in messages)
        assert "core dumps" in again.proxy().methodHelp("deleteLogs")
    finally:
        again.stop()


def test_log_entries_shape(server: ServerProcess) -> None:
    boot(server, ["n0011"])
    result = server.proxy("/cluster1/logservice1").logEntries()
    assert isinstance(result, list) and len(result) == 3
    start, end, entries = result
    assert isinstance(start, str) and isinstance(end, str) and start <= end
    assert entries and all({"strtime", "system", "node", "priority", "message"} <= set(e) for e in entries)
    boot_entry = next(e for e in entries if e["message"].startswith("Boot process finished"))
    assert boot_entry["node"] == "n0011"
    # the service's priority filters what it shows
    svc = server.proxy("/cluster1/logservice1")
    assert svc.editLogService({"priority": "Warning"}) == ["priority"]
    assert all(e["priority"] in ("Error", "Warning") for e in svc.logEntries()[2])


# -- EXAStorage --------------------------------------------------------------------------------


def test_storage_start_and_stop_over_the_wire(server: ServerProcess) -> None:
    c = server.proxy()
    boot(server, ["n0011", "n0012", "n0013"])
    reason = usage(c.storage.startEXAStorage)
    assert reason == (
        "EXAStorage cannot start: node(s) not online: n0014 (powered off)."
        " Wait for them to boot, or pass them in ignored_nodes."
    )
    assert usage(c.storage.startEXAStorage, ["n0099"]) == "unknown node(s) in ignored_nodes: n0099"
    assert usage(c.storage.stopEXAStorage) == "EXAStorage is not running"
    assert storage_call(server, "startEXAStorage", ["n0014"]) == "OK"
    assert c.storage.serviceIsOnline() is True
    assert c.storage.getStorageInfo()["ignored_nodes"] == ["n0014"]
    assert c.getServiceState() == [["Loggingd", "OK"], ["Lockd", "OK"], ["Storaged", "OK"], ["DWAd", "OK"]]
    assert usage(c.storage.startEXAStorage) == "EXAStorage is already running"
    assert storage_call(server, "stopEXAStorage", seconds=20) == "OK"
    assert c.storage.serviceIsOnline() is False
    assert c.getServiceState()[2] == ["Storaged", "not running"]


def test_storage_start_fails_when_a_node_crashes_meanwhile(server: ServerProcess) -> None:
    from concurrent.futures import ThreadPoolExecutor
    from xmlrpc.client import Fault

    from tests.integration.wirekit import until

    boot(server)
    info = server.proxy("/cluster1/storage")
    with ThreadPoolExecutor(1) as pool:
        fut = pool.submit(lambda: server.proxy("/cluster1/storage").startEXAStorage())
        until(lambda: info.getStorageInfo()["state"] == "starting", "EXAStorage starting")
        server.proxy("/cluster1/simulation").injectFault("n0012", "crash")
        with pytest.raises(Fault) as exc:
            fut.result(timeout=10)
    assert exc.value.faultString == "UsageError: EXAStorage start failed: node n0012 crashed"


# -- databases ---------------------------------------------------------------------------------


def test_database_lifecycle_and_refusals(server: ServerProcess) -> None:
    db = server.proxy("/cluster1/db_exa_db1")
    boot(server)
    assert usage(db.startDatabase) == "database exa_db1 cannot start: EXAStorage is not online (stopped)"
    assert usage(db.stopDatabase) == "database exa_db1 is not running (state setup)"
    assert usage(db.createDatabase) == "database exa_db1 already exists (state setup)"
    assert storage_call(server, "startEXAStorage") == "OK"
    assert db.startDatabase() == "OK"
    assert (db.getDatabaseState(), db.getDatabaseOperation(), db.getDatabaseConnectionState()) == (
        "starting", "Startup", "No"
    )  # fmt: skip
    assert usage(db.startDatabase) == "database exa_db1 is already starting"
    assert usage(server.proxy("/cluster1/storage").stopEXAStorage) == (
        "EXAStorage cannot stop while databases use it: exa_db1 (starting). Stop the databases first."
    )
    assert usage(server.proxy().shutdownNode, "n0012").startswith("n0012 runs database(s) exa_db1")
    advance(server, DB_START)
    assert (db.getDatabaseState(), db.getDatabaseOperation(), db.getDatabaseConnectionState()) == (
        "running", "None", "Yes"
    )  # fmt: skip
    assert db.runningDatabase() is True
    info = db.getDatabaseInfo()
    assert info["state"] == "running" and info["connectible"] == "Yes" and info["operation"] == "None"
    assert info["connection string"] == "10.50.1.11..13:8563"
    assert info["nodes"] == {"active": ["n0011", "n0012", "n0013"], "failed": [], "reserve": ["n0014"]}
    assert isinstance(info["usage persistent"], float) and info["usage persistent"] > 0
    # a backup is an operation that can be seen and that refuses a stop and a restart
    assert db.backupDatabase("v0001", 0, "1w") == "OK"
    assert db.getDatabaseOperation() == "Backup"
    assert usage(db.stopDatabase) == "database exa_db1 cannot shut down: operation Backup is in progress"
    assert usage(db.shutdownDatabase) == "database exa_db1 cannot shut down: operation Backup is in progress"
    assert usage(db.restartDatabase) == "database exa_db1 cannot restart: operation Backup is in progress"
    assert usage(db.backupDatabase, "v0000", 0, "1w") == (
        "database exa_db1 cannot start a backup: operation Backup is in progress"
    )
    advance(server, 600)
    assert db.getDatabaseOperation() == "None"
    # restart: stop, then start again
    assert db.restartDatabase() == "OK"
    assert (db.getDatabaseState(), db.getDatabaseOperation()) == ("stopping", "Restart")
    advance(server, 50)
    assert (db.getDatabaseState(), db.getDatabaseOperation()) == ("starting", "Startup")
    advance(server, DB_START)
    assert db.getDatabaseConnectionState() == "Yes"
    # a stop
    assert db.stopDatabase() == "OK"
    assert (db.getDatabaseState(), db.getDatabaseOperation(), db.getDatabaseConnectionState()) == (
        "stopping", "Shutdown", "No"
    )  # fmt: skip
    advance(server, 50)
    assert (db.getDatabaseState(), db.getDatabaseOperation()) == ("setup", "None")
    assert storage_call(server, "stopEXAStorage", seconds=20) == "OK"


def test_force_shutdown_ends_a_backup(server: ServerProcess) -> None:
    all_up(server)
    db = server.proxy("/cluster1/db_exa_db1")
    db.backupDatabase("v0001", 0, "3d 12h")
    assert db.forceShutdownDatabase() == "OK"
    assert (db.getDatabaseState(), db.getDatabaseOperation()) == ("stopping", "Force shutdown")
    advance(server, 10)
    assert (db.getDatabaseState(), db.getDatabaseOperation()) == ("setup", "None")
    assert usage(db.forceShutdownDatabase) == "database exa_db1 is not running (state setup)"
    warnings = [e["message"] for e in tagged(server, "t") if e["priority"] == "Warning"]
    assert "Backup of exa_db1 aborted by a forced shutdown" in warnings


def test_backup_argument_refusals(server: ServerProcess) -> None:
    all_up(server)
    db = server.proxy("/cluster1/db_exa_db1")
    assert usage(db.backupDatabase, "v0000", 0, "1w") == (
        "volume v0000 is a Data volume; backups go to an Archive volume"
    )
    assert usage(db.backupDatabase, "v0001", 12, "1w") == "backup level must be a whole number from 0 to 9"
    assert usage(db.backupDatabase, "v0001", 0, "someday").startswith("expire must be a duration")
    assert db.getDatabaseOperation() == "None"


# -- injected faults ---------------------------------------------------------------------------


def test_boot_hang_and_clear_faults(server: ServerProcess) -> None:
    c = server.proxy()
    sim = server.proxy("/cluster1/simulation")
    assert sim.injectFault("n0011", "boot_hang") == "n0011 hangs in its boot"
    c.startupNode("n0011")
    advance(server, 3600)
    assert c.getNodeState("n0011")["status"] == "Booting"
    assert sim.clearFaults() == ["boot_hang n0011"]
    assert sim.clearFaults() == []
    advance(server, BOOT)
    assert c.getNodeState("n0011")["status"] == "Running"


def test_power_fail(server: ServerProcess) -> None:
    c = server.proxy()
    sim = server.proxy("/cluster1/simulation")
    assert sim.injectFault("n0012", "power_fail") == "the management card of n0012 refuses requests"
    reason = usage(c.startupNode, "n0012")
    assert reason.startswith("power on of n0012 failed:") and "refused" in reason
    assert c.getNodeState("n0012")["status"] == "Powered off"
    errors = [e for e in tagged(server, "t") if e["priority"] == "Error"]
    assert any(e["node"] == "n0012" and e["message"].startswith("power on of n0012 failed") for e in errors)
    assert sim.clearFaults() == ["power_fail n0012"]
    assert c.startupNode("n0012") == "OK"


def test_start_fail(server: ServerProcess) -> None:
    boot(server)
    storage_call(server, "startEXAStorage")
    sim = server.proxy("/cluster1/simulation")
    db = server.proxy("/cluster1/db_exa_db1")
    assert sim.injectFault("exa_db1", "start_fail") == "the next starts of database exa_db1 fail"
    assert db.startDatabase() == "OK"
    advance(server, DB_START)
    assert (db.getDatabaseState(), db.getDatabaseOperation(), db.getDatabaseConnectionState()) == (
        "setup", "None", "No"
    )  # fmt: skip
    errors = db.getCurrentErrors()
    assert len(errors) == 1 and "failed to start" in errors[0]
    assert errors[0] in [e["message"] for e in tagged(server, "t") if e["priority"] == "Error"]
    assert sim.clearFaults() == ["start_fail exa_db1"]
    start_database(server)
    assert db.getCurrentErrors() == []


def test_fault_refusals(server: ServerProcess) -> None:
    sim = server.proxy("/cluster1/simulation")
    assert (
        usage(sim.injectFault, "n0011", "melt")
        == "unknown fault 'melt'; known: boot_hang, power_fail, crash, start_fail"
    )
    assert usage(sim.injectFault, "n0011", "crash") == "n0011 is powered off; only a running node can crash"
    assert fault(sim.injectFault, "n0099", "crash").faultString.startswith(NOT_FOUND)
    assert fault(sim.injectFault, "nosuch", "start_fail").faultString.startswith(NOT_FOUND)
    assert usage(sim.advanceClock, -5) == "seconds must be from 0 to ten years"


# -- plugins -----------------------------------------------------------------------------------


def test_call_plugin_shapes(server: ServerProcess) -> None:
    c = server.proxy()
    rc, out = c.callPlugin(PLUGIN, "n0010", "STATUS")
    assert (type(rc), type(out)) == (int, str) and rc == 3
    assert c.callPlugin(PLUGIN, "n0010", "START") == [0, "Starting vmtoolsd on n0010: done\n"]
    rc, out = c.callPlugin(PLUGIN, "n0010", "STATUS")
    assert rc == 0 and "vmtoolsd is running" in out
    assert c.callPlugin(PLUGIN, "n0010", "STOP", "") == [0, "Stopping vmtoolsd on n0010: done\n"]
    assert usage(c.callPlugin, PLUGIN, "n0011", "START") == (
        "plugin Administration.vmware-tools cannot run on n0011: the node is powered off"
    )
    assert usage(c.callPlugin, PLUGIN, "n0010", "JUMP").startswith("plugin Administration.vmware-tools knows")
    assert fault(c.callPlugin, "No.plugin", "n0010", "STATUS").faultString.startswith(NOT_FOUND)
    # a daemon does not survive its node going down
    boot(server, ["n0011"])
    c.callPlugin(PLUGIN, "n0011", "START")
    server.proxy("/cluster1/n0011").rebootNode()
    advance(server, 50 + BOOT)
    assert c.callPlugin(PLUGIN, "n0011", "STATUS")[0] == 3


# -- the master --------------------------------------------------------------------------------


def test_restart_exaoperation_moves_the_master(server: ServerProcess) -> None:
    c = server.proxy()
    assert usage(c.restartEXAoperation, "n0013") == "EXAoperation cannot run on n0013; it runs on n0010, n0011, n0012"
    assert usage(c.restartEXAoperation, "n0011") == "EXAoperation cannot move to n0011: the node is powered off"
    boot(server, ["n0011", "n0012"])
    assert c.restartEXAoperation("n0011") == "OK"
    # EXAoperation does not answer while it restarts...
    with pytest.raises(ProtocolError) as exc:
        c.getNodeList()
    assert exc.value.errcode == 503
    # ...but the simulation controls do, or a manual clock could never let it finish
    advance(server, 25)
    assert c.getEXAoperationMaster() == "n0011"
    assert c.getCurrentLicenseServer() == 11
    # with EXAoperation elsewhere, the license server can go; then no database node boots (PXE)
    assert c.shutdownNode("n0010") == "OK"
    advance(server, 60)
    assert c.getNodeState("n0010")["status"] == "Powered off"
    reason = usage(c.startupNode, "n0013")
    assert reason == "n0013 boots over PXE from a license server, and no license server is running"
    assert (
        usage(c.shutdownNode, "n0011") == "n0011 runs the EXAoperation master; move it with restartEXAoperation first"
    )


def test_halt_license_server_refused_while_storage_runs(server: ServerProcess) -> None:
    c = server.proxy()
    boot(server)
    storage_call(server, "startEXAStorage")
    assert usage(c.haltLicenseServer, "") == (
        "shutting down n0010 ends EXAoperation; stop the databases and EXAStorage first"
    )
    assert usage(c.haltLicenseServer, "n0011") == "n0011 is not a license server"
    assert usage(c.shutdownNode, "n0010") == (
        "shutting down n0010 ends EXAoperation; stop the databases and EXAStorage first"
    )
    assert c.getNodeState("n0010")["status"] == "Running"
