"""Cluster nodes: database nodes that boot over PXE, and license servers that boot from disk."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from exaop.model.base import Entity
from exaop.model.disks import disk_states
from exaop.model.errors import UsageError
from exaop.model.power import DriverError, PowerState

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster

OFF, BOOTING, RUNNING, SHUTTING_DOWN, CRASHED = (
    "off",
    "booting",
    "running",
    "shutting_down",
    "crashed",
)
POWER_OFF_RETRY = 30.0  # simulated seconds between attempts to power off a node that refused

STATUS = {
    OFF: "Powered off",
    BOOTING: "Booting",
    RUNNING: "Running",
    SHUTTING_DOWN: "Shutting down",
    CRASHED: "Crashed",
}
# event -> (states it is allowed from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "startup": (frozenset({OFF, CRASHED}), BOOTING),
    "boot_finished": (frozenset({BOOTING}), RUNNING),
    "shutdown": (frozenset({RUNNING}), SHUTTING_DOWN),
    "shutdown_finished": (frozenset({SHUTTING_DOWN}), OFF),
    "poweroff": (frozenset({BOOTING, RUNNING, SHUTTING_DOWN, CRASHED}), OFF),
    "crash": (frozenset({BOOTING, RUNNING, SHUTTING_DOWN}), CRASHED),
}
#: the states of a node whose machine has power; the others (off, crashed) have none
POWERED = frozenset({BOOTING, RUNNING, SHUTTING_DOWN})
REFUSALS = {
    (OFF, "shutdown"): "{n} is already powered off",
    (OFF, "poweroff"): "{n} is already powered off",
    (BOOTING, "startup"): "{n} is already booting",
    (BOOTING, "shutdown"): "{n} is still booting; power it off with poweroffNode instead",
    (RUNNING, "startup"): "{n} is already running",
    (SHUTTING_DOWN, "startup"): "{n} is shutting down; start it once it is powered off",
    (SHUTTING_DOWN, "shutdown"): "{n} is already shutting down",
    (CRASHED, "shutdown"): "{n} has crashed and is not running; power it off or start it up",
}


class Node(Entity):
    kind = "node"

    def __init__(self, cluster: Cluster, name: str, license_server: bool = False) -> None:
        super().__init__(cluster)
        self.name = name
        self.number = int(name[1:])
        self.license_server = license_server
        self.state = OFF
        self.since = cluster.now
        self.boot_started: float | None = None
        self.reboot = False  # a shutdown that boots again
        self.boot_hang = False  # injected fault: the boot never finishes
        self.last_boot_seconds: float | None = None
        self.hardware: dict[str, Any] = {}
        self.driver = "simulated"

    @property
    def key(self) -> str:
        return self.name

    @property
    def online(self) -> bool:
        return self.state == RUNNING

    @property
    def status(self) -> str:
        return STATUS[self.state]

    @property
    def ip(self) -> str:
        return self.cluster.node_ip(self.number)

    def record(self) -> dict[str, Any]:
        return {
            "license_server": self.license_server,
            "state": self.state,
            "since": self.since,
            "deadline": self.deadline,
            "boot_started": self.boot_started,
            "reboot": self.reboot,
            "boot_hang": self.boot_hang,
            "last_boot_seconds": self.last_boot_seconds,
            "hardware": self.hardware,
            "driver": self.driver,
        }

    @classmethod
    def from_record(cls, cluster: Cluster, key: str, rec: dict[str, Any]) -> Node:
        node = cls(cluster, key, rec.get("license_server", False))
        for f in ("state", "since", "boot_started", "reboot", "boot_hang", "last_boot_seconds"):
            setattr(node, f, rec.get(f, getattr(node, f)))
        node.hardware = rec.get("hardware", {})
        node.driver = rec.get("driver", "simulated")
        node.restore_deadline(rec.get("deadline"))
        return node

    # -- the guarded state machine -------------------------------------------------------

    def _transition(self, event: str) -> None:
        allowed, target = TRANSITIONS[event]
        if self.state not in allowed:
            text = REFUSALS.get((self.state, event), "{n} cannot do {e} while {s}")
            raise UsageError(text.format(n=self.name, e=event, s=STATUS[self.state].lower()))
        self.state = target
        self.since = self.cluster.now
        self.changed()

    def _power(self, on: bool, hard: bool = False) -> None:
        driver = self.cluster.driver(self)
        try:
            if on:
                driver.power_on(self.name)
            else:
                driver.power_off(self.name, hard=hard)
        except DriverError as e:
            verb = "power on" if on else "power off"
            self.cluster.log("EXAoperation", self.name, "Error", f"{verb} of {self.name} failed: {e}")
            raise UsageError(f"{verb} of {self.name} failed: {e}") from e

    # -- operations --------------------------------------------------------------------

    def startup(self) -> None:
        allowed, _ = TRANSITIONS["startup"]
        if self.state not in allowed:
            self._transition("startup")  # raises the refusal
        if not self.license_server and not self.cluster.pxe_available():
            raise UsageError(f"{self.name} boots over PXE from a license server, and no license server is running")
        self._power(True)
        self._begin_boot()

    def _begin_boot(self) -> None:
        self._transition("startup")
        self.boot_started = self.cluster.now
        self.cluster.log("EXAoperation", self.name, "Notice", f"Node {self.name} is booting")
        self._schedule_boot()

    def _schedule_boot(self) -> None:
        if self.boot_hang:
            self.set_deadline(None)
        else:
            self.set_deadline(self.cluster.duration("node_boot"))

    def shutdown(self, reboot: bool = False) -> None:
        if self.state == RUNNING:
            self.cluster.check_node_may_stop(self)
        self._transition("shutdown")
        self.reboot = reboot
        verb = "rebooting" if reboot else "shutting down"
        self.cluster.log("EXAoperation", self.name, "Notice", f"Node {self.name} is {verb}")
        self.cluster.node_leaving(self)
        self.set_deadline(self.cluster.duration("node_shutdown"))

    def poweroff(self) -> None:
        allowed, _ = TRANSITIONS["poweroff"]
        if self.state in allowed and self.state == RUNNING:
            self.cluster.check_node_may_stop(self)
        if self.state not in allowed:
            self._transition("poweroff")
        self._power(False, hard=True)
        was = self.state
        self._transition("poweroff")
        self.set_deadline(None)
        self.reboot = False
        self.cluster.log("EXAoperation", self.name, "Warning", f"Node {self.name} powered off hard")
        if was in (RUNNING, SHUTTING_DOWN):
            self.cluster.node_lost(self, "was powered off")

    def crash(self) -> None:
        if self.state not in TRANSITIONS["crash"][0]:
            raise UsageError(f"{self.name} is {self.status.lower()}; only a running node can crash")
        was = self.state
        self._transition("crash")
        self.set_deadline(None)
        driver = self.cluster.driver(self)
        driver.machine_changed(self.name, False)
        self.cluster.log("EXAoperation", self.name, "Error", f"Node {self.name} is not responding: it crashed")
        if was == RUNNING:
            self.cluster.node_lost(self, "crashed")

    def on_deadline(self) -> None:
        if self.state == BOOTING:
            self._transition("boot_finished")
            self.last_boot_seconds = self.cluster.now - (self.boot_started or self.cluster.now)
            self.cluster.log(
                "EXAoperation",
                self.name,
                "Notice",
                f"Boot process finished after {round(self.last_boot_seconds)} seconds",
            )
            self.cluster.node_arrived(self)
        elif self.state == SHUTTING_DOWN:
            try:
                self.cluster.driver(self).power_off(self.name)
            except DriverError as e:
                # the machine may still be on: do not report it off; try again in a while
                self.cluster.log(
                    "EXAoperation", self.name, "Error", f"power off of {self.name} failed: {e}; retrying in 30 s"
                )
                self.set_deadline(POWER_OFF_RETRY)
                return
            self._transition("shutdown_finished")
            self.cluster.log("EXAoperation", self.name, "Notice", f"Node {self.name} is powered off")
            if self.reboot:
                self.reboot = False
                if not self.license_server and not self.cluster.pxe_available():
                    self.cluster.log(
                        "EXAoperation", self.name, "Error",
                        f"{self.name} cannot boot again: it boots over PXE and no license server is running",
                    )  # fmt: skip
                    return
                try:
                    self._power(True)
                    self._begin_boot()
                except UsageError:
                    pass  # logged by _power

    def reconcile_power(self, power: PowerState) -> str:
        """Make the state agree with the power the driver reports; say what was repaired ('' if nothing).

        Powered while off or crashed: the machine boots (over PXE; a license server from
        disk). Without power while booting or shutting down: off. Without power while
        running: off, and the cluster loses the node (its databases and EXAStorage notice).
        An unknown power state is logged and the state kept.
        """
        if power == "unknown":
            self.cluster.log(
                "EXAoperation", self.name, "Warning",
                f"{self.name}: its power state is unknown; it stays {self.status.lower()}",
            )  # fmt: skip
            return ""
        if (power == "on") == (self.state in POWERED):
            return ""
        was = self.status.lower()
        if power == "on":
            sentence = f"{self.name} was {was} but is powered on: it is booting now"
            self.cluster.log("EXAoperation", self.name, "Warning", sentence)
            self._begin_boot()
            return sentence
        lost = self.state == RUNNING
        self._transition("poweroff")
        self.set_deadline(None)
        self.reboot = False
        sentence = f"{self.name} was {was} but is powered off: it is off now"
        self.cluster.log("EXAoperation", self.name, "Warning", sentence)
        if lost:
            self.cluster.node_lost(self, "lost its power")
        return sentence

    def resume_hung_boot(self) -> None:
        if self.state == BOOTING and self.deadline is None:
            self._schedule_boot()

    # -- views -------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        from exaop.model.logs import strtime

        return {
            "status": self.status,
            "power": self.cluster.driver(self).power_state(self.name),
            "since": strtime(self.since),
            "license_server": self.license_server,
        }

    def info(self) -> dict[str, Any]:
        hw = self.cluster.hardware_of(self)
        return {
            "name": self.name,
            "number": self.number,
            "status": self.status,
            "license_server": self.license_server,
            "private_ip": self.ip,
            "power_driver": self.driver,
            "vendor": hw["vendor"],
            "product": hw["product"],
            "cpu": hw["cpu"],
            "cores": int(hw["sockets"]) * int(hw["cores_per_socket"]),
            "memory_gib": hw["memory_gib"],
            "last_boot_seconds": round(self.last_boot_seconds) if self.last_boot_seconds else 0,
        }

    def disks(self) -> list[dict[str, Any]]:
        """The node's disks as getDiskStates shows them (model/disks.py)."""
        return disk_states(self.cluster, self.name)

    def hardware_information(self, infotype: Any = 1) -> str:
        """The DMI dump while the node is online; offline, a sentence without the word dmidecode
        (scripts test for it to tell whether a node is up)."""
        if not self.online:
            return f"{self.name} is not online ({self.status.lower()}); no hardware inventory available"
        try:
            kind = int(infotype)
        except ValueError:
            kind = -1
        return self.dmidecode(kind)

    def dmidecode(self, infotype: int = 1) -> str:
        hw = self.cluster.hardware_of(self)
        serial = f"EXA{self.number:05d}"
        lines = [
            "# dmidecode 3.3",
            "Getting SMBIOS data from sysfs.",
            "SMBIOS 3.2.0 present.",
            "",
        ]
        if infotype in (0, 1):
            lines += [
                "Handle 0x0100, DMI type 1, 27 bytes",
                "System Information",
                f"\tManufacturer: {hw['vendor']}",
                f"\tProduct Name: {hw['product']}",
                f"\tSerial Number: {serial}",
                f"\tUUID: 4c4c4544-0000-1000-8000-{self.number:012d}",
                "\tWake-up Type: Power Switch",
                "",
            ]
        if infotype in (0, 4):
            for s in range(int(hw["sockets"])):
                lines += [
                    f"Handle 0x04{s:02d}, DMI type 4, 48 bytes",
                    "Processor Information",
                    f"\tSocket Designation: CPU{s + 1}",
                    f"\tVersion: {hw['cpu']}",
                    f"\tCore Count: {hw['cores_per_socket']}",
                    "",
                ]
        if infotype in (0, 17):
            lines += [
                "Handle 0x1100, DMI type 17, 84 bytes",
                "Memory Device",
                f"\tSize: {int(hw['memory_gib'])} GB",
                "",
            ]
        if len(lines) == 4:
            lines += [f"No SMBIOS nor DMI entry point of type {infotype} found."]
        return "\n".join(lines) + "\n"
