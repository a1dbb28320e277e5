"""Every ConfD job through plain xmlrpc.client, on one server whose clock only the test moves:
a cluster started and stopped through ConfD alone, backups, schedules, a restore, nodes, users,
settings, the license and the master."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from xmlrpc.client import ProtocolError, ServerProxy

import pytest

from tests.integration.wirekit import BOOT, DB_START, STORAGE_START, advance, fault, module_server
from tests.serverproc import ServerProcess

ALL = [11, 12, 13, 14]


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from module_server(tmp_path_factory, "confd-jobs")


def run(conn: ServerProxy, name: str, **params: Any) -> Any:
    """job_exec in the documented style; the output of a job that must succeed."""
    result = conn.job_exec(name, {"params": params}) if params else conn.job_exec(name)
    assert result["result_code"] == 0, result
    return result.get("result_output")


def started(srv: ServerProcess, name: str, seconds: float | tuple[float, ...], **params: Any) -> dict[str, Any]:
    """job_start a long job, move the clock (by each of ``seconds`` in turn: a job of several steps
    takes its next one when the clock has moved to the end of the last), job_wait: its result."""
    conn = srv.confd()
    job_id = conn.job_start(name, {"params": params})
    assert conn.job_finished(job_id) is False
    for step in seconds if isinstance(seconds, tuple) else (seconds,):
        advance(srv, step)
    assert conn.job_wait(job_id, {"timeout": 10}) is True
    return conn.job_result(job_id)


def test_a_cluster_started_and_stopped_through_confd_alone(srv: ServerProcess) -> None:
    conn = srv.confd()
    assert [run(conn, "node_state")[str(n)] for n in ALL] == ["offline"] * 4
    # the machines boot, then EXAStorage starts with them
    job_id = conn.job_start("infra_instances_start", {"params": {"nids": ALL}})
    waiting = conn.job_start("node_wait_ready", {"params": {"nids": ALL, "timeout": 900}})
    advance(srv, BOOT)
    assert conn.job_wait(waiting, {"timeout": 10}) is True
    assert conn.job_result(waiting)["result_output"] == ALL
    assert conn.job_finished(job_id) is False  # EXAStorage is starting
    assert run(conn, "st_volume_info", vid=0)["state"] == "OFFLINE"
    advance(srv, STORAGE_START)
    assert conn.job_wait(job_id, {"timeout": 10}) is True
    result = conn.job_result(job_id)
    assert result["result_code"] == 0 and isinstance(result["result_revision"], int)
    assert run(conn, "st_volume_info", vid=0)["state"] == "ONLINE"
    state = run(conn, "node_state")
    assert all(state[str(n)] == "online" for n in ALL) and sorted(state["booted"]) == ["11", "12", "13", "14"]
    assert srv.proxy("/cluster1/storage").serviceIsOnline() is True
    # a running database keeps the nodes up
    assert started(srv, "db_start", DB_START, db_name="exa_db1")["result_code"] == 0
    refused = conn.job_exec("nodes_terminate", {"params": {"nids": ALL}})
    assert refused["result_code"] == 1 and "exa_db1" in refused["result_desc"]
    assert run(conn, "db_state", db_name="exa_db1") == "running"
    assert started(srv, "db_stop", 60, db_name="exa_db1")["result_code"] == 0
    # EXAStorage stops first, then the nodes
    job_id = conn.job_start("nodes_terminate", {"params": {"nids": ALL}})
    waiting = conn.job_start("node_wait_offline", {"params": {"nids": ALL}})
    advance(srv, 20)
    assert srv.proxy("/cluster1/storage").serviceIsOnline() is False
    assert conn.job_finished(job_id) is False
    advance(srv, 60)
    assert conn.job_wait(job_id, {"timeout": 10}) is True and conn.job_result(job_id)["result_code"] == 0
    assert conn.job_wait(waiting, {"timeout": 10}) is True and conn.job_result(waiting)["result_output"] == ALL
    assert all(run(conn, "node_state")[str(n)] == "offline" for n in ALL)
    # node_wait_ready gives up at its timeout with the nodes that are ready (none)
    assert started(srv, "node_wait_ready", 5, nids=[11], timeout=5)["result_output"] == []


def test_infra_instances_stop_and_start_a_node(srv: ServerProcess) -> None:
    conn = srv.confd()
    assert started(srv, "infra_instances_start", BOOT, nids=[11])["result_code"] == 0
    assert run(conn, "node_state")["11"] == "online"
    result = started(srv, "infra_instances_stop", 60, nids=[11], timeout=600)
    assert result["result_code"] == 0 and run(conn, "node_state")["11"] == "offline"
    fails = conn.job_exec("infra_instances_stop", {"params": {"nids": [11], "timeout": 0}})
    assert fails["result_code"] == 1 and "timeout" in fails["result_desc"]


@pytest.fixture
def running(srv: ServerProcess) -> Iterator[ServerProxy]:
    """The cluster up with exa_db1 running; everything stopped again afterwards."""
    conn = srv.confd()
    assert started(srv, "infra_instances_start", (BOOT, STORAGE_START), nids=ALL)["result_code"] == 0
    assert started(srv, "db_start", DB_START, db_name="exa_db1")["result_code"] == 0
    yield conn
    if run(conn, "db_state", db_name="exa_db1") != "setup":
        started(srv, "db_stop", 100, db_name="exa_db1", force=True)
    assert started(srv, "nodes_terminate", (20, 60), nids=ALL)["result_code"] == 0


def test_backups_schedules_and_a_restore(srv: ServerProcess, running: ServerProxy) -> None:
    conn = running
    result = conn.job_exec("db_backup_start", {"params": {"db_name": "exa_db1", "backup_volume_name": "ArchiveVolume2",
                                                          "level": 0, "expire": "1w"}})  # fmt: skip
    assert result["result_code"] == 0 and "result_revision" in result
    progress = run(conn, "db_backup_progress", db_name="exa_db1")
    assert progress["Type"] == "Backup" and progress["Progress"] < 100
    # a second backup while one runs fails, saying why
    busy = conn.job_exec("db_backup_start", {"params": {"db_name": "exa_db1", "backup_volume_id": 1, "level": 0}})
    assert busy["result_code"] == 1 and "Backup" in busy["result_desc"]
    advance(srv, 600)
    listed = run(conn, "db_backup_list", db_name="exa_db1")
    assert len(listed) == 1 and listed[0]["level"] == 0 and listed[0]["usable"] is True
    backup = listed[0]
    run(conn, "db_backup_change_expiration", backup_volume_id=1, backup_files=backup["expire_alterable"].split()[1],
        expire_time="2099-01-31 12:00:00")  # fmt: skip
    assert run(conn, "db_backup_list", db_name="exa_db1")[0]["expire"] == "2099-01-31 12:00"
    # a backup aborted
    run(conn, "db_backup_start", db_name="exa_db1", backup_volume_id=1, level=1)
    run(conn, "db_backup_abort", db_name="exa_db1")
    assert len(run(conn, "db_backup_list", db_name="exa_db1")) == 1
    # schedules
    run(conn, "db_backup_add_schedule", db_name="exa_db1", backup_name="nightly", backup_volume_id=1, level=0,
        hour=2, expire="1w")  # fmt: skip
    dup = conn.job_exec("db_backup_add_schedule", {"params": {"db_name": "exa_db1", "backup_name": "nightly",
                                                              "backup_volume_id": 1, "level": 0}})  # fmt: skip
    assert dup["result_code"] == 1 and "nightly" in dup["result_desc"]
    run(conn, "db_backup_modify_schedule", db_name="exa_db1", backup_name="nightly", enabled=False, minute=30)
    schedule = srv.proxy("/cluster1/db_exa_db1").getBackupSchedule()
    assert schedule[0]["enabled"] is False and schedule[0]["minute"] == "30" and schedule[0]["hour"] == "2"
    run(conn, "db_backup_remove_schedule", db_name="exa_db1", backup_name="nightly")
    assert srv.proxy("/cluster1/db_exa_db1").getBackupSchedule() == []
    gone = conn.job_exec("db_backup_remove_schedule", {"params": {"db_name": "exa_db1", "backup_name": "nightly"}})
    assert gone["result_code"] == 2 and "no schedule 'nightly'" in gone["result_desc"]
    # a restore waits until it has ended
    assert started(srv, "db_stop", 60, db_name="exa_db1")["result_code"] == 0
    result = started(srv, "db_restore", 1200, db_name="exa_db1", backup_id=backup["id"], restore_type="blocking")
    assert result["result_code"] == 0, result
    assert run(conn, "db_info", db_name="exa_db1")["connectible"] == "Yes"
    # deleted
    assert started(srv, "db_stop", 60, db_name="exa_db1")["result_code"] == 0
    run(conn, "db_backups_delete", db_name="exa_db1", backup_list=[backup["id"]])
    assert run(conn, "db_backup_list", db_name="exa_db1") == []


def test_nodes_suspended_resumed_and_storage_devices(srv: ServerProcess, running: ServerProxy) -> None:
    conn = running
    refused = conn.job_exec("node_suspend", {"params": {"nid": 11}})
    assert refused["result_code"] == 1 and "exa_db1" in refused["result_desc"]
    run(conn, "node_suspend", nid=[14], disable=True)
    assert run(conn, "node_state")["14"] == "suspended"
    assert srv.proxy().getNodeState("n0014")["status"] == "Suspended"
    run(conn, "node_resume", nid=14, enable=True)
    assert run(conn, "node_state")["14"] == "online"
    nodes = run(conn, "st_node_list")
    assert [n["id"] for n in nodes] == ["11", "12", "13", "14"] and nodes[0]["disk_space"].endswith(" GiB")
    devices = run(conn, "st_device_info", nid=11)
    assert devices and devices[0]["size"].endswith(" GiB") and devices[0]["state"] == "online"
    assert conn.job_exec("st_device_info", {"params": {"nid": 99}})["result_code"] == 2


def test_db_create(srv: ServerProcess) -> None:
    conn = srv.confd()
    fails = conn.job_exec("db_create", {"params": {"db_name": "exa_db2", "version": "6.2.17",
                                                   "data_volume_name": "DataVolume1", "mem_size": "1.5 GiB",
                                                   "nodes": [11, 12], "num_active_nodes": 2}})  # fmt: skip
    assert fails["result_code"] == 1 and "mem_size" in fails["result_desc"]
    fails = conn.job_exec("db_create", {"params": {"db_name": "exa_db2", "version": "6.2.17",
                                                   "data_volume_name": "DataVolume1", "mem_size": "2048 MiB",
                                                   "nodes": [11, 12], "num_active_nodes": 2}})  # fmt: skip
    assert fails["result_code"] == 1 and "data_volume" in fails["result_desc"]  # exa_db1 has it
    assert "exa_db2" not in run(conn, "db_list")


def test_users_share_one_list_with_exaoperation(srv: ServerProcess) -> None:
    conn = srv.confd()
    result = conn.job_exec("user_create", {"params": {"username": "ops", "userid": 1001, "password": "ops-secret",
                                                      "group": "exausers", "login_enabled": True}})  # fmt: skip
    assert result["result_code"] == 0
    assert "ops-secret" not in str(conn.job_info({"job_id": result["result_jobid"]}))  # never kept
    assert run(conn, "user_info", username="ops") == {
        "username": "ops", "userid": 1001, "group": "exausers", "role": "User", "login_enabled": True,
        "description": ""}  # fmt: skip
    assert "ops" in run(conn, "user_list")
    assert "ops" in srv.proxy().getAllUserLogins()
    # a User reads, but may not stop a database: a fault, before any job exists
    ops = srv.confd(user="ops", password="ops-secret")
    assert ops.job_exec("db_list")["result_code"] == 0
    text = fault(ops.job_exec, "db_stop", {"params": {"db_name": "exa_db1"}}).faultString
    assert "Forbidden" in text and "db_stop needs role Administrator" in text
    assert ops.user_login()["role"] == "User" and "db_stop" not in ops.user_state()["allowed_jobs"]
    run(conn, "user_passwd", username="ops", password="new-ops-secret")
    with pytest.raises(ProtocolError) as exc:
        ops.job_exec("db_list")
    assert exc.value.errcode == 401
    assert srv.confd(user="ops", password="new-ops-secret").job_exec("db_list")["result_code"] == 0
    run(conn, "user_delete", username="ops")
    assert "ops" not in run(conn, "user_list")
    last = conn.job_exec("user_delete", {"params": {"username": "admin"}})
    assert last["result_code"] == 1 and "last user with the Master role" in last["result_desc"]


def test_settings_license_and_the_master(srv: ServerProcess) -> None:
    conn = srv.confd()
    lic = run(conn, "license_info")
    assert "expiration_date" in lic["Contract"] and "max_db_mem_size_in_gb" in lic["Limits"]
    changes = {"Global": {"NameServers": "10.0.0.2,10.0.0.3", "SearchDomains": "example.org"}}
    result = conn.job_exec("general_settings", {"params": {"changes": changes}})
    assert result["result_code"] == 0 and "result_revision" in result
    listed = run(conn, "settings_list", sections={"Global": ["NameServers", "SearchDomains"]})
    assert listed == {"Global": {"NameServers": "10.0.0.2,10.0.0.3", "SearchDomains": "example.org"}}
    assert srv.proxy().getProperties()["dns_server2"] == "10.0.0.3"
    assert run(conn, "settings_list")["Global"]["Revision"] == result["result_revision"]
    refused = conn.job_exec("general_settings", {"params": {"changes": {"Global": {"SSHPort": 22}}}})
    assert refused["result_code"] == 1 and "SSHPort is not kept" in refused["result_desc"]
    refused = conn.job_exec("general_settings", {"params": {"changes": {"Global": {"Nope": 1}}}})
    assert refused["result_code"] == 1 and "may not be changed" in refused["result_desc"]
    # the master moves to n0011 (which must be up), and back
    assert started(srv, "infra_instances_start", BOOT, nids=[11])["result_code"] == 0
    assert started(srv, "master_change", 30, nids=[11])["result_code"] == 0
    assert srv.proxy().getEXAoperationMaster() == "n0011"
    assert started(srv, "master_change", 30, nids=10)["result_code"] == 0
    assert started(srv, "infra_instances_stop", 60, nids=[11])["result_code"] == 0
    assert srv.proxy().getEXAoperationMaster() == "n0010"
