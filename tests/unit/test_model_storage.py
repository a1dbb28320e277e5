"""EXAStorage: start/stop rules, ignored nodes, losing nodes, and the Storaged service state."""

from __future__ import annotations

import pytest

from tests.unit.modelkit import Sim, refusal


def storaged(s: Sim) -> str:
    return dict(map(tuple, s.c.service_states()))["Storaged"]


def test_start_is_refused_naming_every_node_that_is_not_online() -> None:
    s = Sim()
    s.boot("n0011", "n0012")
    s.node("n0013").startup()
    reason = refusal(s.c.storage.start)
    assert reason == (
        "EXAStorage cannot start: node(s) not online: n0013 (booting), n0014 (powered off)."
        " Wait for them to boot, or pass them in ignored_nodes."
    )
    assert s.c.storage.state == "stopped"
    assert storaged(s) == "not running"


def test_start_then_online_after_the_storage_start_duration() -> None:
    s = Sim()
    s.boot()
    s.c.storage.start()
    assert s.c.storage.state == "starting" and not s.c.storage.online
    assert storaged(s) == "not running"
    assert "EXAStorage is starting on 4 nodes" in s.messages()
    s.advance(s.longest("storage_start") - 1)
    assert s.c.storage.state == "starting"
    s.advance(1)
    assert s.c.storage.online and storaged(s) == "OK"
    assert "EXAStorage is online" in s.messages()
    assert s.c.service_states() == [["Loggingd", "OK"], ["Lockd", "OK"], ["Storaged", "OK"], ["DWAd", "OK"]]
    assert s.c.storage.has_quorum()


def test_ignored_nodes_are_honoured() -> None:
    s = Sim()
    s.boot("n0011", "n0012", "n0013")
    s.storage_online(["n0014"])
    assert s.c.storage.ignored == ["n0014"]
    assert "EXAStorage is starting on 3 nodes (ignoring n0014)" in s.messages()
    # an ignored node may be started and shut down while EXAStorage runs
    s.boot("n0014")
    s.node("n0014").shutdown()
    s.settle("node_shutdown")
    assert s.c.storage.online
    # after a stop, the ignored list is forgotten
    s.c.storage.stop()
    s.settle("storage_stop")
    assert s.c.storage.ignored == []


def test_unknown_or_malformed_ignored_nodes_are_refused() -> None:
    s = Sim()
    s.boot()
    assert refusal(s.c.storage.start, ["n0099"]) == "unknown node(s) in ignored_nodes: n0099"
    assert refusal(s.c.storage.start, [11]) == "ignored_nodes must be a list of node names"
    assert s.c.storage.state == "stopped"


def test_ignoring_every_storage_node_is_refused() -> None:
    s = Sim()
    reason = refusal(s.c.storage.start, ["n0011", "n0012", "n0013", "n0014"])
    assert reason == "EXAStorage cannot start: no storage node would take part"


def test_start_refused_while_starting_running_or_stopping() -> None:
    s = Sim()
    s.boot()
    s.c.storage.start()
    assert refusal(s.c.storage.start) == "EXAStorage is already starting"
    s.settle("storage_start")
    assert refusal(s.c.storage.start) == "EXAStorage is already running"
    s.c.storage.stop()
    assert refusal(s.c.storage.start) == "EXAStorage is stopping; start it again once it has stopped"
    assert refusal(s.c.storage.stop) == "EXAStorage is already stopping"
    s.settle("storage_stop")
    assert s.c.storage.state == "stopped" and storaged(s) == "not running"
    assert "EXAStorage stopped" in s.messages()
    assert refusal(s.c.storage.stop) == "EXAStorage is not running"


@pytest.mark.parametrize("db_state", ["starting", "running", "stopping"])
def test_stop_refused_while_a_database_uses_it(db_state: str) -> None:
    s = Sim()
    s.boot()
    s.storage_online()
    s.db.start()
    if db_state != "starting":
        s.settle("database_start")
    if db_state == "stopping":
        s.settle("database_connect")
        s.db.stop()
    assert s.db.state == db_state
    reason = refusal(s.c.storage.stop)
    assert reason == f"EXAStorage cannot stop while databases use it: exa_db1 ({db_state}). Stop the databases first."
    assert s.c.storage.online


def test_nodes_cannot_leave_while_storage_runs_on_them() -> None:
    s = Sim()
    s.boot()
    s.c.storage.start()
    reason = refusal(s.node("n0012").shutdown)
    assert reason == "EXAStorage is starting on n0012; stop EXAStorage before shutting the node down"
    s.settle("storage_start")
    reason = refusal(s.node("n0012").poweroff)
    assert reason == "EXAStorage is online on n0012; stop EXAStorage before shutting the node down"


def test_a_node_lost_while_starting_fails_the_start() -> None:
    s = Sim()
    s.boot()
    s.c.storage.start()
    s.node("n0013").crash()
    assert s.c.storage.state == "stopped"
    assert s.c.storage.last_error == "EXAStorage start failed: node n0013 crashed"
    assert s.c.storage.last_error in s.messages(priority="Error")
    s.settle("storage_start")
    assert s.c.storage.state == "stopped", "the old start deadline must not bring it online"


def test_a_node_lost_while_online_degrades_with_a_warning() -> None:
    s = Sim()
    s.boot()
    s.storage_online()
    s.node("n0014").crash()
    assert s.c.storage.online
    assert "EXAStorage lost a node: node n0014 crashed; running degraded" in s.messages(priority="Warning")
    assert s.c.storage.has_quorum()
    s.node("n0013").crash()
    assert not s.c.storage.has_quorum()


def test_an_ignored_node_lost_does_not_touch_storage() -> None:
    s = Sim()
    s.boot()
    s.storage_online(["n0014"])
    s.node("n0014").crash()
    assert s.c.storage.online
    assert not any("EXAStorage" in m for m in s.messages(priority="Warning"))
