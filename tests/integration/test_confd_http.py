"""The ConfD face as a server: its port, /master and /is_master, a node that is not the master
(302), HTTPS also with --http, a job history and a waiting job that outlive a restart."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
from pathlib import Path

from tests.integration.wirekit import DB_START, advance, boot, storage_call
from tests.serverproc import TLS, ServerProcess


def get(port: int, path: str, method: str = "GET", body: bytes | None = None) -> tuple[int, str, dict[str, str]]:
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=TLS, timeout=10)
    try:
        conn.request(method, path, body=body, headers={"Authorization": "Basic YWRtaW46YWRtaW4tc2VjcmV0"})
        r = conn.getresponse()
        return r.status, r.read().decode(), {k.lower(): v for k, v in r.getheaders()}
    finally:
        conn.close()


def test_master_probes_and_a_node_that_is_not_the_master(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path / "state", extra=["--confd-port", "0", "--confd-node", "12"], http=True).start()
    try:
        assert srv.confd_url.startswith("https://")  # HTTPS also with --http
        assert any("(as node 12)" in line for line in srv.output)
        status, text, _ = get(srv.confd_port, "/master")
        assert (status, text.strip()) == (200, "10.50.1.10")
        assert get(srv.confd_port, "/master?info_type=name")[1].strip() == "n0010"
        status, text, _ = get(srv.confd_port, "/is_master")
        assert status == 404 and "n0010" in text
        call = b"<methodCall><methodName>job_list</methodName></methodCall>"
        status, _, headers = get(srv.confd_port, "/", "POST", call)
        assert status == 302 and headers["location"] == f"https://10.50.1.10:{srv.confd_port}/"
        assert get(srv.confd_port, "/nothing")[0] == 404
    finally:
        srv.stop()


def test_the_master_answers_and_is_master(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path / "state").start()
    try:
        assert get(srv.confd_port, "/is_master")[0] == 200
        assert get(srv.confd_port, "/")[0] == 405
        assert srv.confd(path="/rpc2").job_list() == srv.confd().job_list()
    finally:
        srv.stop()


def test_a_busy_confd_port_is_refused_clearly(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "exaop.cli", "serve", "--port", "0", "--confd-port", str(port),
                            "--state-dir", str(tmp_path / "s"), "--admin-password", "admin-secret"],
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    assert r.returncode == 2 and f"cannot listen on 127.0.0.1:{port} (the ConfD face)" in r.stderr
    assert not (tmp_path / "s").exists()  # made by this start, taken away again
    r = subprocess.run([sys.executable, "-m", "exaop.cli", "serve", "--confd-node", "n0099", "--port", "0",
                        "--confd-port", "0", "--state-dir", str(tmp_path / "t"), "--admin-password", "admin-secret"],
                       capture_output=True, text=True, timeout=60)  # fmt: skip
    assert r.returncode == 2 and "n0099" in r.stderr


def test_history_and_a_waiting_job_outlive_kill_9(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path / "state").start()
    try:
        boot(srv)
        assert storage_call(srv, "startEXAStorage") == "OK"
        conn = srv.confd()
        listed = conn.job_exec("db_list")
        job_id = conn.job_start("db_start", {"params": {"db_name": "exa_db1"}})
        assert conn.job_finished(job_id) is False
        srv.kill9()
        srv.start()
        conn = srv.confd()
        assert conn.job_result(listed["result_jobid"]) == listed
        assert conn.job_info({"job_id": job_id})["stage"] == "executed"  # still waiting for the database
        advance(srv, DB_START)
        assert conn.job_wait(job_id, {"timeout": 10}) is True
        assert conn.job_info({"job_id": job_id})["stage"] == "committed"
        assert conn.job_exec("db_list")["result_jobid"] != listed["result_jobid"]  # numbers go on
    finally:
        srv.stop()


def test_no_confd(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path / "state", extra=["--no-confd"]).start()
    try:
        assert srv.confd_url == "" and srv.proxy().getDatabaseList() == ["exa_db1"]
    finally:
        srv.stop()
