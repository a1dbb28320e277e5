"""`exaop serve` as a process: crashes and restarts, signals, passwords, TLS, profiles,
halting, the EXAoperation restart window and a hostile wire.

Every server here is a real subprocess (tests/serverproc.py) on a manual clock: simulated
time moves only through /cluster1/simulation.advanceClock, so no test sleeps to wait for a
state. Where a call blocks until a state settles (startEXAStorage), it runs in a thread
while the test advances the clock.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from xmlrpc.client import Fault

import pytest

from tests.serverproc import ServerProcess

NODES = ["n0011", "n0012", "n0013", "n0014"]
BOOT = 300  # above the default profile's node_boot of 240 +- 30
STORAGE_START = 45  # the default profile's storage_start (no jitter)
DB_START = 120  # above database_start 100 +- 10 plus database_connect 5


# -- helpers ---------------------------------------------------------------------------------


def until(predicate: Callable[[], bool], what: str, timeout: float = 10) -> None:
    """Poll the server (no sleeping) until ``predicate`` holds; for states that other
    threads' calls bring about, never for simulated time, which only advanceClock moves."""
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")


def advance(srv: ServerProcess, seconds: float, cluster: str = "cluster1") -> dict[str, Any]:
    return srv.proxy(f"/{cluster}/simulation").advanceClock(seconds)


def sim_now(srv: ServerProcess) -> float:
    return srv.proxy("/cluster1/simulation").getClock()["now"]


def boot(srv: ServerProcess, nodes: list[str] = NODES, seconds: float = BOOT) -> None:
    c = srv.proxy()
    for n in nodes:
        assert c.startupNode(n) == "OK"
    advance(srv, seconds)
    for n in nodes:
        assert c.getNodeState(n)["status"] == "Running", n


def storage_state(srv: ServerProcess) -> str:
    return srv.proxy("/cluster1/storage").getStorageInfo()["state"]


def begin_storage_start(srv: ServerProcess, pool: ThreadPoolExecutor) -> Future[str]:
    """Call the blocking startEXAStorage() in a thread; return once storage is starting."""
    fut = pool.submit(lambda: srv.proxy("/cluster1/storage").startEXAStorage())
    until(lambda: fut.done() or storage_state(srv) == "starting", "EXAStorage to start")
    if fut.done():
        fut.result()  # a fault: raise it here
    return fut


def start_storage(srv: ServerProcess, seconds: float = STORAGE_START + 1) -> None:
    with ThreadPoolExecutor(1) as pool:
        fut = begin_storage_start(srv, pool)
        advance(srv, seconds)
        assert fut.result(timeout=10) == "OK"


def stop_storage(srv: ServerProcess, seconds: float = 20) -> None:
    with ThreadPoolExecutor(1) as pool:
        fut = pool.submit(lambda: srv.proxy("/cluster1/storage").stopEXAStorage())
        until(lambda: fut.done() or storage_state(srv) == "stopping", "EXAStorage to stop")
        advance(srv, seconds)
        assert fut.result(timeout=10) == "OK"


def services(srv: ServerProcess) -> dict[str, str]:
    return dict(srv.proxy().getServiceState())


def lines(srv: ServerProcess, prefix: str) -> list[str]:
    return [line for line in srv.output if line.startswith(prefix)]


# -- 1, 2: kill -9 in the middle of a transition, then a restart ---------------------------------


def test_restart_after_kill9_during_storage_start(server_factory) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory()
    boot(srv)
    with ThreadPoolExecutor(1) as pool:
        fut = begin_storage_start(srv, pool)
        advance(srv, 20)
        before = sim_now(srv)
        srv.kill9()
        with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
            fut.result(timeout=10)  # the blocked call loses its server, it does not hang

    srv = server_factory(state_dir=srv.state_dir)
    assert sim_now(srv) == pytest.approx(before, abs=1e-3)  # a manual clock stood still while down
    assert storage_state(srv) == "starting"
    assert services(srv)["Storaged"] == "not running"
    assert srv.proxy("/cluster1/storage").serviceIsOnline() is False
    c = srv.proxy()
    for n in NODES:  # the simulated machines kept their power through the crash
        state = c.getNodeState(n)
        assert (state["status"], state["power"]) == ("Running", "on"), n

    advance(srv, STORAGE_START - 20 - 1)
    assert storage_state(srv) == "starting"  # the deadline kept its place on the clock
    advance(srv, 2)
    assert storage_state(srv) == "online"
    assert services(srv) == {"Loggingd": "OK", "Lockd": "OK", "Storaged": "OK", "DWAd": "OK"}
    assert srv.proxy("/cluster1/storage").serviceIsOnline() is True
    assert all(c.getNodeState(n)["status"] == "Running" for n in NODES)


def test_restart_after_kill9_during_database_start(server_factory) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory()
    boot(srv)
    start_storage(srv)
    db = srv.proxy("/cluster1/db_exa_db1")
    assert db.startDatabase() == "OK"
    advance(srv, 30)
    assert (db.getDatabaseState(), db.getDatabaseOperation()) == ("starting", "Startup")
    srv.kill9()

    srv = server_factory(state_dir=srv.state_dir)
    db = srv.proxy("/cluster1/db_exa_db1")
    assert db.getDatabaseState() == "starting"
    assert db.getDatabaseOperation() == "Startup"
    assert db.getDatabaseConnectionState() == "No"
    assert storage_state(srv) == "online"
    with pytest.raises(Fault, match="already starting"):
        db.startDatabase()

    advance(srv, DB_START)
    assert db.getDatabaseState() == "running"
    assert db.getDatabaseOperation() == "None"
    assert db.getDatabaseConnectionState() == "Yes"
    assert db.getDatabaseInfo()["connectible"] == "Yes"
    entries = srv.proxy("/cluster1/logservice1").logEntries()[2]
    assert any("exa_db1 is accepting connections" in e["message"] for e in entries)
