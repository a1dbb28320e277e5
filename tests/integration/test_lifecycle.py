"""The lifecycle tool (`exaop cluster start|stop|status`) against real `exaop serve` processes.

Servers run on a manual clock; the tool waits on the server's simulated clock (the API's
SimulationClock, the CLI's --simulated-clock), so a cold start of ten simulated minutes
takes well under a second of wall time. Where the issue speaks of exit codes and output
the CLI runs as a subprocess; elsewhere the Python API does.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any
from xmlrpc.client import ProtocolError

import pytest

import exaop
from exaop import Event, start_cluster, stop_cluster
from tests.integration.lifecycle_kit import (
    CONFD,
    DB,
    EXA,
    FACES,
    NODES,
    WORDS,
    RecordingClient,
    Restarter,
    advance,
    backend,
    ca_file,
    cli,
    client,
    options,
    sim_clock,
    snapshot,
    start,
    stop,
)
from tests.serverproc import ADMIN_PASSWORD, ServerProcess

ACTIONS = ("startupNode", "startEXAStorage", "startDatabase", "shutdownNode", "stopDatabase",
           "forceShutdownDatabase", "stopEXAStorage", "poweroffNode", "restartEXAoperation", "callPlugin",
           "infra_instances_start", "infra_instances_stop", "nodes_terminate", "db_start", "db_stop")  # fmt: skip


@pytest.fixture(params=FACES)
def face(request: pytest.FixtureRequest) -> str:
    """The face of `exaop serve` the tool drives: EXAoperation's, or ConfD's (same server, same cluster)."""
    return str(request.param)


def acting_calls(c: Any) -> list[tuple[str, str]]:
    return [(p, m) for p, m in c.log if m in ACTIONS]


# -- 1: cold start and full stop -----------------------------------------------------------------


def test_cold_start_then_full_stop(server_factory, face: str) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory()
    before = snapshot(srv)
    assert set(before["nodes"].values()) == {"Powered off", "Running"}  # only n0010 runs
    assert before["services"]["Storaged"] == "not running" and before["db"][0] == "setup"

    started = cli(srv, "start", face=face)
    assert started.code == 0, started
    assert f"{DB} accepts connections at 10.50.1.11..13:8563" in started.out  # the connection string
    up = snapshot(srv)
    assert up["nodes"] == {n: "Running" for n in ["n0010", *NODES]}
    assert set(up["services"].values()) == {"OK"}
    assert up["db"] == ("running", "None", "Yes")

    stopped = cli(srv, "stop", "--json", face=face)
    assert stopped.code == 0, stopped
    phases = [e["phase"] for e in stopped.events() if e["kind"] == "phase_end"]
    assert phases == ["master", "nodes_check", "stop_databases", "stop_storage", "stop_nodes", "license_servers"]
    if face == CONFD:  # ConfD runs on the database nodes: the license server (and this server) stay up
        # ConfD's node_state says offline once a node has left the cluster; its machine powers off soon after
        assert set(snapshot(srv)["nodes"].values()) <= {"Running", "Shutting down", "Powered off"}
        advance(srv, 300)
        down = snapshot(srv)
        assert down["nodes"] == {"n0010": "Running", **{n: "Powered off" for n in NODES}}
        assert down["services"]["Storaged"] == "not running" and down["db"] == ("setup", "None", "No")
        actions = [e["message"] for e in stopped.events() if e["kind"] == "action"]
        assert actions == [f"db_stop {DB}", f"infra_instances_stop {','.join(NODES)}"]
        return
    assert srv.wait_exit() == 0  # the license server is halted: EXAoperation has ended
    assert any("EXAoperation halted" in line for line in srv.output), srv.output

    # the license server back on: the rest of the cluster is as the stop left it
    again = ServerProcess(srv.state_dir, speed=0).start()
    try:
        down = snapshot(again)
        assert down["nodes"] == {"n0010": "Running", **{n: "Powered off" for n in NODES}}
        assert down["services"]["Storaged"] == "not running"
        assert down["db"] == ("setup", "None", "No")
    finally:
        again.stop()


# -- 2: start on a running cluster does nothing ----------------------------------------------------


def test_start_again_on_a_running_cluster_does_nothing(server, face: str) -> None:  # type: ignore[no-untyped-def]
    first = start(server, face)
    assert [p.name for p in first.summary.phases] == ["reachable", "nodes", "storage", "databases", "plugins"]
    assert 200 < first.summary.phases[1].clock_seconds < 400  # a node boot is 240 +- 30 simulated seconds
    targets = sorted(e.data["target"] for e in first.kinds("action", "nodes"))
    assert targets == (NODES if face == EXA else [",".join(NODES)])  # ConfD: one job for every node
    assert first.client.called(WORDS[face]["start_db"]) == ([f"/db_{DB}"] if face == EXA else [""])
    before = snapshot(server)

    again = start(server, face)
    assert acting_calls(again.client) == []
    assert again.kinds("action") == []
    assert snapshot(server) == before

    by_cli = cli(server, "start", "--json", face=face)
    assert by_cli.code == 0, by_cli
    assert [e for e in by_cli.events() if e["kind"] == "action"] == []
    assert by_cli.events()[-1]["kind"] == "done"
    assert snapshot(server) == before


# -- 3: --dry-run acts on nothing ---------------------------------------------------------------------


def test_dry_run_start_and_stop_act_on_nothing(server, face: str) -> None:  # type: ignore[no-untyped-def]
    clock = server.proxy("/cluster1/simulation").getClock()["now"]
    before = snapshot(server)
    planned = cli(server, "start", "--dry-run", "--json", face=face)
    assert planned.code == 0, planned
    events = planned.events()
    assert [e for e in events if e["kind"] == "action"] == []
    plans = {e["phase"]: e["message"] for e in events if e["kind"] == "plan"}
    assert set(plans) == ({"nodes", "storage", "databases"} if face == EXA else {"nodes", "databases"})
    assert all(n in plans["nodes"] for n in NODES) and DB in plans["databases"]
    methods = {e["data"]["method"] for e in events if e["kind"] == "plan"}
    assert methods == ({"startupNode", "startEXAStorage", "startDatabase"} if face == EXA
                       else {"infra_instances_start", "db_start"})  # fmt: skip
    assert snapshot(server) == before
    assert server.proxy("/cluster1/simulation").getClock()["now"] == clock  # nothing waited either

    start(server, face)
    before = snapshot(server)
    planned = cli(server, "stop", "--dry-run", "--json", face=face)
    assert planned.code == 0, planned
    events = planned.events()
    assert [e for e in events if e["kind"] == "action"] == []
    plans = {e["phase"]: e["message"] for e in events if e["kind"] == "plan"}
    expected = {"stop_databases", "stop_storage", "stop_nodes", "license_servers"}
    assert set(plans) == (expected if face == EXA else {"stop_databases", "stop_nodes"})
    assert server.proc.poll() is None  # EXAoperation still runs
    assert snapshot(server) == before


# -- 4: a node that never finishes booting ------------------------------------------------------------


def test_boot_hang_times_out_naming_the_node_then_ignore_nodes_completes(server) -> None:  # type: ignore[no-untyped-def]
    server.proxy("/cluster1/simulation").injectFault("n0012", "boot_hang")
    t0 = time.monotonic()
    failed = cli(server, "start", "--timeout", "20m")
    assert failed.code == 5, failed
    assert "nodes: timed out after 20m00s waiting for nodes to come online" in failed.err
    assert "last seen: nodes online 3/4; waiting for n0012 Booting for 20m00s" in failed.err, failed.err  # asked
    assert time.monotonic() - t0 < 30  # twenty simulated minutes, not real ones
    state = snapshot(server)
    assert state["nodes"]["n0012"] == "Booting"
    assert state["services"]["Storaged"] == "not running"  # it stopped at the nodes phase

    done = cli(server, "start", "--timeout", "20m", "--ignore-nodes", "n0012", "--json")
    assert done.code == 0, done
    events = done.events()
    actions = [e["message"] for e in events if e["kind"] == "action"]
    assert "startEXAStorage ignoring n0012" in actions
    assert not any(a.startswith("startupNode") for a in actions)  # nothing done twice
    assert any(e["kind"] == "warning" and "n0012" in e["message"] for e in events)
    nodes = server.proxy(f"/cluster1/db_{DB}").getDatabaseNodes()
    assert "n0012" not in nodes["active"] and "n0014" in nodes["active"]  # the reserve node stepped in
    assert snapshot(server)["db"] == ("running", "None", "Yes")

    # the hung node blocks a plain stop; --force powers it off
    refused = cli(server, "stop")
    assert refused.code == 4, refused
    assert "n0012 still booting" in refused.err and "--force" in refused.err
    assert snapshot(server)["db"] == ("running", "None", "Yes")  # refused before anything was stopped
    forced = cli(server, "stop", "--force", "--json")
    assert forced.code == 0, forced
    assert "poweroffNode n0012" in [e["message"] for e in forced.events() if e["kind"] == "action"]
    assert server.wait_exit() == 0


# -- 5: a database that fails to start ----------------------------------------------------------------


def test_database_start_fail_reports_the_servers_reason(server, face: str) -> None:  # type: ignore[no-untyped-def]
    server.proxy("/cluster1/simulation").injectFault(DB, "start_fail")
    failed = cli(server, "start", face=face)
    assert failed.code == 6, failed
    reason = server.proxy(f"/cluster1/db_{DB}").getCurrentErrors()
    assert reason and "injected fault start_fail" in reason[0]
    assert f"databases: {DB} failed to start: {reason[0]}" in " ".join(failed.err.split())
    assert snapshot(server)["db"][0] == "setup"


def test_power_fail_names_the_node_and_a_second_start_continues(server) -> None:  # type: ignore[no-untyped-def]
    server.proxy("/cluster1/simulation").injectFault("n0013", "power_fail")
    failed = cli(server, "start")
    assert failed.code == 6, failed
    assert "startupNode failed for n0013" in failed.err and "power_fail" in failed.err
    assert snapshot(server)["nodes"]["n0011"] == "Booting"  # the others were started all the same

    server.proxy("/cluster1/simulation").clearFaults()
    again = cli(server, "start", "--json")
    assert again.code == 0, again
    actions = [e["message"] for e in again.events() if e["kind"] == "action"]
    assert actions == ["startupNode n0013", "startEXAStorage", f"startDatabase {DB}"]


# -- 6: a backup in progress ----------------------------------------------------------------------------


def test_busy_database_makes_stop_refuse_unless_forced(server, face: str) -> None:  # type: ignore[no-untyped-def]
    start(server, face)
    assert server.proxy(f"/cluster1/db_{DB}").backupDatabase("v0001", 0, "1w") == "OK"
    before = snapshot(server)
    assert before["db"] == ("running", "Backup", "Yes")

    refused = cli(server, "stop", face=face)
    assert refused.code == 4, refused
    assert f"database {DB} is busy with operation Backup" in refused.err
    assert "--force" in refused.err
    assert snapshot(server) == before  # refused before acting on anything

    forced = cli(server, "stop", "--force", "--json", face=face)
    assert forced.code == 0, forced
    actions = [e["message"] for e in forced.events() if e["kind"] == "action"]
    assert f"{WORDS[face]['force_stop_db']} {DB}" in actions
    if face == EXA:
        assert server.wait_exit() == 0
    else:
        assert snapshot(server)["db"] == ("setup", "None", "No")


# -- 7: the master on another node ------------------------------------------------------------------


def test_master_elsewhere_makes_stop_refuse_and_move_master_fixes_it(server) -> None:  # type: ignore[no-untyped-def]
    start(server)
    assert server.proxy().restartEXAoperation("n0011") == "OK"
    with pytest.raises(ProtocolError) as restarting:  # EXAoperation is away while it restarts...
        server.proxy().getEXAoperationMaster()
    assert restarting.value.errcode == 503
    # stop waits for EXAoperation to answer again (its sleeps move the manual clock), then refuses
    refused = cli(server, "stop")
    assert refused.code == 4, refused
    assert "EXAoperation is not answering since" in refused.out and "503" in refused.out
    assert "EXAoperation answers again" in refused.out
    assert "master runs on n0011, not on the license server n0010" in refused.err
    assert "--move-master" in refused.err
    before = snapshot(server)
    assert before["master"] == "n0011"
    assert before["db"] == ("running", "None", "Yes")  # refused before acting on anything
    assert set(before["nodes"].values()) == {"Running"}

    moved = cli(server, "stop", "--move-master", "--json")
    assert moved.code == 0, moved
    events = moved.events()
    assert "restartEXAoperation n0010" in [e["message"] for e in events if e["kind"] == "action"]
    master_end = next(e for e in events if e["kind"] == "phase_end" and e["phase"] == "master")
    assert master_end["message"] == "master moved from n0011 to n0010"
    assert server.wait_exit() == 0


# -- 8: the server killed in the middle of a start ------------------------------------------------------


@pytest.mark.parametrize("when", ["databases phase starts", "database start sent"])
def test_server_killed_mid_start_the_tool_reconnects_and_finishes(server, when: str, face: str) -> None:  # type: ignore[no-untyped-def]
    events: list[Event] = []

    def on_event(e: Event) -> None:
        events.append(e)
        if e.phase == "databases" and e.kind == ("phase_start" if when.startswith("databases") else "action"):
            away.kill_now()

    c = client(server, face=face)
    with Restarter(server) as away:
        summary = start_cluster(backend(c, face), options(server, face), sim_clock(server), on_event)
        assert away.restarted()
    assert summary.ok, summary.error
    # sent once, not again after the restart; a send that met the dead server's connection (a worker
    # thread's kept-alive one) got no answer, and only then is it sent again: the database started once
    sent = c.called(WORDS[face]["start_db"])
    unanswered = [e for e in events if e.kind == "warning" and "no answer to" in e.message]
    assert sent == ([f"/db_{DB}"] if face == EXA else [""]) or (len(sent) == 2 and unanswered), (sent, events)
    entries = server.proxy("/cluster1/logservice1").logEntries()[2]
    assert sum(f"Database {DB} is starting" in e["message"] for e in entries) == 1
    assert snapshot(server)["db"] == ("running", "None", "Yes")
    assert [e.phase for e in events if e.kind == "phase_end"] == ["reachable", "nodes", "storage", "databases",
                                                                  "plugins"]  # fmt: skip


def test_start_waits_for_exaoperation_to_answer(server) -> None:  # type: ignore[no-untyped-def]
    clock = sim_clock(server)
    events: list[Event] = []
    with Restarter(server, delay=0.5) as away:
        away.kill_now()  # the license server is still booting when the start begins
        summary = start_cluster(client(server), options(server), clock, events.append)
    assert summary.ok, summary.error
    outage = [e for e in events if e.kind == "outage" and e.phase == "reachable"]
    assert 1 <= len(outage) - 1 <= 3  # said when the reason changes, not on every poll
    assert [e.data["over"] for e in outage] == [False] * (len(outage) - 1) + [True]
    assert outage[0].message.startswith(f"EXAoperation is not answering since {outage[0].data['since']} (")
    assert snapshot(server)["db"] == ("running", "None", "Yes")


class KillingClient(RecordingClient):
    """Kills the server just before the first call of ``method`` goes out (the Restarter
    starts it again a little later): that call never reaches the server."""

    def __init__(self, srv: ServerProcess, method: str, away: Restarter) -> None:
        super().__init__(srv.url, "admin", ADMIN_PASSWORD, ca_file=ca_file(srv))
        self.method, self.away = method, away

    def call(self, path: str, method: str, *args: Any, **kw: Any) -> Any:
        if method == self.method:
            self.away.kill_now()
        return super().call(path, method, *args, **kw)


@pytest.mark.parametrize("method", ["startupNode", "startEXAStorage", "startDatabase"])
def test_server_killed_as_an_action_goes_out_the_tool_observes_and_sends_it_again(server, method: str) -> None:  # type: ignore[no-untyped-def]
    events: list[Event] = []
    with Restarter(server) as away:
        summary = start_cluster(KillingClient(server, method, away), options(server), sim_clock(server), events.append)
        assert away.restarted()
    assert summary.ok, summary.error
    assert any(e.kind == "warning" and f"no answer to {method}" in e.message for e in events)
    assert snapshot(server)["db"] == ("running", "None", "Yes")
    # sent again where it had not arrived; nothing was done twice
    entries = server.proxy("/cluster1/logservice1").logEntries()[2]
    for started in ("is booting", "EXAStorage is starting", f"Database {DB} is starting"):
        counts = Counter(e["node"] + e["message"] for e in entries if started in e["message"])
        assert counts and set(counts.values()) == {1}, (started, entries)


@pytest.mark.parametrize("method", ["stopEXAStorage", "shutdownNode"])  # stopDatabase: as startDatabase
def test_server_killed_as_a_stop_action_goes_out_the_tool_observes_and_sends_it_again(server, method: str) -> None:  # type: ignore[no-untyped-def]
    start(server)
    events: list[Event] = []
    with Restarter(server) as away:
        summary = stop_cluster(KillingClient(server, method, away), options(server), sim_clock(server), events.append)
        assert away.restarted() or server.proc.poll() == 0  # back, or already halted by the stop
    assert summary.ok, summary.error
    assert any(e.kind == "warning" and f"no answer to {method}" in e.message for e in events)
    assert server.wait_exit() == 0


# -- 9: a wrong password -----------------------------------------------------------------------------


@pytest.mark.parametrize("clock", ["simulated", "real"])
def test_wrong_password_exits_3_and_prints_no_secret(server, clock: str, face: str) -> None:  # type: ignore[no-untyped-def]
    secret = "Wr0ng-Pa55word-xyzzy"
    for action in ("start", "status"):
        done = cli(server, action, password=secret, simulated=clock == "simulated", face=face)
        assert done.code == 3, done
        assert "wrong user or password" in done.err
        assert secret not in done.out and secret not in done.err
        assert ADMIN_PASSWORD not in done.out + done.err
        assert "Traceback" not in done.err
    assert snapshot(server)["nodes"]["n0011"] == "Powered off"


# -- 10: the 4.2 dialect ------------------------------------------------------------------------------


def test_dialect_42_start_status_stop(server_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    default = Path(exaop.__file__).parent / "profiles" / "default.toml"
    profile = tmp_path / "old.toml"
    text = default.read_text()
    assert 'dialect = "6"' in text
    profile.write_text(text.replace('dialect = "6"', 'dialect = "4.2"'))
    srv = server_factory(extra=["--profile", str(profile)])
    assert "getEXAoperationMaster" not in srv.proxy().listMethods()

    up = start(srv)
    assert up.client.called("getCurrentLicenseServer") and not up.client.called("getEXAoperationMaster")
    assert up.summary.phases[0].outcome.startswith("EXAoperation 4.2 answers; master on n0010")

    status = cli(srv, "status", "--json")
    assert status.code == 0, status
    doc = json.loads(status.out)
    assert doc["dialect"] == "4.2" and doc["master"] == "n0010"
    assert doc["nodes"] == {n: "Running" for n in NODES}
    assert doc["databases"][0]["state"] == "running" and doc["databases"][0]["connectible"] is True

    down = stop(srv)
    assert down.summary.ok, down.summary.error
    assert down.client.called("getCurrentLicenseServer") and not down.client.called("getEXAoperationMaster")
    assert srv.wait_exit() == 0
