"""The server can be watched: /health, /ready, /metrics (Prometheus, parsed with
prometheus_client's own parser), a structured log of actions and failed logins, and a
warning for plain HTTP off the loopback."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from xmlrpc.client import Fault, ProtocolError

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.serverproc import ADMIN_PASSWORD, TLS, ServerProcess

NODES = ["n0011", "n0012", "n0013", "n0014"]


def get(srv: ServerProcess, path: str, auth: str | None = None) -> tuple[int, bytes]:
    headers = {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()} if auth else {}
    req = urllib.request.Request(f"https://127.0.0.1:{srv.port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(req, context=TLS, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def metrics(srv: ServerProcess) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    status, body = get(srv, "/metrics", f"admin:{ADMIN_PASSWORD}")
    assert status == 200
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def value(m: dict[str, Any], name: str, **labels: str) -> float:
    return m[name].get(tuple(sorted(labels.items())), 0.0)


def advance(srv: ServerProcess, seconds: float) -> None:
    srv.proxy("/cluster1/simulation").advanceClock(seconds)


def test_health_and_ready_need_no_login_and_say_what_they_see(server: ServerProcess) -> None:
    assert get(server, "/health") == (200, b"ok\n")
    assert get(server, "/ready") == (200, b"ready\n")
    c = server.proxy()
    c.startupNode("n0011")
    advance(server, 300)
    c.restartEXAoperation("n0011")  # the restart window: not ready, still alive
    assert get(server, "/ready")[0] == 503 and get(server, "/health")[0] == 200
    advance(server, 30)
    assert get(server, "/ready")[0] == 200
    assert get(server, "/nothing")[0] == 405


def test_metrics_follow_a_cold_start(server: ServerProcess) -> None:
    assert get(server, "/metrics")[0] == 401  # behind a login on the main port
    m = metrics(server)
    assert value(m, "exaop_nodes", state="Powered off") == 4 and value(m, "exaop_nodes", state="Running") == 1
    assert value(m, "exaop_storage_online") == 0
    assert value(m, "exaop_database_state", database="exa_db1", state="setup") == 1
    c = server.proxy()
    for n in NODES:
        c.startupNode(n)
    assert value(metrics(server), "exaop_nodes", state="Booting") == 4
    advance(server, 300)
    m = metrics(server)
    assert value(m, "exaop_nodes", state="Running") == 5
    assert all(value(m, "exaop_node_up", node=n, role="database node") == 1 for n in NODES)
    assert all(value(m, "exaop_node_power_on", node=n) == 1 for n in NODES)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        started = pool.submit(server.proxy("/cluster1/storage").startEXAStorage)
        _until(lambda: value(metrics(server), "exaop_storage_state", state="starting") == 1)
        advance(server, 60)
        assert started.result(10) == "OK"
    db = server.proxy("/cluster1/db_exa_db1")
    db.startDatabase()
    assert value(metrics(server), "exaop_database_operation", database="exa_db1", operation="Startup") == 1
    advance(server, 200)
    m = metrics(server)
    assert value(m, "exaop_storage_online") == 1
    assert value(m, "exaop_database_connectible", database="exa_db1") == 1
    assert value(m, "exaop_databases", state="running") == 1
    assert value(m, "exaop_requests_total", method="startupNode", result="ok") == 4
    assert value(m, "exaop_request_duration_seconds_count") == 9  # 4 startupNode, 3 advanceClock, 2 starts
    with pytest.raises(Fault):
        c.startupNode("n0011")
    with pytest.raises(ProtocolError):
        server.proxy(password="wrong-password").getNodeList()
    m = metrics(server)
    assert value(m, "exaop_requests_total", method="startupNode", result="fault") == 1
    assert value(m, "exaop_failed_logins_total") == 1 and value(m, "exaop_http_refusals_total", status="401") == 1


def test_a_metrics_port_serves_them_without_a_login(server_factory) -> None:  # type: ignore[no-untyped-def]
    import socket

    with socket.socket() as probe:  # a free port (0 means "no metrics port")
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    srv = server_factory(extra=["--metrics-port", str(port)])
    line = next(x for x in srv.output if "metrics without credentials on " in x)
    url = line.split("metrics without credentials on ")[1].split()[0].rstrip('"')
    with urllib.request.urlopen(url, timeout=10) as r:
        names = {f.name for f in text_string_to_metric_families(r.read().decode())}
    assert {"exaop_nodes", "exaop_requests", "exaop_storage_online"} <= names


def test_the_log_tells_actions_and_failed_logins_and_never_a_password(server_factory) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory(extra=["--log-format", "json"])
    c = srv.proxy()
    c.addUser({"user_login": "carol", "password": "carols-secret-pw"})
    with pytest.raises(Fault):
        c.startupNode("n9999")
    with pytest.raises(ProtocolError):
        srv.proxy(user="mallory", password="guess-1234").getNodeList()
    c.getNodeList()  # a read: not logged at info
    _until(lambda: sum('"login_failure"' in x for x in srv.output) >= 1)
    events = [json.loads(x) for x in srv.output if x.startswith("{")]
    actions = [e for e in events if e.get("event") == "action"]
    assert [(e["method"], e["result"], e["user"]) for e in actions] == [
        ("addUser", "ok", "admin"), ("startupNode", "fault", "admin")]  # fmt: skip
    assert "NotFound" in actions[1]["reason"] and all(e["time"].endswith("Z") for e in events)
    assert any(e.get("event") == "login_failure" and "mallory" in e["message"] for e in events)
    assert not any("carols-secret-pw" in x or "guess-1234" in x for x in srv.output)


def test_plain_http_off_the_loopback_is_warned_about() -> None:
    from exaop.server import _loopback

    assert _loopback("127.0.0.1") and _loopback("::1") and _loopback("localhost")
    assert not _loopback("0.0.0.0") and not _loopback("10.1.2.3") and not _loopback("db-master.example")


def _until(predicate: Callable[[], bool], timeout: float = 10) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
