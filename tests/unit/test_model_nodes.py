"""Nodes: the boot/shutdown/poweroff/reboot/crash state machine, PXE, and readable refusals."""

from __future__ import annotations

import re

import pytest

from exaop.model.errors import UsageError
from tests.unit.modelkit import DB_NODES, Sim, refusal, without_jitter


def test_default_cluster_starts_with_license_server_up_and_database_nodes_off() -> None:
    s = Sim()
    assert s.node("n0010").online and s.node("n0010").license_server
    assert [s.node(n).status for n in DB_NODES] == ["Powered off"] * 4
    assert s.c.master.node == "n0010"


def test_boot_finishes_after_the_profile_boot_duration_and_is_logged() -> None:
    s = without_jitter(Sim())
    n = s.node("n0011")
    n.startup()
    assert n.state == "booting" and n.status == "Booting"
    assert "Node n0011 is booting" in s.messages(node="n0011")
    assert s.c.driver(n).power_state("n0011") == "on"
    s.advance(239)
    assert n.state == "booting"
    assert not any(m.startswith("Boot process finished") for m in s.messages())
    s.advance(1)
    assert n.online and n.status == "Running"
    assert "Boot process finished after 240 seconds" in s.messages(priority="Notice", node="n0011")
    assert n.last_boot_seconds == 240


def test_boot_duration_jitter_stays_within_the_profile_range() -> None:
    s = Sim(seed=7)
    s.boot()
    d = s.profile.durations["node_boot"]
    seconds = [int(m.split()[4]) for m in s.messages() if m.startswith("Boot process finished after")]
    assert len(seconds) == 4
    assert all(d.value - d.jitter <= x <= d.value + d.jitter for x in seconds)


def test_startup_refusals_name_the_node_and_the_reason() -> None:
    s = Sim()
    n = s.node("n0011")
    n.startup()
    assert refusal(n.startup) == "n0011 is already booting"
    s.settle("node_boot")
    assert refusal(n.startup) == "n0011 is already running"
    n.shutdown()
    assert refusal(n.startup) == "n0011 is shutting down; start it once it is powered off"


def test_shutdown_powers_the_node_off_after_the_shutdown_duration() -> None:
    s = without_jitter(Sim())
    s.boot("n0011")
    n = s.node("n0011")
    n.shutdown()
    assert n.state == "shutting_down" and n.status == "Shutting down"
    assert "Node n0011 is shutting down" in s.messages(node="n0011")
    s.advance(39)
    assert n.state == "shutting_down"
    s.advance(1)
    assert n.state == "off" and n.status == "Powered off"
    assert "Node n0011 is powered off" in s.messages(node="n0011")
    assert s.c.driver(n).power_state("n0011") == "off"


def test_shutdown_refusals() -> None:
    s = Sim()
    n = s.node("n0011")
    assert refusal(n.shutdown) == "n0011 is already powered off"
    n.startup()
    assert refusal(n.shutdown) == "n0011 is still booting; power it off with poweroffNode instead"
    s.settle("node_boot")
    n.shutdown()
    assert refusal(n.shutdown) == "n0011 is already shutting down"
    s.settle("node_shutdown")
    n.startup()
    s.settle("node_boot")
    n.crash()
    assert "n0011 has crashed" in refusal(n.shutdown)


def test_poweroff_is_immediate_and_ends_a_boot() -> None:
    s = Sim()
    n = s.node("n0011")
    assert refusal(n.poweroff) == "n0011 is already powered off"
    n.startup()
    n.poweroff()
    assert n.state == "off"
    assert "Node n0011 powered off hard" in s.messages(priority="Warning")
    s.settle("node_boot")
    assert n.state == "off", "the boot that was under way must not finish after a poweroff"
    assert not any(m.startswith("Boot process finished") for m in s.messages(node="n0011"))
    n.startup()
    s.settle("node_boot")
    n.poweroff()
    assert n.state == "off" and s.c.driver(n).power_state("n0011") == "off"


def test_poweroff_of_a_node_that_shuts_down_ends_the_shutdown() -> None:
    s = Sim()
    s.boot("n0011")
    n = s.node("n0011")
    n.shutdown()
    n.poweroff()
    assert n.state == "off" and n.deadline is None


def test_reboot_shuts_down_then_boots_again() -> None:
    s = without_jitter(Sim())
    s.boot("n0011")
    n = s.node("n0011")
    n.shutdown(reboot=True)
    assert n.state == "shutting_down"
    assert "Node n0011 is rebooting" in s.messages(node="n0011")
    s.advance(40)
    assert n.state == "booting"
    s.advance(240)
    assert n.online
    assert s.messages(node="n0011").count("Boot process finished after 240 seconds") == 2


