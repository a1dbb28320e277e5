"""kill -9 during bursts of power operations: after each restart every node's state agrees
with its machine's power, and the server had nothing to repair (one transaction saved both).

A real `exaop serve` on a manual clock; threads call startupNode/shutdownNode/poweroffNode
on every database node while another moves the clock so that boots and shutdowns finish,
and the process is killed while those calls are under way.
"""

from __future__ import annotations

import random
import sqlite3
import threading
from pathlib import Path
from xmlrpc.client import Fault

from tests.serverproc import ServerProcess

NODES = ["n0011", "n0012", "n0013", "n0014"]
POWERED = {"Booting": "on", "Running": "on", "Shutting down": "on", "Powered off": "off", "Crashed": "off"}
KILLS = 4
CALLS_BEFORE_KILL = 60  # calls answered in a round before the kill (the kill lands among more in flight)


class Round:
    def __init__(self) -> None:
        self.stop = threading.Event()
        self.enough = threading.Event()  # CALLS_BEFORE_KILL calls were answered
        self.answered = 0
        self._lock = threading.Lock()

    def count(self) -> None:
        with self._lock:
            self.answered += 1
            if self.answered >= CALLS_BEFORE_KILL:
                self.enough.set()


def burst(srv: ServerProcess, node: str | None, r: Round, seed: int) -> None:
    """Until the round stops (or the server dies): power operations on ``node``, or clock moves if None."""
    rng = random.Random(seed)
    proxy = srv.proxy()
    clock = srv.proxy("/cluster1/simulation")
    while not r.stop.is_set():
        try:
            if node is None:
                clock.advanceClock(rng.choice([1, 30, 120, 250]))
            else:
                op = rng.choice(["startupNode", "startupNode", "shutdownNode", "poweroffNode"])
                getattr(proxy, op)(node)
        except Fault:
            pass  # refused in this state (already off, still booting...): the state is what counts
        except OSError:
            return  # killed
        except Exception:  # the connection dropped mid-answer (http.client's own errors)
            return
        r.count()


def test_kill9_during_power_bursts_leaves_states_and_power_agreeing(tmp_path: Path) -> None:
    state = tmp_path / "state"
    srv = ServerProcess(state).start()
    try:
        for round_ in range(KILLS):
            r = Round()
            threads = [
                threading.Thread(target=burst, args=(srv, n, r, round_ * 10 + i), daemon=True)
                for i, n in enumerate([*NODES, None])
            ]
            for t in threads:
                t.start()
            assert r.enough.wait(20), "the bursts made no progress"
            srv.kill9()  # calls of every thread are in flight now
            r.stop.set()
            for t in threads:
                t.join(10)

            srv = ServerProcess(state).start()
            c = srv.proxy()
            for n in ["n0010", *NODES]:
                st = c.getNodeState(n)
                assert POWERED[st["status"]] == st["power"], (round_, n, st)
            assert not any("repaired" in line for line in srv.output), srv.output
    finally:
        srv.stop()


def test_a_start_says_what_it_repaired_and_nothing_otherwise(tmp_path: Path) -> None:
    state = tmp_path / "state"
    srv = ServerProcess(state).start()
    assert srv.proxy().startupNode("n0012") == "OK"
    srv.proxy("/cluster1/simulation").advanceClock(300)
    srv.stop()
    assert not [line for line in srv.output if "note:" in line or "repaired" in line]  # nothing to repair
    conn = sqlite3.connect(state / "exaop.sqlite")
    with conn:  # the machine lost its power while the control plane was down
        conn.execute("UPDATE sim_hardware SET powered=0 WHERE node='n0012'")
    conn.close()

    srv = ServerProcess(state).start()
    try:
        repaired = [line for line in srv.output if "repaired" in line]
        assert repaired == ["exaop serve: note: repaired: n0012 was running but is powered off: it is off now"]
        assert srv.proxy().getNodeState("n0012")["status"] == "Powered off"
        entries = srv.proxy("/cluster1/logservice1").logEntries()[2]
        assert any(e["priority"] == "Warning" and e["message"] == repaired[0].split("repaired: ")[1] for e in entries)
    finally:
        srv.stop()
