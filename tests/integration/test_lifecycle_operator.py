"""Issue 8: the lifecycle tool as an operator lives with it: signals, heartbeats, what a wait
says, two runs at once, status for monitors, the log, pipes.

The servers run on a manual clock the tests move (simulation.advanceClock); a tool that
must wait for real (signals, heartbeats) runs on a real clock against it and nothing
moves until the test says so. Tests wait for what a run prints, never for time to pass.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from collections import Counter
from datetime import datetime

import pytest

from tests.integration.lifecycle_kit import DB, NODES, LiveCli, advance, cli, seen, snapshot, start
from tests.serverproc import ServerProcess


def heartbeats(events: list[dict]) -> list[dict]:
    return [e for e in events if e["kind"] == "progress" and not e["data"]["news"]]


def assert_ended_by(events: list[dict], code: int) -> None:
    """Exactly one done, last, carrying the exit code; the error before it says why."""
    assert [e["kind"] for e in events].count("done") == 1
    assert events[-1]["kind"] == "done" and events[-1]["data"]["exit_code"] == code, events[-3:]
    assert events[-2]["kind"] == "error" and events[-2]["data"]["exit_code"] == code


# -- signals ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_a_wait_cleanly_with_a_final_event(server, signum: int, code: int) -> None:  # type: ignore[no-untyped-def]
    with LiveCli(server, "start", "--json", "--heartbeat", "0.3s") as run:
        # nothing moves on the server's clock: the boots never finish, the wait beats instead
        run.wait_for(lambda events: len(heartbeats(events)) >= 3)
        run.send(signum)
        done = run.finish(timeout=15)
    assert done.code == code, done
    events = done.events()
    assert_ended_by(events, code)
    name = signal.Signals(signum).name
    assert events[-2]["message"] == f"interrupted by {name}" and events[-2]["data"]["reason"] == "interrupted"
    assert [e for e in events if e["kind"] == "phase_end"][-1]["data"]["ok"] is False
    assert done.err.strip() == f"exaop cluster start: interrupted by {name}"  # no traceback
    beats = heartbeats(events)
    assert all("n0011 Booting for" in e["message"] for e in beats)  # what it waits for, as last asked
    times = [datetime.fromisoformat(e["time"]) for e in events if e["phase"] == "nodes"]
    assert max((b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)) < 2.5  # it kept talking


def test_plain_output_beats_too_and_ends_with_the_reason(server) -> None:  # type: ignore[no-untyped-def]
    with LiveCli(server, "start", "--heartbeat", "0.3s") as run:
        run.wait_for(lambda _: sum("waiting for n0011 Booting for" in line for line in run.out) >= 3)
        run.send(signal.SIGTERM)
        done = run.finish(timeout=15)
    assert done.code == 143, done
    assert "] nodes: failed after " in done.out
    assert "] error: interrupted by SIGTERM\n" in done.out
    assert "] stopped: start stopped (interrupted); exit code 143\n" in done.out
    assert "start: stopped" in done.out  # the summary's title
    assert done.err.strip() == "exaop cluster start: interrupted by SIGTERM"


def test_sigterm_while_a_long_call_is_out_ends_the_run_at_once(server) -> None:  # type: ignore[no-untyped-def]
    with LiveCli(server, "start", "--json") as run:
        run.wait_for(seen("progress", "nodes"))
        advance(server, 330)  # the boots end; startEXAStorage then waits for a clock that stands still
        run.wait_for(seen("action", "storage", method="startEXAStorage"))
        run.send(signal.SIGTERM)
        done = run.finish(timeout=15)  # its call's own timeout is ten minutes
    assert done.code == 143, done
    assert_ended_by(done.events(), 143)
    assert "Traceback" not in done.err


def test_status_watch_and_logs_follow_end_on_ctrl_c(server) -> None:  # type: ignore[no-untyped-def]
    with LiveCli(server, "status", "--json", "--watch", "0.1s") as watch:
        watch.wait_for(lambda _: len(watch.out) >= 2)
        watch.send(signal.SIGINT)
        done = watch.finish(timeout=15)
    assert done.code == 130, done
    docs = [json.loads(line) for line in done.out.splitlines()]
    assert len(docs) >= 2 and {d["health"] for d in docs} == {"down"}
    assert done.err.strip() == "exaop cluster status: interrupted by SIGINT"

    with LiveCli(server, "logs", "--follow", "--json") as follow:
        follow.wait_for(lambda _: len(follow.out) >= 1)  # the log as it is
        server.proxy().startupNode("n0011")
        follow.wait_for(lambda _: any("n0011" in line and "boot" in line.lower() for line in follow.out))
        follow.send(signal.SIGINT)
        done = follow.finish(timeout=15)
    assert done.code == 130, done
    assert done.err.strip() == "exaop cluster logs: interrupted by SIGINT"


# -- what a wait says --------------------------------------------------------------------------------


def test_live_progress_shows_states_asked_after_the_action_with_their_time(server) -> None:  # type: ignore[no-untyped-def]
    server.proxy("/cluster1/simulation").injectFault("n0012", "boot_hang")
    done = cli(server, "start", "--timeout", "20m")  # plain lines
    assert done.code == 5, done
    lines = done.out.splitlines()
    acted = next(i for i, line in enumerate(lines) if "action: startupNode" in line)
    after = "\n".join(lines[acted:])
    assert "Powered off" not in after  # the look before startupNode never shows again
    assert re.search(r"nodes online 0/4; waiting for n0011 Booting for \d+s, n0012 Booting for \d+s", after)
    assert "nodes: failed after" in after
    assert "last seen: nodes online 3/4; waiting for n0012 Booting for 20m00s" in done.err


# -- two runs at once -----------------------------------------------------------------------------------


def test_two_starts_and_a_status_at_once_all_end_correctly(server) -> None:  # type: ignore[no-untyped-def]
    runs = [LiveCli(server, "start", "--json", "--clock-speed", "5") for _ in range(2)]
    try:
        for run in runs:  # both are waiting for the boots (one of them, or both, sent startupNode)
            run.wait_for(seen("progress", "nodes"))
        advance(server, 330)
        for run in runs:  # both sent startEXAStorage; one is refused: it is already starting
            run.wait_for(seen("action", "storage", method="startEXAStorage"))
        runs[0].wait_for(lambda _: any(seen("warning", "storage")(run.events()) for run in runs))
        during = cli(server, "status", "--json")
        assert during.code == 9, during  # down while storage starts: and it says so, in JSON
        assert json.loads(during.out)["health"] == "down"
        advance(server, 120)
        for run in runs:
            run.wait_for(seen("progress", "databases"))
        advance(server, 300)
        results = [run.finish(timeout=60) for run in runs]
    finally:
        for run in runs:
            run.__exit__()
    for done in results:
        assert done.code == 0, done
        last = done.events()[-1]
        assert last["kind"] == "done" and last["data"]["exit_code"] == 0
    already = [e for done in results for e in done.events() if e["kind"] == "warning"]
    assert any("startEXAStorage was refused (UsageError: EXAStorage is already starting)" in e["message"]
               for e in already), already  # fmt: skip
    assert snapshot(server)["db"] == ("running", "None", "Yes")
    entries = server.proxy("/cluster1/logservice1").logEntries()[2]
    for started in ("is booting", "EXAStorage is starting", f"Database {DB} is starting"):
        counts = Counter(e["node"] + e["message"] for e in entries if started in e["message"])
        assert counts and set(counts.values()) == {1}, (started, counts)  # nothing done twice


# -- status for monitors ------------------------------------------------------------------------------


def test_status_exit_codes_say_healthy_degraded_down(server) -> None:  # type: ignore[no-untyped-def]
    assert cli(server, "status").code == 9  # down: nothing runs
    start(server, ignore_nodes=["n0012"])  # a node left out: the reserve node steps in
    degraded = cli(server, "status", "--json")
    assert degraded.code == 8, degraded
    doc = json.loads(degraded.out)
    assert doc["health"] == "degraded" and doc["problems"] == ["node n0012 is Powered off"]
    assert doc["databases"][0]["connectible"] is True and doc["databases"][0]["operation"] is None
    start(server)
    healthy = cli(server, "status", "--json")
    assert healthy.code == 0, healthy
    assert json.loads(healthy.out)["health"] == "healthy" and json.loads(healthy.out)["problems"] == []


# -- the log ---------------------------------------------------------------------------------------------


def test_logs_read_through_a_tag_with_priority_and_since(server) -> None:  # type: ignore[no-untyped-def]
    server.proxy("/cluster1/simulation").injectFault(DB, "start_fail")
    assert cli(server, "start").code == 6
    everything = cli(server, "logs", "--json")
    assert everything.code == 0, everything
    entries = [json.loads(line) for line in everything.out.splitlines()]
    assert entries == server.proxy("/cluster1/logservice1").logEntries()[2]  # all of it, in order
    errors = cli(server, "logs", "--priority", "err", "--json")
    assert [json.loads(line)["priority"] for line in errors.out.splitlines()] == ["Error"]
    plain = cli(server, "logs", "--priority", "Error")
    assert plain.code == 0 and f"Error       {DB}" in plain.out and "injected fault start_fail" in plain.out
    recent = cli(server, "logs", "--since", "3m", "--json")  # the database's start: the last 100-odd seconds
    times = [json.loads(line)["strtime"] for line in recent.out.splitlines()]
    assert times and len(times) < len(entries) and times == [e["strtime"] for e in entries[-len(times) :]]
    later = cli(server, "logs", "--since", "2100-01-01")
    assert later.code == 0 and later.out == ""
    for args, message in ((["--priority", "loud"], "'loud' is not a priority"),
                          (["--service", "nosuch"], "no log service 'nosuch' (there are: logservice1)"),
                          (["--since", "yesterday"], "--since")):  # fmt: skip
        bad = cli(server, "logs", *args)
        assert bad.code == 2 and message in bad.err, bad


# -- pipes and dry runs -------------------------------------------------------------------------------------


def closed_pipe_run(srv: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    """Run with stdout a pipe nobody reads any more (`| head -1` once head has left)."""
    from tests.integration.lifecycle_kit import _command

    cmd, env = _command(srv, args, "admin-secret", simulated=True, env=None)
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(cmd, stdout=write, stderr=subprocess.PIPE, text=True, env=env, timeout=120)
    finally:
        os.close(write)


def test_a_reader_that_leaves_is_no_error(server) -> None:  # type: ignore[no-untyped-def]
    status = closed_pipe_run(server, "status")
    assert (status.returncode, status.stderr) == (9, "")  # its health, quietly
    logs = closed_pipe_run(server, "logs")
    assert (logs.returncode, logs.stderr) == (0, "")
    started = closed_pipe_run(server, "start", "--json")
    assert (started.returncode, started.stderr) == (0, "")  # a reader that left does not stop a start
    assert snapshot(server)["db"] == ("running", "None", "Yes")
    with LiveCli(server, "status", "--json", "--watch", "0.1s") as watch:  # | head -1
        watch.wait_for(lambda _: len(watch.out) >= 1)
        assert watch.proc.stdout is not None
        watch.proc.stdout.close()
        code = watch.proc.wait(15)
    assert code == 0 and watch.err == []


def test_dry_run_says_plan_and_never_done(server) -> None:  # type: ignore[no-untyped-def]
    for action in ("start", "stop"):
        planned = cli(server, action, "--dry-run")
        assert planned.code == 0, planned
        assert not re.search(r"\bdone\b", planned.out, re.IGNORECASE), planned.out
        assert f"plan: {action}: plan ready; nothing was changed" in planned.out
        assert f"{action}: plan" in planned.out  # the summary's title
    assert snapshot(server)["nodes"] == {"n0010": "Running", **dict.fromkeys(NODES, "Powered off")}
