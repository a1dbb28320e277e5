"""Cluster.reconcile_power: on a start, each node's state is made to agree with its power.

Consistent: booting, running, shutting down <=> power on; off, crashed <=> power off.
Every repair is one Warning in the cluster log and one sentence in the returned list;
an unknown power state is logged and left as it is.
"""

from __future__ import annotations

import pytest

from exaop.model.power import PowerPort, PowerState
from tests.unit.modelkit import DB_NODES, Sim


def machine(sim: Sim, node: str, powered: bool) -> None:
    """The machine's power changes behind the control plane's back (what a lost save did)."""
    sim.c.drivers["simulated"].machine_changed(node, powered)


def warnings_since(sim: Sim, before: int) -> list[str]:
    return [e.message for e in list(sim.c.logbook.entries)[before:] if e.priority == "Warning"]


def power(sim: Sim, node: str) -> str:
    return sim.c.driver(sim.node(node)).power_state(node)


def test_a_consistent_cluster_needs_no_repair() -> None:
    sim = Sim()
    sim.boot("n0011", "n0012", "n0014")
    sim.node("n0012").shutdown()
    sim.node("n0013").startup()
    sim.c.inject_fault("n0014", "crash")
    assert [sim.node(n).state for n in DB_NODES] == ["running", "shutting_down", "booting", "crashed"]
    before = len(sim.c.logbook.entries)
    assert sim.c.reconcile_power() == []
    assert len(sim.c.logbook.entries) == before  # nothing to say: nothing logged


def test_running_without_power_is_a_lost_node() -> None:
    sim = Sim()
    sim.all_up()
    assert sim.db.state == "running" and sim.c.storage.online
    machine(sim, "n0012", False)
    before = len(sim.c.logbook.entries)
    repaired = sim.c.reconcile_power()
    assert len(repaired) == 1 and "n0012" in repaired[0] and "running" in repaired[0]
    assert sim.node("n0012").state == "off"
    assert repaired[0] in warnings_since(sim, before)
    # the consequences of losing a node: its database and EXAStorage fail, as after poweroffNode
    assert sim.db.state != "running"
    assert any("EXAStorage lost a node: node n0012" in m for m in sim.messages("Warning"))
    assert not sim.c.halt_reason  # n0012 does not run EXAoperation


@pytest.mark.parametrize("state", ["booting", "shutting_down"])
def test_booting_or_shutting_down_without_power_is_off(state: str) -> None:
    sim = Sim()
    if state == "booting":
        sim.node("n0011").startup()
    else:
        sim.boot("n0011")
        sim.node("n0011").shutdown()
    machine(sim, "n0011", False)
    repaired = sim.c.reconcile_power()
    assert len(repaired) == 1 and "n0011" in repaired[0]
    node = sim.node("n0011")
    assert (node.state, node.deadline) == ("off", None)
    sim.settle("node_boot")  # no boot or shutdown under way any more
    assert node.state == "off"


@pytest.mark.parametrize("state", ["off", "crashed"])
def test_powered_while_off_or_crashed_boots(state: str) -> None:
    sim = Sim()
    if state == "crashed":
        sim.boot("n0013")
        sim.c.inject_fault("n0013", "crash")
    assert sim.node("n0013").state == state
    machine(sim, "n0013", True)
    repaired = sim.c.reconcile_power()
    assert len(repaired) == 1 and "n0013" in repaired[0] and "booting" in repaired[0]
    assert sim.node("n0013").state == "booting"  # it PXE-boots from the license server
    sim.settle("node_boot")
    assert sim.node("n0013").state == "running"
    assert power(sim, "n0013") == "on"


def test_the_license_server_running_exaoperation_is_up_by_definition() -> None:
    sim = Sim()
    machine(sim, "n0010", False)
    sim.c.boot_license_server()  # what every start does first
    assert sim.c.reconcile_power() == []
    assert (sim.node("n0010").state, power(sim, "n0010")) == ("running", "on")
    assert not sim.c.halt_reason


class Unknowable(PowerPort):
    name = "unknowable"

    def power_on(self, node: str) -> None: ...

    def power_off(self, node: str, hard: bool = False) -> None: ...

    def power_state(self, node: str) -> PowerState:
        return "unknown"


def test_unknown_power_is_logged_and_left() -> None:
    sim = Sim()
    sim.boot("n0014")
    sim.c.drivers["unknowable"] = Unknowable()
    sim.node("n0014").driver = "unknowable"
    before = len(sim.c.logbook.entries)
    assert sim.c.reconcile_power() == []
    assert sim.node("n0014").state == "running"
    said = warnings_since(sim, before)
    assert len(said) == 1 and "n0014" in said[0] and "unknown" in said[0]


def test_every_node_is_looked_at() -> None:
    sim = Sim()
    for n in DB_NODES:
        machine(sim, n, True)
    repaired = sim.c.reconcile_power()
    assert sorted(s.split()[0] for s in repaired) == DB_NODES
    assert all(sim.node(n).state == "booting" for n in DB_NODES)


def test_a_node_without_a_configured_driver_counts_as_unknown() -> None:
    sim = Sim()
    sim.node("n0011").driver = "redfish"  # named by the profile, not configured here
    assert sim.c.reconcile_power() == []
    assert any("n0011" in m and "unknown" in m for m in sim.messages("Warning"))
