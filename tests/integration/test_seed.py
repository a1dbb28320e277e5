"""Every snippet of the seed article runs verbatim against `exaop serve` (subprocess, HTTPS).

The server runs with --speed 600, so the article's busy loops finish in well under a
second of wall time per step, and the test itself never sleeps.
"""

from __future__ import annotations

import contextlib
import io
import time
from typing import Any
from xmlrpc.client import ServerProxy

from tests.integration import seed_snippets as seed
from tests.serverproc import TLS


def run(snippet: str, ns: dict[str, Any], base: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(seed.adapt(snippet, base), ns)  # noqa: S102 - the article's own code
    return out.getvalue()


def wait_for_boot_messages(ns: dict[str, Any], nodes: list[str]) -> None:
    """The article: follow logservice1 until every node says 'Boot process finished'."""
    logservice: ServerProxy = ns["logservice"]
    seen: set[str] = set()
    while seen != set(nodes):
        for entry in logservice.logEntriesTagged("seed-test")[2]:
            if entry["message"].startswith("Boot process finished after"):
                seen.add(entry["node"])


def test_seed_startup_and_shutdown_verbatim(server_factory) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory(speed=600)
    base = srv.base()
    ns: dict[str, Any] = {"ServerProxy": ServerProxy, "ctx": TLS}
    t0 = time.monotonic()

    # -- startup ---------------------------------------------------------------------------
    assert run(seed.STARTUP_1, ns, base) == "connected\n\n"
    nodes = ns["cluster"].getNodeList()
    assert nodes == ["n0011", "n0012", "n0013", "n0014"]
    run(seed.STARTUP_2_POWER, ns, base)
    out = run(seed.STARTUP_2_CHECK, ns, base)
    assert out.count("\n\n") == 4  # one line per node, online or not yet
    run(seed.STARTUP_2_LOG, ns, base)
    wait_for_boot_messages(ns, nodes)
    assert run(seed.STARTUP_2_CHECK, ns, base) == "".join(f"node {n} is online\n\n" for n in nodes)

    run(seed.STARTUP_3, ns, base)
    assert ns["cluster"].getServiceState() == [["Loggingd", "OK"], ["Lockd", "OK"], ["Storaged", "OK"], ["DWAd", "OK"]]

    out = run(seed.STARTUP_4, ns, base)
    assert out == "database exa_db1 is accepting connections at 10.50.1.11..13:8563\n\n"

    run(seed.STARTUP_5, ns, base)
    plugin = "Administration.vmware-tools"
    for node in ["n0010", *nodes]:
        assert "vmtoolsd is running" in ns["cluster"].callPlugin(plugin, node, "STATUS")[1]
    cold_start = time.monotonic() - t0

    # -- the master checks, 4.2 and 5.0 ---------------------------------------------------------
    assert run(seed.MASTER_42, ns, base) == ""
    assert ns["exaoperation_master"] == 10
    assert run(seed.MASTER_50, ns, base) == ""
    assert ns["exaoperation_master"] == "n0010"

    # -- shutdown ------------------------------------------------------------------------------
    assert run(seed.SHUTDOWN_1, ns, base) == "database exa_db1 stopped\n\n"
    run(seed.SHUTDOWN_2, ns, base)
    assert ns["cluster"].getServiceState() == [
        ["Loggingd", "OK"], ["Lockd", "OK"], ["Storaged", "not running"], ["DWAd", "OK"]
    ]  # fmt: skip
    run(seed.SHUTDOWN_3, ns, base)
    # the last call halts the license server: EXAoperation answers it, then ends
    assert srv.wait_exit() == 0
    assert any("EXAoperation halted" in line for line in srv.output)
    assert cold_start < 5.0, f"cold start took {cold_start:.1f}s of wall time"

    # -- the license server is switched on again: EXAoperation answers, the rest stayed down
    again = server_factory(speed=600, state_dir=srv.state_dir)
    cluster = again.proxy()
    sim = again.proxy("/cluster1/simulation")
    sim.advanceClock(3600)
    assert [cluster.getNodeState(n)["status"] for n in nodes] == ["Powered off"] * 4
    assert cluster.getNodeState("n0010")["status"] == "Running"
    assert cluster.getServiceState()[2] == ["Storaged", "not running"]
    assert again.proxy("/cluster1/db_exa_db1").getDatabaseState() == "setup"
