"""Helpers for tests of the XML-RPC wire against a real `exaop serve` on a manual clock."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from xmlrpc.client import Fault

import pytest

from tests.serverproc import ServerProcess

NODES = ["n0011", "n0012", "n0013", "n0014"]
BOOT = 300  # above node_boot 240 +- 30 of the default profile
STORAGE_START = 46  # above storage_start 45
DB_START = 120  # above database_start 100 +- 10 plus database_connect 5
NOT_FOUND = "Unexpected Zope exception: NotFound: Object"


def module_server(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[ServerProcess]:
    """Body of a module-scoped server fixture: one `exaop serve` for a whole test module."""
    srv = ServerProcess(tmp_path_factory.mktemp(name) / "state").start()
    try:
        yield srv
    finally:
        srv.stop()


def fault(fn: Callable[..., Any], *args: Any) -> Fault:
    """Call ``fn`` and return the Fault it must raise."""
    with pytest.raises(Fault) as exc:
        fn(*args)
    return exc.value


def advance(srv: ServerProcess, seconds: float) -> dict[str, Any]:
    return srv.proxy("/cluster1/simulation").advanceClock(seconds)


def until(predicate: Callable[[], bool], what: str, timeout: float = 10) -> None:
    """Poll until another thread's call has had its effect (never used for simulated time)."""
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")


def boot(srv: ServerProcess, nodes: list[str] = NODES) -> None:
    c = srv.proxy()
    for n in nodes:
        assert c.startupNode(n) == "OK"
    advance(srv, BOOT)
    assert all(c.getNodeState(n)["status"] == "Running" for n in nodes)


def storage_call(srv: ServerProcess, method: str, *args: Any, seconds: float = STORAGE_START) -> Any:
    """startEXAStorage/stopEXAStorage answer once storage settles: call in a thread, move the clock."""
    with ThreadPoolExecutor(1) as pool:
        fut: Future[Any] = pool.submit(lambda: getattr(srv.proxy("/cluster1/storage"), method)(*args))
        want = "starting" if method == "startEXAStorage" else "stopping"
        info = srv.proxy("/cluster1/storage")
        until(lambda: fut.done() or info.getStorageInfo()["state"] == want, f"EXAStorage {want}")
        if not fut.done():
            advance(srv, seconds)
        return fut.result(timeout=10)


def start_database(srv: ServerProcess, db: str = "exa_db1") -> None:
    proxy = srv.proxy(f"/cluster1/db_{db}")
    assert proxy.startDatabase() == "OK"
    advance(srv, DB_START)
    assert proxy.getDatabaseConnectionState() == "Yes"


def all_up(srv: ServerProcess) -> None:
    boot(srv)
    assert storage_call(srv, "startEXAStorage") == "OK"
    start_database(srv)
