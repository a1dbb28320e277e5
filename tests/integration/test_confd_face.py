"""The ConfD face through plain xmlrpc.client, in the documented style: jobs, stages, results,
long jobs on the simulated clock, and one cluster seen through both faces at once."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.integration.wirekit import DB_START, advance, boot, fault, module_server, storage_call, until
from tests.serverproc import ServerProcess


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from module_server(tmp_path_factory, "confd")


def ok(result: dict[str, Any]) -> Any:
    assert result["result_code"] == 0, result
    assert result["result_name"] == "OK" and result["result_desc"] == "Success"
    return result.get("result_output")


def test_introspection(srv: ServerProcess) -> None:
    conn = srv.confd()
    methods = conn.system.listMethods()
    for name in ("job_exec", "job_start", "job_wait", "job_result", "job_info", "job_list", "job_desc", "job_help",
                 "job_finished", "system.listMethods", "system.methodHelp", "system.methodSignature"):  # fmt: skip
        assert name in methods
    assert "job_wait" in conn.system.methodHelp("job_wait")
    assert ["boolean", "string", "struct"] in conn.system.methodSignature("job_wait")
    names = conn.job_list()
    for job in ("db_list", "db_state", "db_info", "db_start", "db_stop", "node_list", "node_state",
                "st_volume_list", "st_volume_info"):  # fmt: skip
        assert job in names
    found, desc = conn.job_desc("db_start")
    assert found is True
    description, mandatory, optional, substitutes, users, groups, examples = desc
    assert [m[0] for m in mandatory] == ["db_name"]
    assert {"maintenance", "timeout", "cluster"} <= {o[0] for o in optional}
    assert "Administrator" in users and "User" not in users
    assert "db_start" in examples[0]
    assert conn.job_desc("no_such_job")[0] is False
    assert "db_name (string)" in conn.job_help("db_state")


def test_read_jobs_finish_without_revision(srv: ServerProcess) -> None:
    conn = srv.confd()
    result = conn.job_exec("db_list")
    assert ok(result) == ["exa_db1"] and "result_revision" not in result
    assert ok(conn.job_exec("db_state", {"params": {"db_name": "exa_db1"}})) == "setup"
    info = ok(conn.job_exec("db_info", {"params": {"db_name": "exa_db1"}}))
    assert info["connectible"] == "No" and info["state"] == "setup" and info["name"] == "exa_db1"
    assert info["nodes"]["active"] == ["n0011", "n0012", "n0013"]
    nodes = ok(conn.job_exec("node_list"))
    assert sorted(nodes) == ["11", "12", "13", "14"]
    assert nodes["11"]["name"] == "n0011" and nodes["11"]["private_ip"].endswith(".11")
    volumes = ok(conn.job_exec("st_volume_list"))
    assert [v["name"] for v in volumes] == ["DataVolume1", "ArchiveVolume2"]
    vol = ok(conn.job_exec("st_volume_info", {"params": {"vid": 0}}))
    assert vol["size"] == "1024 GiB" and vol["redundancy"] == 2 and vol["volume_nodes"] == ["11", "12", "13", "14"]
    assert ok(conn.job_exec("st_volume_info", {"params": {"vname": "DataVolume1"}}))["id"] == "0"
    assert sorted(ok(conn.job_exec("st_volume_info", {"params": {"vid": "all_volumes"}}))) == ["0", "1"]
    job_id = result["result_jobid"]
    assert conn.job_finished(job_id) is True
    info = conn.job_info({"job_id": job_id})
    assert info["stage"] == "finished" and info["name"] == "db_list" and info["user"] == "admin"
    assert conn.job_result(job_id) == result


def test_malformed_calls_are_faults_naming_the_parameter(srv: ServerProcess) -> None:
    conn = srv.confd()
    assert "unknown job 'db_frobnicate'" in fault(conn.job_exec, "db_frobnicate").faultString
    assert "mandatory parameter 'db_name'" in fault(conn.job_exec, "db_state", {"params": {}}).faultString
    assert "unknown parameter 'dbname'" in fault(conn.job_exec, "db_state", {"params": {"dbname": "x"}}).faultString
    text = fault(conn.job_exec, "db_stop", {"params": {"db_name": "exa_db1", "force": "yes"}}).faultString
    assert "'force' must be boolean" in text
    assert "unknown key 'parms'" in fault(conn.job_exec, "db_list", {"parms": {}}).faultString
    assert "no job '99.99'" in fault(conn.job_result, "99.99").faultString


def test_huge_parameters_are_refused_before_a_job_keeps_them(srv: ServerProcess) -> None:
    # a 1 MB name was kept in the history twice (params, result_desc): 1,000 jobs held 2 GB
    conn = srv.confd()
    before = conn.user_state()["jobs"]
    text = fault(conn.job_exec, "db_state", {"params": {"db_name": "x" * 1_000_000}}).faultString
    assert "'db_name' is 1000000 characters long" in text and len(text) < 300
    text = fault(conn.job_start, "node_suspend", {"params": {"nid": [11] * 20_000}}).faultString
    assert "'nid' is too large" in text
    assert conn.user_state()["jobs"] == before
    assert conn.job_exec("db_state", {"params": {"db_name": "x" * 1024}})["result_code"] == 2  # long, unknown


def test_a_failing_job_has_a_result_code_and_text(srv: ServerProcess) -> None:
    conn = srv.confd()
    result = conn.job_exec("db_state", {"params": {"db_name": "nosuch"}})
    assert result["result_code"] != 0 and "db_nosuch" in result["result_desc"]
    # storage is down: the start is refused, and the job says why
    result = conn.job_exec("db_start", {"params": {"db_name": "exa_db1"}})
    assert result["result_code"] == 1 and "EXAStorage is not online" in result["result_desc"]
    assert "result_revision" not in result
    assert conn.job_info({"job_id": result["result_jobid"]})["stage"] == "finished"


def test_401_on_wrong_password(srv: ServerProcess) -> None:
    from xmlrpc.client import ProtocolError

    with pytest.raises(ProtocolError) as exc:
        srv.confd(password="wrong").job_exec("db_list")
    assert exc.value.errcode == 401 and "unauthorized" in str(exc.value).lower()


def test_long_jobs_and_both_faces(srv: ServerProcess) -> None:
    """db_start through ConfD on the simulated clock: job_wait times out while the database starts,
    the job commits with a revision once it runs, and EXAoperation reads it running; stopped through
    EXAoperation, ConfD reads it down."""
    conn = srv.confd()
    boot(srv)
    assert ok(conn.job_exec("node_state"))["11"] == "online"
    assert storage_call(srv, "startEXAStorage") == "OK"
    assert ok(conn.job_exec("st_volume_info", {"params": {"vid": 0}}))["state"] == "ONLINE"
    job_id = conn.job_start("db_start", {"params": {"db_name": "exa_db1"}})
    assert conn.job_wait(job_id, {"timeout": 0.2}) is False
    for bad in (float("nan"), -1, "10"):  # NaN used to wait as 0 and answer False
        assert "must be a number of seconds" in fault(conn.job_wait, job_id, {"timeout": bad}).faultString
    assert conn.job_finished(job_id) is False and conn.job_info({"job_id": job_id})["stage"] == "executed"
    assert "has not finished" in fault(conn.job_result, job_id).faultString
    assert ok(conn.job_exec("db_state", {"params": {"db_name": "exa_db1"}})) == "startup"
    db = srv.proxy("/cluster1/db_exa_db1")
    assert db.getDatabaseState() == "starting"
    advance(srv, DB_START)
    assert conn.job_wait(job_id, {"timeout": 10}) is True
    result = conn.job_result(job_id)
    assert ok(result) is None and isinstance(result["result_revision"], int)
    assert conn.job_info({"job_id": job_id})["stage"] == "committed"
    assert db.getDatabaseState() == "running"
    # stopped through EXAoperation: ConfD sees it
    assert db.shutdownDatabase() == "OK"
    assert ok(conn.job_exec("db_state", {"params": {"db_name": "exa_db1"}})) == "shutdown"
    advance(srv, 60)
    assert ok(conn.job_exec("db_state", {"params": {"db_name": "exa_db1"}})) == "setup"
    # job_exec waits for the long job: the clock moves meanwhile, from another client
    with ThreadPoolExecutor(1) as pool:
        fut = pool.submit(lambda: srv.confd().job_exec("db_start", {"params": {"db_name": "exa_db1"}}))
        until(lambda: db.getDatabaseState() == "starting", "the database starting")
        advance(srv, DB_START)
        first = fut.result(timeout=10)
    ok(first)
    assert first["result_revision"] > result["result_revision"]
    # a timeout is on the cluster's clock: a stop that takes longer fails the job, and goes on
    job_id = conn.job_start("db_stop", {"params": {"db_name": "exa_db1", "force": True, "timeout": 1}})
    advance(srv, 1)
    assert conn.job_wait(job_id, {"timeout": 10}) is True
    stopped = conn.job_result(job_id)
    assert stopped["result_code"] == 3 and "timed out" in stopped["result_desc"]
    advance(srv, 60)
    assert db.getDatabaseState() == "setup"
