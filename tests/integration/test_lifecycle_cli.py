"""`exaop cluster` as a user meets it: help, exit codes, --json, status, startstop.cfg, `exaop demo`."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from exaop.ops.errors import EXIT_CODES
from exaop.ops.events import KINDS, SCHEMA
from tests.integration.lifecycle_kit import DB, NODES, ca_file, cli, snapshot
from tests.serverproc import ADMIN_PASSWORD


@pytest.mark.parametrize("args", [["--help"], ["start", "--help"], ["stop", "--help"], ["status", "--help"]])
def test_help_lists_the_exit_codes(args: list[str]) -> None:
    done = cli(None, *args)
    assert done.code == 0, done
    assert "exit codes:" in done.out
    for code, text in EXIT_CODES.items():
        assert f"  {code}  {text}\n" in done.out
    # done, usage, authentication, refused, timeout, server fault, unreachable, degraded, down, signals: distinct
    assert set(EXIT_CODES) == {0, 2, 3, 4, 5, 6, 7, 8, 9, 130, 143}


def test_start_json_is_one_event_object_per_line(server) -> None:  # type: ignore[no-untyped-def]
    done = cli(server, "start", "--json")
    assert done.code == 0, done
    lines = done.out.splitlines()
    events = [json.loads(line) for line in lines]
    assert all(set(e) == {"kind", "time", "procedure", "phase", "message", "data", "wall", "clock"} for e in events)
    assert all(set(e["data"]) == set(SCHEMA[e["kind"]]) for e in events)  # one schema per kind
    assert {e["procedure"] for e in events} == {"start"}
    times = [datetime.fromisoformat(e["time"]) for e in events]  # ISO 8601, UTC
    assert all(e["time"].endswith("Z") and t.utcoffset() == timedelta(0) for e, t in zip(events, times, strict=True))
    assert times == sorted(times) and abs(datetime.now(UTC) - times[-1]) < timedelta(minutes=1)
    kinds = {e["kind"] for e in events}
    assert {"phase_start", "phase_end", "action", "observation", "progress", "connection", "done"} <= kinds
    assert kinds <= set(KINDS)
    starts = [e["phase"] for e in events if e["kind"] == "phase_start"]
    ends = [e["phase"] for e in events if e["kind"] == "phase_end"]
    assert starts == ends == ["reachable", "nodes", "storage", "databases", "plugins"]
    assert [e["kind"] for e in events].count("done") == 1
    assert events[-1]["kind"] == "done" and events[-1]["data"]["calls"] > 0
    assert events[-1]["data"]["exit_code"] == 0 and events[-1]["data"]["ok"] is True
    nodes = [e["data"] for e in events if e["kind"] == "action" and e["phase"] == "nodes"]
    assert sorted(d["target"] for d in nodes) == NODES and {d["method"] for d in nodes} == {"startupNode"}
    conn = [(e["data"]["database"], e["data"]["connection_string"]) for e in events if e["kind"] == "connection"]
    assert conn == [(DB, "10.50.1.11..13:8563")]
    progress = [e["data"] for e in events if e["kind"] == "progress" and e["phase"] == "nodes"]
    assert progress and all(p["total"] == len(NODES) for p in progress)
    states = {p["state"] for d in progress for p in d["pending"]}
    assert states == {"Booting"}  # asked after startupNode: never the 'Powered off' seen before it
    clocks = [e["clock"] for e in events]
    assert clocks == sorted(clocks) and clocks[-1] > 300  # simulated seconds: boots, storage, database
    assert done.err == ""


def test_status_json_is_one_document_and_plain_status_is_a_table(server) -> None:  # type: ignore[no-untyped-def]
    done = cli(server, "status", "--json")
    assert done.code == 9, done  # down: nothing runs
    doc = json.loads(done.out)  # the whole of stdout is one document
    assert doc["master"] == "n0010" and doc["dialect"] == "5+"
    assert doc["license_servers"] == {"n0010": "Running"}
    assert doc["nodes"] == {n: "Powered off" for n in NODES}
    assert doc["services"]["Storaged"] == "not running" and doc["storage_online"] is False
    assert doc["databases"] == [
        {"name": DB, "state": "setup", "operation": None, "connectible": False,
         "connection_string": "10.50.1.11..13:8563"},
    ]  # fmt: skip
    assert doc["health"] == "down"
    assert f"database {DB} is setup, not accepting connections" in doc["problems"]
    assert "Yes" not in done.out and '"No"' not in done.out and '"None"' not in done.out

    table = cli(server, "status")
    assert table.code == 9, table
    for word in ["master on n0010", *NODES, "Storaged", DB, "10.50.1.11..13:8563", "down"]:
        assert word in table.out, table.out


def test_startstop_cfg_is_read(server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "startstop.cfg"
    cfg.write_text(
        "[startstop]\n"
        "username = admin\n"
        f"password = {ADMIN_PASSWORD}\n"
        f"hostname = 127.0.0.1:{server.port}\n"
        "licenseServerNode = 10\n"
        "exaOperationTimeout = 600\n"
    )
    # no EXAOP_* in the environment: URL and credentials come from the file only
    done = cli(None, "status", "--json", "--config", str(cfg), "--ca-file", ca_file(server))
    assert done.code == 9, done  # down: a fresh cluster
    doc = json.loads(done.out)
    assert doc["url"] == f"https://127.0.0.1:{server.port}/cluster1"
    assert doc["license_servers"] == {"n0010": "Running"}

    started = cli(None, "start", "--config", str(cfg), "--ca-file", ca_file(server), "--simulated-clock")
    assert started.code == 0, started
    assert snapshot(server)["db"] == ("running", "None", "Yes")


def test_usage_errors_exit_2(server) -> None:  # type: ignore[no-untyped-def]
    no_url = cli(None, "status")
    assert no_url.code == 2, no_url
    assert "no EXAoperation URL" in no_url.err
    bad_timeout = cli(server, "start", "--timeout", "soon")
    assert bad_timeout.code == 2, bad_timeout
    assert "'soon' is not a duration" in bad_timeout.err
    unknown_node = cli(server, "start", "--ignore-nodes", "n0099")
    assert unknown_node.code == 2, unknown_node
    assert "--ignore-nodes: no database node is called n0099 (the database nodes are n0011, n0012, n0013, " \
           "n0014)" in unknown_node.err  # fmt: skip
    license_server = cli(server, "stop", "--ignore-nodes", "10,n0099", "--dry-run")
    assert license_server.code == 2, license_server
    assert "n0010 is the license server, not a database node; no database node is called n0099" \
           in license_server.err  # fmt: skip
    assert snapshot(server)["nodes"]["n0011"] == "Powered off"


def test_unreachable_exits_7() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nobody listens once closed
    t0 = time.monotonic()
    done = cli(None, "start", "--timeout", "1s", env={"EXAOP_URL": f"https://127.0.0.1:{port}/cluster1",
                                                       "EXAOP_USER": "admin", "EXAOP_PASSWORD": "x"})  # fmt: skip
    assert done.code == 7, done
    assert "reachable: EXAoperation has not answered since " in done.err
    assert "ConnectionRefusedError" in done.err and "gave up after 1s, at the deadline" in done.err
    assert "EXAoperation is not answering since" in done.out and "; retrying until " in done.out  # said at once
    assert time.monotonic() - t0 < 20


def test_demo_exits_0() -> None:
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "exaop.cli", "demo"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "demo finished in" in done.stdout
    assert "start: done" in done.stdout and "stop: done" in done.stdout
    assert time.monotonic() - t0 < 30


def test_toml_config_with_the_seeds_plugin_step(server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    toml = tmp_path / "exaop.toml"
    toml.write_text(
        f'url = "{server.url}"\nuser = "admin"\nca_file = "{ca_file(server)}"\n'
        '[timeouts]\nnodes = "20m"\n'
        '[[plugins]]\nname = "Administration.vmware-tools"\nrestart_on = ["n0010"]\n'
        'running_text = "vmtoolsd is running"\n'
    )
    # URL and CA from the file, the password from the environment only
    done = cli(
        None, "start", "--json", "--config", str(toml), "--simulated-clock", env={"EXAOP_PASSWORD": ADMIN_PASSWORD}
    )
    assert done.code == 0, done
    actions = [e["message"] for e in done.events() if e["kind"] == "action" and e["phase"] == "plugins"]
    plugin = "Administration.vmware-tools"
    assert actions[:2] == [f"{plugin} STOP on n0010: rc 0", f"{plugin} START on n0010: rc 0"]  # the seed's order
    assert sorted(actions[2:]) == [f"{plugin} START on {n}" for n in NODES]
    c = server.proxy()
    for node in ["n0010", *NODES]:
        assert "vmtoolsd is running" in c.callPlugin(plugin, node, "STATUS")[1]

    # a second start on the running cluster restarts nothing: the daemons already run
    again = cli(
        None, "start", "--json", "--config", str(toml), "--simulated-clock", env={"EXAOP_PASSWORD": ADMIN_PASSWORD}
    )
    assert again.code == 0, again
    assert [e for e in again.events() if e["kind"] == "action"] == []
