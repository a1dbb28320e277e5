"""The node state machine over a port that answers later (a real BMC's shape), driven by hand.

``Deferred`` keeps each request's completion; the test decides when and how it ends, so
the model's side of the request + completion shape is checked without threads or a loop.
"""

from __future__ import annotations

from exaop.model.cluster import Cluster
from exaop.model.power import Done, PowerAction, PowerPort, PowerReport, PowerState
from tests.unit.modelkit import Sim


class Deferred(PowerPort):
    name = "deferred"
    asynchronous = True

    def __init__(self, probe: bool = False) -> None:
        self.pending: list[tuple[str, str, Done]] = []
        self.has_probe = probe

    def power_on(self, node: str) -> None:
        raise AssertionError("the model must not wait for a real machine")

    def power_off(self, node: str, hard: bool = False) -> None:
        raise AssertionError("the model must not wait for a real machine")

    def power_state(self, node: str) -> PowerState:
        raise AssertionError("the model must not wait for a real machine")

    def request(self, node: str, action: PowerAction, done: Done) -> None:
        self.pending.append((node, action, done))

    def read(self, node: str, done: Done) -> None:
        self.pending.append((node, "read", done))

    def probe(self, node: str, done: Done) -> bool:
        if self.has_probe:
            self.pending.append((node, "ready", done))
        return self.has_probe

    def answer(self, ok: bool, power: PowerState, message: str = "", forced: bool = False) -> str:
        node, what, done = self.pending.pop(0)
        done(PowerReport(node, what, ok, power, message or f"{what} of {node}", forced))
        return what


def sim_with(port: Deferred, *nodes: str) -> Sim:
    sim = Sim()
    sim.c.drivers["deferred"] = port
    for n in nodes:
        sim.node(n).driver = "deferred"
    return sim


def test_startup_returns_at_once_and_the_answer_boots_the_node() -> None:
    port = Deferred()
    sim = sim_with(port, "n0011")
    node = sim.node("n0011")
    node.startup()
    assert (node.status, node.deadline, port.pending[0][1]) == ("Booting", None, "on")
    sim.settle("node_boot")
    assert node.status == "Booting"  # no answer yet: the profile's boot has not begun
    assert port.answer(True, "on") == "on"
    assert node.deadline is not None and node.bmc_power == "on"  # no probe: the profile's boot duration
    sim.settle("node_boot")
    assert node.status == "Running" and node.state_dict()["power"] == "on"


def test_a_failed_power_on_says_why_and_the_node_is_off() -> None:
    port = Deferred()
    sim = sim_with(port, "n0011")
    node = sim.node("n0011")
    node.startup()
    port.answer(False, "unknown", "redfish: power on of n0011 failed at BMC https://10.0.0.11:443: refused")
    assert node.status == "Powered off"
    assert node.state_dict()["power_error"].endswith("refused")
    assert any("Node n0011 did not power on" in m and "10.0.0.11" in m for m in sim.messages("Error"))


def test_a_probe_decides_running_or_not_ready() -> None:
    port = Deferred(probe=True)
    sim = sim_with(port, "n0011", "n0012")
    for n in ("n0011", "n0012"):
        sim.node(n).startup()
    port.answer(True, "on")
    port.answer(True, "on")
    assert [w for _n, w, _d in port.pending] == ["ready", "ready"]
    port.answer(True, "on", "n0011 is ready: TCP port 10.50.1.11:22 answers after 3.0 s")
    port.answer(False, "on", "readiness probe of n0012 gave up after 600.0 s (9 tries): refused")
    assert sim.node("n0011").status == "Running"
    assert sim.node("n0012").status == "Crashed" and "gave up" in sim.node("n0012").power_error
    assert any("n0012 is powered on but not ready" in m for m in sim.messages("Error"))


def test_shutdown_follows_the_jobs_outcome_and_a_stale_answer_is_ignored() -> None:
    port = Deferred()
    sim = sim_with(port, "n0011")
    node = sim.node("n0011")
    node.startup()
    port.answer(True, "on")
    sim.settle("node_boot")
    node.shutdown()
    assert node.status == "Shutting down" and port.pending[0][1] == "shutdown"
    node.poweroff()  # a newer request: the graceful shutdown's answer no longer counts
    port.answer(False, "on", "graceful shutdown of n0011 not confirmed")
    assert node.status == "Shutting down" and node.power_error == ""
    port.answer(True, "off", forced=True)
    assert node.status == "Powered off" and node.bmc_power == "off"


def test_a_restart_reads_the_power_back_and_resumes() -> None:
    port = Deferred()
    sim = sim_with(port, "n0011", "n0012")
    sim.node("n0011").startup()  # the process dies before the BMC answers
    records = [(o.kind, o.key, o.record()) for o in sim.c.all_entities()]
    sim.c = Cluster.from_records(sim.profile, sim.now, records, {**sim.c.drivers, "deferred": (port := Deferred())})
    assert sim.c.reconcile_power() == []  # real machines are not asked on the loop
    assert sim.c.read_back_power() == ["n0011", "n0012"]
    port.answer(True, "on")  # n0011's machine came on: the boot goes on
    port.answer(True, "on")  # n0012's machine is on though the node was off: it boots
    sim.settle("node_boot")
    assert (sim.node("n0011").status, sim.node("n0012").status) == ("Running", "Running")
    assert any("n0012 was powered off but is powered on" in m for m in sim.messages("Warning"))
