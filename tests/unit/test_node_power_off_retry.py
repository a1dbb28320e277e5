"""A node whose management card refuses the final power-off is not reported off."""

from __future__ import annotations

from exaop.engine.drivers import SimulatedDriver
from exaop.engine.profile import default_profile
from exaop.model.cluster import Cluster


def test_a_refused_power_off_is_retried_until_the_card_obeys() -> None:
    c = Cluster.from_profile(default_profile(), 1_000_000.0, {"simulated": SimulatedDriver()})
    c.boot_license_server()
    node = c.nodes["n0011"]
    node.startup()
    c.advance(c.now + 400)
    node.shutdown()
    c.inject_fault("n0011", "power_fail")
    c.advance(c.now + 100)
    assert node.status == "Shutting down"  # the machine may still be on: not "Powered off"
    assert any("power off of n0011 failed" in e.message for e in c.logbook.entries)
    c.clear_faults()
    c.advance(c.now + 31)
    assert node.status == "Powered off"
    assert c.driver(node).power_state("n0011") == "off"
