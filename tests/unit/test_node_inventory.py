"""What a BMC tells about the machine, on the model's side: read when shown (or after a
power-on), shown over the profile's hardware with its source, kept when the BMC fails."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from exaop.model.node import Node
from exaop.model.power import InventoryReport
from tests.unit.test_node_power_requests import Deferred, sim_with

FAN = {"name": "Fan1", "kind": "Fan", "value": None, "unit": "RPM", "health": "unavailable"}


class WithInventory(Deferred):
    def __init__(self) -> None:
        super().__init__()
        self.asked: list[Callable[[InventoryReport], None]] = []

    def inventory(self, node: str, done: Callable[[InventoryReport], None]) -> bool:
        self.asked.append(done)
        return True

    def tell(self, node: str, ok: bool, hardware: dict[str, Any], message: str = "") -> None:
        self.asked.pop(0)(InventoryReport(node, ok, hardware, [FAN] if ok else [], message or "told"))


def test_shown_over_the_profile_with_the_source_and_kept_when_the_bmc_fails() -> None:
    port = WithInventory()
    sim = sim_with(port, "n0011")
    node = sim.node("n0011")
    before = node.info()  # asks the BMC; shows the profile's meanwhile
    assert len(port.asked) == 1 and set(before["hardware_source"].values()) == {"profile", "simulated"}
    profile = sim.c.profile.hardware
    port.tell("n0011", True, {"vendor": "HPE", "sockets": 4, "memory_gib": 512.0, "serial": "CZ1234"})
    info = node.info()
    assert not port.asked  # fresh: not asked again
    assert (info["vendor"], info["memory_gib"], info["serial"]) == ("HPE", 512.0, "CZ1234")
    assert info["product"] == profile["product"] and info["cores"] == 4 * int(profile["cores_per_socket"])
    src = info["hardware_source"]
    assert (src["vendor"], src["product"], src["sensors"]) == ("deferred", "profile", "deferred")
    assert src["cores"] == "deferred (sockets), profile (cores per socket)"
    assert info["hardware_read"] and info["hardware_error"] == ""
    assert node.sensors()[2] == {"name": "Fan1", "value": "na", "unit": "RPM", "status": "unavailable"}
    dump = node.dmidecode(1)
    assert "\tManufacturer: HPE\n" in dump and "# from the deferred BMC: vendor, serial," in dump

    for _ in range(2):  # a BMC that fails twice for the same reason: logged once, the reading stays
        node.refresh_inventory(force=True)
        port.tell("n0011", False, {}, "deferred: read the hardware information of n0011 failed: refused")
    info = node.info()
    assert info["vendor"] == "HPE" and info["hardware_error"].endswith("refused")
    warned = [m for m in sim.messages("Warning") if "hardware information cannot be read" in m]
    assert len(warned) == 1 and warned[0].endswith("the last reading stays"), warned

    again = Node.from_record(sim.c, "n0011", node.record())  # persisted with the node
    assert (again.bmc_hardware, again.bmc_sensors, again.bmc_inventory_from) == (node.bmc_hardware, [FAN], "deferred")
    node.forget_inventory()  # another card: the profile's again
    assert node.shown_hardware()[0]["vendor"] == profile["vendor"]

    node.startup()  # a power-on asks again, however fresh the last answer
    while port.answer(True, "on") != "on":  # the reads of the power that showing the node began
        pass
    assert len(port.asked) == 1
