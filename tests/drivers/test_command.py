"""The command hook: a group's own programs, run without a shell."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest

from exaop.engine.drivers import DriverError, SettingsError
from exaop.engine.drivers.command import CommandDriver, CommandSettings
from tests.drivers.emulators import FAST

# a machine per node: its power is the file <dir>/<node>; every call is logged in <dir>/calls
POWER = r"""#!/bin/sh
dir=$(dirname "$0"); verb=$1; node=$2; address=$3
printf '%s|%s|%s|%s\n' "$verb" "$node" "$address" "$EXAOP_NODE" >> "$dir/calls"
case $verb in
on) echo on > "$dir/$node"; echo "started $node" ;;
off) echo off > "$dir/$node"; echo "stopped $node" ;;
status) if [ "$(cat "$dir/$node" 2>/dev/null)" = on ]; then echo "running"; else echo "stopped"; fi ;;
fail) echo "quota exceeded for $node" >&2; exit 3 ;;
slow) sleep 5 ;;
flaky) if [ -e "$dir/flaked" ]; then echo on > "$dir/$node"; else touch "$dir/flaked"; exit 75; fi ;;
esac
"""


def hook(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    script = tmp_path / "power.sh"
    script.write_text(POWER)
    script.chmod(0o755)
    return {
        "on": f"{script} on {{node}} {{address}}",
        "off": f"{script} off {{node}} {{address}}",
        "status": f"{script} status {{node}} {{address}}",
        "on_pattern": "running",
        "off_pattern": "stopped",
        "nodes": {"n0011": {"address": "10.0.0.11"}, "n0012": {"address": "10.0.0.12"}},
        **FAST,
        **overrides,
    }


def calls(tmp_path: Path) -> list[list[str]]:
    path = tmp_path / "calls"
    return [line.split("|") for line in path.read_text().splitlines()] if path.exists() else []


def test_on_shutdown_off_with_placeholders_and_output_in_the_log(tmp_path, driver, log) -> None:
    d = driver("command", hook(tmp_path))
    assert d.read_power("n0011") == "off"
    assert d.begin("n0011", "on").result(timeout=10).state == "on"
    assert (tmp_path / "n0011").read_text() == "on\n" and not (tmp_path / "n0012").exists()
    assert ["on", "n0011", "10.0.0.11", "n0011"] in calls(tmp_path)
    assert log.has("Notice", f"n0011: `{tmp_path}/power.sh on n0011 10.0.0.11` exited 0: started n0011")
    shutdown = d.begin("n0011", "shutdown").result(timeout=10)  # no shutdown command: off serves
    assert (shutdown.outcome, shutdown.state) == ("done", "off")
    with pytest.raises(DriverError, match="no reset command is configured"):
        d.begin("n0011", "reset").result(timeout=10)


def test_placeholders_never_reach_a_shell(tmp_path, driver) -> None:
    evil = "10.0.0.11; touch pwned $(touch pwned2)"
    d = driver("command", hook(tmp_path, nodes={"n0011": {"address": evil}}))
    d.begin("n0011", "on").result(timeout=10)
    assert ["on", "n0011", evil, "n0011"] in calls(tmp_path)  # one argument, as it was
    assert not list(Path.cwd().glob("pwned*")) and not list(tmp_path.glob("pwned*"))


def test_a_failing_command_says_its_exit_code_and_output(tmp_path, driver, log) -> None:
    d = driver("command", hook(tmp_path, on=f"{tmp_path}/power.sh fail {{node}}"))
    with pytest.raises(
        DriverError,
        match=r"power on of n0011 failed at BMC 10\.0\.0\.11: `.*power\.sh fail n0011` "
        r"exited 3: quota exceeded for n0011$",
    ):
        d.begin("n0011", "on").result(timeout=10)
    assert log.has("Notice", "exited 3: quota exceeded for n0011")
    assert [c[0] for c in calls(tmp_path)].count("fail") == 1  # not transient: not retried


def test_a_hanging_command_is_killed_at_its_timeout(tmp_path, driver) -> None:
    d = driver("command", hook(tmp_path, on=f"{tmp_path}/power.sh slow {{node}}", call_timeout=0.3, retries=0))
    start = time.monotonic()
    with pytest.raises(DriverError, match=r"did not finish within 0\.3 s \(killed\)"):
        d.begin("n0011", "on").result(timeout=10)
    assert time.monotonic() - start < 2


def test_exit_75_is_transient_and_retried(tmp_path, driver) -> None:
    d = driver("command", hook(tmp_path, on=f"{tmp_path}/power.sh flaky {{node}}"))
    result = d.begin("n0011", "on").result(timeout=10)
    assert (result.state, result.requests) == ("on", 1)
    assert [c[0] for c in calls(tmp_path)].count("flaky") == 2


def test_status_must_match_exactly_one_pattern(tmp_path, driver) -> None:
    d = driver("command", hook(tmp_path, status="echo on and off", on_pattern="on", off_pattern="off"))
    with pytest.raises(DriverError, match="status output matches both of on_pattern and off_pattern"):
        d.read_power("n0011")
    assert d.power_state("n0011") == "unknown"
    plain = driver("command", hook(tmp_path, status="echo Power is ON", on_pattern=r"\bon\b", off_pattern=r"\boff\b"))
    assert plain.read_power("n0011") == "on"  # case-insensitive


def test_a_new_action_supersedes_the_one_under_way(tmp_path, driver) -> None:
    d = driver("command", hook(tmp_path, off="true", power_deadline=30.0))  # 'off' that does nothing
    d.begin("n0011", "on").result(timeout=10)
    off = d.begin("n0011", "off")
    assert d.begin("n0011", "off") is off  # the same action again: the job under way
    on = d.begin("n0011", "on")
    assert off.result(timeout=5).outcome == "superseded"
    assert on.result(timeout=5).outcome in ("already", "done")


def test_parallel_requests_are_bounded_per_driver_type(tmp_path, log) -> None:
    class Narrow(CommandDriver):
        parallel_limit = 2

    stamp = tmp_path / "stamp.py"
    stamp.write_text(
        "import sys, time\nopen(sys.argv[1], 'a').write(f'{time.time()} +\\n')\ntime.sleep(0.3)\n"
        "open(sys.argv[1], 'a').write(f'{time.time()} -\\n')\n"
    )
    nodes = {f"n{i:04d}": {} for i in range(11, 17)}
    settings = hook(
        tmp_path, on=f"{sys.executable} {stamp} {tmp_path}/stamps", off="true", status="echo running", nodes=nodes
    )
    d = Narrow(CommandSettings.from_dict(settings), log)
    d2 = Narrow(CommandSettings.from_dict(settings), log)  # another group of the same type shares the bound
    try:
        futures = [drv.in_background(drv._call, n, "power on", drv._on) for n in nodes for drv in (d, d2)]
        for f in futures:
            f.result(timeout=30)
    finally:
        d.close()
        d2.close()
    events = sorted((float(t), s) for t, s in (line.split() for line in (tmp_path / "stamps").read_text().splitlines()))
    running = peak = 0
    for _t, sign in events:
        running += 1 if sign == "+" else -1
        peak = max(peak, running)
    assert len(events) == 24 and peak == 2


def test_settings_errors_name_the_field(tmp_path) -> None:
    good = hook(tmp_path)
    cases = {
        "on: program 'no-such-program' not found": {"on": "no-such-program {node}"},
        "off: cannot be split into arguments: No closing quotation": {"off": "echo 'oops"},
        "status: required": {"status": None},
        "unknown field 'stauts'": {"stauts": "x"},
        "call_timeout: must be more than 0": {"call_timeout": 0},
        "retries: must be an integer, not '2'": {"retries": "2"},
        "nodes.n0011.port: must be from 1 to 65535": {"nodes": {"n0011": {"port": 70000}}},
        "nodes.n0011: unknown field 'adress'": {"nodes": {"n0011": {"adress": "x"}}},
        "on_pattern: not a regular expression": {"on_pattern": "("},
        "nodes.n0011.address: required": {"nodes": {"n0011": {}}},  # the commands use {address}
    }
    for message, change in cases.items():
        data = {**good, **change}
        data = {k: v for k, v in data.items() if v is not None}
        with pytest.raises(SettingsError, match=f"^command settings: {message}".replace("(", r"\(")):
            CommandSettings.from_dict(data)