def test_crash_and_recovery() -> None:
    s = Sim()
    n = s.node("n0011")
    assert refusal(n.crash) == "n0011 is powered off; only a running node can crash"
    s.boot("n0011")
    n.crash()
    assert n.state == "crashed" and n.status == "Crashed" and not n.online
    assert "Node n0011 is not responding: it crashed" in s.messages(priority="Error")
    assert s.c.driver(n).power_state("n0011") == "off"
    assert refusal(n.crash) == "n0011 is crashed; only a running node can crash"
    n.startup()  # a crashed node can be started again
    s.settle("node_boot")
    assert n.online


def test_crashed_node_can_be_powered_off() -> None:
    s = Sim()
    s.boot("n0011")
    n = s.node("n0011")
    n.crash()
    n.poweroff()
    assert n.state == "off"


def test_database_nodes_boot_over_pxe_only_while_a_license_server_runs() -> None:
    s = Sim()
    s.c.nodes["n0010"].shutdown()
    s.settle("node_shutdown")
    assert not s.node("n0010").online
    reason = refusal(s.node("n0011").startup)
    assert "n0011" in reason and "PXE" in reason and "no license server is running" in reason
    assert s.node("n0011").state == "off"
    # the license server itself boots from disk
    s.node("n0010").startup()
    s.settle("node_boot")
    s.node("n0011").startup()
    assert s.node("n0011").state == "booting"


def test_a_reboot_needs_pxe_too() -> None:
    """EXAoperation moved to a database node, the license server is off: a reboot cannot boot again."""
    s = Sim()
    s.boot("n0011", "n0012")
    s.c.restart_exaoperation("n0011")
    s.settle("exaoperation_restart")
    assert s.c.master.node == "n0011"
    s.node("n0010").shutdown()
    s.settle("node_shutdown")
    assert not s.c.pxe_available()
    s.node("n0012").shutdown(reboot=True)
    s.settle("node_shutdown")
    s.settle("node_boot")
    assert s.node("n0012").state == "off"
    assert any("n0012" in m and "PXE" in m for m in s.messages(priority="Error"))


def test_power_fail_fault_makes_the_management_card_refuse() -> None:
    s = Sim()
    assert s.c.inject_fault("n0011", "power_fail") == "the management card of n0011 refuses requests"
    reason = refusal(s.node("n0011").startup)
    assert reason.startswith("power on of n0011 failed:") and "refused" in reason
    assert s.node("n0011").state == "off"
    assert any(m.startswith("power on of n0011 failed") for m in s.messages(priority="Error"))
    assert s.c.clear_faults() == ["power_fail n0011"]
    s.node("n0011").startup()
    assert s.node("n0011").state == "booting"


def test_boot_hang_fault_keeps_the_node_booting_until_cleared() -> None:
    s = without_jitter(Sim())
    assert s.c.inject_fault(11, "boot_hang") == "n0011 hangs in its boot"
    n = s.node("n0011")
    n.startup()
    s.advance(3600)
    assert n.state == "booting"
    assert s.c.clear_faults() == ["boot_hang n0011"]
    s.advance(239)
    assert n.state == "booting"
    s.advance(1)
    assert n.online
    finished = [m for m in s.messages(node="n0011") if m.startswith("Boot process finished")]
    assert finished == ["Boot process finished after 3840 seconds"]


def test_boot_hang_injected_during_a_boot_stops_it() -> None:
    s = Sim()
    n = s.node("n0011")
    n.startup()
    s.c.inject_fault("n0011", "boot_hang")
    s.settle("node_boot")
    assert n.state == "booting"
    n.poweroff()  # the way out of a hung boot
    assert n.state == "off"


def test_unknown_fault_and_unknown_node() -> None:
    s = Sim()
    with pytest.raises(UsageError, match="unknown fault 'melt'; known: boot_hang, power_fail, crash, start_fail"):
        s.c.inject_fault("n0011", "melt")
    from exaop.model.errors import NotFound

    with pytest.raises(NotFound, match=r"^Object n0099 \(node\) not found$"):
        s.c.inject_fault("n0099", "crash")
    with pytest.raises(UsageError, match="a node is named like n0011"):
        s.c.node(True)


def test_crash_fault_refuses_the_node_that_runs_exaoperation() -> None:
    s = Sim()
    reason = refusal(s.c.inject_fault, "n0010", "crash")
    assert "n0010 runs EXAoperation" in reason
    s.boot("n0011")
    assert s.c.inject_fault("n0011", "crash") == "n0011 crashed"


def test_node_lookup_by_number_and_name() -> None:
    s = Sim()
    assert s.c.node(11) is s.c.node("11") is s.c.node("n0011")


def test_refusal_texts_are_sentences_about_the_node() -> None:
    s = Sim()
    n = s.node("n0013")
    reasons = [refusal(n.shutdown), refusal(n.poweroff), refusal(n.crash)]
    for r in reasons:
        assert "n0013" in r and re.search(r"\b(is|are|has)\b", r), r
