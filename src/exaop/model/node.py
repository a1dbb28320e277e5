"""Cluster nodes: database nodes that boot over PXE, and license servers that boot from disk."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from exaop.model import node_config
from exaop.model.base import Entity
from exaop.model.disks import disk_states
from exaop.model.errors import UsageError
from exaop.model.power import DriverError, InventoryReport, PowerAction, PowerPort, PowerReport, PowerState

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
POWER_READ_AGE = 60.0  # real seconds: a real machine's power shown is read again (in the background) once this old
#: what getNodeInfo and getHardwareInformation show of a machine; the BMC's values where it tells them
HARDWARE_SHOWN = ("vendor", "product", "serial", "uuid", "cpu", "sockets", "cores_per_socket", "memory_gib",
                  "bios_version")  # fmt: skip
SUSPENDED = "Suspended"  # the status of a running node whose cluster services are stopped
#: what a boot does besides booting (from the node's boot flags), in words and its extra time
BOOT_MODES = {
    "wipe": ("wiping its disks", "node_wipe"),
    "install": ("installing", "node_install"),
    "fsck": ("checking its file systems", "node_fsck"),
    "no_fsck": ("skipping the file system check", ""),
}
#: each boot flag: the mode it asks for and what getNodeInfo calls the node meanwhile
FLAG_MODES = {
    "to_wipe": ("wipe", "To wipe"),
    "to_install": ("install", "To install"),
    "force_fsck": ("fsck", "Force fsck"),
    "force_no_fsck": ("no_fsck", "Force no fsck"),
}

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
    # real machines: the BMC was asked to cut the power / reset; the node waits for it to show
    "power_cut": (frozenset({BOOTING, RUNNING, SHUTTING_DOWN, CRASHED}), SHUTTING_DOWN),
    "reset": (frozenset({BOOTING, RUNNING, SHUTTING_DOWN, CRASHED}), BOOTING),
    # real machines: powered on, but the readiness probe gave up
    "not_ready": (frozenset({BOOTING}), CRASHED),
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
        self.values: dict[str, Any] = {}  # the configuration set on this node, over node_config.defaults
        self.installed = True  # False for a node added by a client, until its first boot installs it
        self.services_stopped = False  # stopClusterServices: running, but not part of the cluster (Suspended)
        self.id_led = False
        self.disabled = False  # ConfD's node_suspend(disable=True): it stays suspended across boots
        self.boot_modes: list[str] = []  # what the boot under way does besides booting (BOOT_MODES)
        # real machines: what the BMC reported last ('' never read), when (cluster time), the last failure
        self.bmc_power = ""
        self.bmc_power_at: float | None = None
        self.power_error = ""
        self._token = 0  # the request (or probe) whose outcome counts; older ones are ignored
        self._reading = False  # a background read of the power is under way
        self._read_at = 0.0  # when (time.monotonic) the BMC last answered about the power
        # real machines: what the BMC told about the hardware and its sensors, when, by which driver; the last failure
        self.bmc_hardware: dict[str, Any] = {}
        self.bmc_sensors: list[dict[str, Any]] = []
        self.bmc_inventory_at: float | None = None
        self.bmc_inventory_from = ""
        self.inventory_error = ""
        self._inventory_reading = False
        self._inventory_read_at = 0.0  # time.monotonic of the last answer (or failure)

    @property
    def key(self) -> str:
        return self.name

    @property
    def up(self) -> bool:
        """The machine runs its system (whether or not its cluster services do)."""
        return self.state == RUNNING

    @property
    def online(self) -> bool:
        """Up and part of the cluster: what EXAStorage, databases and plugins can use."""
        return self.state == RUNNING and not self.services_stopped

    @property
    def status(self) -> str:
        return SUSPENDED if self.state == RUNNING and self.services_stopped else STATUS[self.state]

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
            "values": self.values,
            "installed": self.installed,
            "services_stopped": self.services_stopped,
            "id_led": self.id_led,
            "boot_modes": self.boot_modes,
            "disabled": self.disabled,
            "bmc_power": self.bmc_power,
            "bmc_power_at": self.bmc_power_at,
            "power_error": self.shown_power_error,
            "bmc_hardware": self.bmc_hardware,
            "bmc_sensors": self.bmc_sensors,
            "bmc_inventory_at": self.bmc_inventory_at,
            "bmc_inventory_from": self.bmc_inventory_from,
            "inventory_error": self.inventory_error,
        }

    @classmethod
    def from_record(cls, cluster: Cluster, key: str, rec: dict[str, Any]) -> Node:
        node = cls(cluster, key, rec.get("license_server", False))
        for f in (
            "state",
            "since",
            "boot_started",
            "reboot",
            "boot_hang",
            "last_boot_seconds",
            "installed",
            "services_stopped",
            "id_led",
            "boot_modes",
            "values",
            "disabled",
            "bmc_power",
            "bmc_power_at",
            "power_error",
            "bmc_hardware",
            "bmc_sensors",
            "bmc_inventory_at",
            "bmc_inventory_from",
            "inventory_error",
        ):
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
        if target != RUNNING:  # the cluster services start with the system, every boot
            self.services_stopped = False
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
        if self.cluster.driver(self).simulated:
            self._power(True)
            self._begin_boot()
        else:
            self._begin_boot(power="on")

    def _begin_boot(self, event: str = "startup", power: PowerAction | None = None) -> None:
        """The node boots. Simulated: for the profile's boot duration. A real machine: ``power``
        is asked of its BMC first (none: it is on already), then the readiness probe decides."""
        port = self.cluster.driver(self)
        self._transition(event)
        self.boot_started = self.cluster.now
        config = self.config()
        modes = [mode for flag, (mode, _) in FLAG_MODES.items() if config[flag]]
        if ("wipe" in modes or not self.installed) and "install" not in modes:  # wiped or new: installed too
            modes.insert(modes.index("wipe") + 1 if "wipe" in modes else 0, "install")
        self.boot_modes = modes
        extra = f" ({', '.join(BOOT_MODES[m][0] for m in self.boot_modes)})" if self.boot_modes else ""
        self.cluster.log("EXAoperation", self.name, "Notice", f"Node {self.name} is booting{extra}")
        if port.simulated:
            self._schedule_boot()
        elif power is not None:
            self.set_deadline(None)  # the BMC's answer moves it on
            self._request(port, power)
        else:
            self._await_ready(port)

    def _schedule_boot(self) -> None:
        if self.boot_hang:
            self.set_deadline(None)
        else:
            extra = sum(self.cluster.duration(BOOT_MODES[m][1]) for m in self.boot_modes if BOOT_MODES[m][1])
            self.set_deadline(self.cluster.duration("node_boot") + extra)

    def _finish_boot_modes(self) -> None:
        """The boot did what the node's flags asked for: say so, and clear them."""
        c = self.cluster
        if "wipe" in self.boot_modes:
            volumes = sorted(v.vid for v in c.volumes.values() if self.name in v.nodes)
            lost = f"; its segments of volume(s) {', '.join(volumes)} are gone" if volumes else ""
            c.log("EXAoperation", self.name, "Warning", f"Node {self.name}: disks wiped{lost}")
        if "install" in self.boot_modes:
            self.installed = True
            c.log("EXAoperation", self.name, "Notice", f"Node {self.name} installed (EXAClusterOS {c.version})")
        if "fsck" in self.boot_modes:
            c.log("EXAoperation", self.name, "Notice", f"Node {self.name}: file systems checked")
        config = self.config()
        for flag, (mode, _) in FLAG_MODES.items():
            if mode in self.boot_modes and config[flag]:
                self.values[flag] = False
        self.boot_modes = []

    def shutdown(self, reboot: bool = False) -> None:
        if self.state == RUNNING:
            self.cluster.check_node_may_stop(self)
        self._transition("shutdown")
        self.reboot = reboot
        verb = "rebooting" if reboot else "shutting down"
        self.cluster.log("EXAoperation", self.name, "Notice", f"Node {self.name} is {verb}")
        self.cluster.node_leaving(self)
        port = self.cluster.driver(self)
        if port.simulated:
            self.set_deadline(self.cluster.duration("node_shutdown"))
        else:  # graceful, then forced off after the driver's shutdown_deadline
            self.set_deadline(None)
            self._request(port, "shutdown")

    def poweroff(self) -> None:
        allowed, _ = TRANSITIONS["poweroff"]
        if self.state in allowed and self.state == RUNNING:
            self.cluster.check_node_may_stop(self)
        if self.state not in allowed:
            self._transition("poweroff")
        port = self.cluster.driver(self)
        if not port.simulated:
            was = self.state
            self._transition("power_cut")
            self.set_deadline(None)
            self.reboot = False
            self.cluster.log("EXAoperation", self.name, "Warning", f"Node {self.name} is being powered off hard")
            if was in (RUNNING, SHUTTING_DOWN):
                self.cluster.node_lost(self, "was powered off")
            self._request(port, "off")
            return
        self._cut_power(f"Node {self.name} powered off hard", "was powered off")

    def _cut_power(self, message: str, how: str) -> None:
        """Power off at once (no shutdown): the node is off, and lost to whatever ran on it."""
        self._power(False, hard=True)
        was = self.state
        self._transition("poweroff")
        self.set_deadline(None)
        self.reboot = False
        self.cluster.log("EXAoperation", self.name, "Warning", message)
        if was in (RUNNING, SHUTTING_DOWN):
            self.cluster.node_lost(self, how)

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
            self._boot_finished()
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
            self._shutdown_finished(f"Node {self.name} is powered off")

    def _boot_finished(self) -> None:
        self._transition("boot_finished")
        self._finish_boot_modes()
        self.last_boot_seconds = self.cluster.now - (self.boot_started or self.cluster.now)
        self.cluster.log(
            "EXAoperation",
            self.name,
            "Notice",
            f"Boot process finished after {round(self.last_boot_seconds)} seconds",
        )
        if self.disabled:  # it boots, but does not join the cluster until it is enabled
            self.services_stopped = True
            self.cluster.log("EXAoperation", self.name, "Notice", f"{self.name} is disabled: it stays suspended")
            return
        self.cluster.node_arrived(self)

    def _shutdown_finished(self, sentence: str) -> None:
        self._transition("shutdown_finished")
        self.cluster.log("EXAoperation", self.name, "Notice", sentence)
        if self.reboot:
            self.reboot = False
            if not self.license_server and not self.cluster.pxe_available():
                self.cluster.log(
                    "EXAoperation", self.name, "Error",
                    f"{self.name} cannot boot again: it boots over PXE and no license server is running",
                )  # fmt: skip
                return
            try:
                if self.cluster.driver(self).simulated:
                    self._power(True)
                    self._begin_boot()
                else:
                    self._begin_boot(power="on")
            except UsageError as e:
                self.cluster.log("EXAoperation", self.name, "Error", f"{self.name} cannot boot again: {e}")

    # -- real machines: requests to the BMC and what comes back --------------------------------

    def _request(self, port: PowerPort, action: PowerAction) -> None:
        """Ask the BMC for ``action``; its outcome (later, on the model's thread) moves the node on."""
        self._token += 1
        token = self._token
        port.request(self.name, action, lambda report: self._power_done(token, report))

    def _saw_power(self, report: PowerReport) -> None:
        if report.power != "unknown" or not self.bmc_power:
            self.bmc_power = report.power
        self.bmc_power_at = self.cluster.now
        self._read_at = time.monotonic()
        self.changed()

    def _power_done(self, token: int, r: PowerReport) -> None:
        if token != self._token:
            return  # a newer request (or a reconnect after a restart) took over
        self._saw_power(r)
        c, n = self.cluster, self.name
        if r.ok:
            self.power_error = ""
        else:
            self.power_error = r.message
        if r.what in ("on", "reset"):
            if self.state != BOOTING:
                return
            if r.ok or r.power == "on":
                self.refresh_inventory(force=True)
                self._await_ready(c.driver(self))
                return
            self._transition("poweroff")
            self.set_deadline(None)
            self.boot_modes = []
            c.log("EXAoperation", n, "Error", f"Node {n} did not power on: {r.message}; the BMC reports "
                  f"{r.power}: it is {self.status.lower()}")  # fmt: skip
            return
        if self.state != SHUTTING_DOWN:
            return
        if r.ok or r.power == "off":
            how = "forced off after its graceful shutdown did not finish" if r.forced else "powered off"
            self._shutdown_finished(f"Node {n} is {how}")
            return
        c.log("EXAoperation", n, "Error", f"Node {n} did not power off: {r.message}; the BMC reports {r.power}: "
              "it stays shutting down (poweroffNode tries again)")  # fmt: skip

    def _await_ready(self, port: PowerPort) -> None:
        """Powered on: Running once the readiness probe passes (none: after the profile's boot duration)."""
        self._token += 1
        token = self._token
        if port.probe(self.name, lambda report: self._ready_done(token, report)):
            self.set_deadline(None)
        else:
            self._schedule_boot()

    def _ready_done(self, token: int, r: PowerReport) -> None:
        if token != self._token or self.state != BOOTING:
            return
        if r.ok:
            self.power_error = ""
            self.cluster.log("EXAoperation", self.name, "Notice", r.message)
            self._boot_finished()
            return
        self.power_error = r.message
        self._transition("not_ready")
        self.set_deadline(None)
        self.cluster.log("EXAoperation", self.name, "Error",
                         f"Node {self.name} is powered on but not ready: {r.message}")  # fmt: skip

    def power_read_back(self, r: PowerReport) -> None:
        """After a start of the control plane: the BMC's answer repairs the node and resumes what it was doing."""
        self._reading = False
        self._saw_power(r)
        if not r.ok:
            self.power_unreadable(r.message)
            return
        self.reconcile_power(r.power)
        self.refresh_inventory(force=True)
        if self._token:  # a request went out since: it decides
            return
        port = self.cluster.driver(self)
        if self.state == BOOTING and self.deadline is None and not self.boot_hang:
            self._await_ready(port)  # the probe (or the boot) under way was lost with the old process
        elif self.state == SHUTTING_DOWN and self.deadline is None:
            self._request(port, "shutdown")

    def power_unreadable(self, reason: str) -> None:
        self.power_error = reason
        self.changed()
        sentence = f"{self.name}: its power cannot be read: {reason}; it stays {self.status.lower()}"
        self.cluster.log("EXAoperation", self.name, "Warning", sentence)

    def _read_done(self, r: PowerReport) -> None:
        self._reading = False
        self._saw_power(r)

    # -- real machines: what the BMC tells about the hardware -----------------------------------

    def refresh_inventory(self, force: bool = False) -> None:
        """Ask the BMC (in the background) for the hardware and sensors, unless its last answer is
        recent (``force``: ask anyway, e.g. after a power-on). Nothing to ask on a simulated node."""
        if self._inventory_reading or (not force and time.monotonic() - self._inventory_read_at <= POWER_READ_AGE):
            return
        try:
            port = self.cluster.driver(self)
        except UsageError:
            return
        self._inventory_reading = True
        if not port.inventory(self.name, self._inventory_done):
            self._inventory_reading = False

    def _inventory_done(self, r: InventoryReport) -> None:
        self._inventory_reading = False
        self._inventory_read_at = time.monotonic()
        if r.ok:
            self.bmc_hardware, self.bmc_sensors = dict(r.hardware), list(r.sensors)
            self.bmc_inventory_at = self.cluster.now
            self.bmc_inventory_from = self.driver_name
            self.inventory_error = ""
        elif r.message != self.inventory_error:  # said once per new reason, not at every refresh
            self.inventory_error = r.message
            kept = "the last reading stays" if self.bmc_inventory_from else "the profile's hardware is shown"
            self.cluster.log("EXAoperation", self.name, "Warning",
                             f"{self.name}: its hardware information cannot be read: {r.message}; {kept}")  # fmt: skip
        self.changed()

    def forget_inventory(self) -> None:
        """The node's card changed: what the old one told no longer counts."""
        self.bmc_hardware, self.bmc_sensors = {}, []
        self.bmc_inventory_at, self.bmc_inventory_from, self.inventory_error = None, "", ""
        self._inventory_read_at = 0.0

    def _bmc_told(self) -> bool:
        return bool(self.bmc_inventory_from) and self.driver_name == self.bmc_inventory_from

    def shown_hardware(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The hardware shown (HARDWARE_SHOWN) and where each value came from: the driver whose BMC
        told it (``redfish``), else ``profile`` (the profile's hardware, or made up from the node's number)."""
        made_up = {"serial": f"EXA{self.number:05d}", "uuid": f"4c4c4544-0000-1000-8000-{self.number:012d}",
                   "bios_version": ""}  # fmt: skip
        base = {**made_up, **self.cluster.hardware_of(self)}
        told = self.bmc_hardware if self._bmc_told() else {}
        shown = {k: told.get(k, base.get(k, "")) for k in HARDWARE_SHOWN}
        return shown, {k: self.bmc_inventory_from if k in told else "profile" for k in HARDWARE_SHOWN}

    @property
    def power(self) -> str:
        """The machine's power as last known: the simulated machine's, or what the BMC reported."""
        try:
            port = self.cluster.driver(self)
        except UsageError:
            return "unknown"
        if not port.asynchronous:
            return port.power_state(self.name)
        stale = time.monotonic() - self._read_at > POWER_READ_AGE
        if stale and not self._reading and not self._token_busy():
            self._reading = True
            port.read(self.name, self._read_done)
        return self.bmc_power or "unknown"

    def _token_busy(self) -> bool:
        return self.state in (BOOTING, SHUTTING_DOWN) and self.deadline is None

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

    def reset(self) -> None:
        """Reset the machine at once (no shutdown) and boot it again."""
        if self.state == OFF:
            raise UsageError(f"{self.name} is powered off; start it with startupNode")
        if self.name == self.cluster.master.node:
            raise UsageError(f"{self.name} runs EXAoperation; resetting it would end EXAoperation")
        if self.state == RUNNING:
            self.cluster.check_node_may_stop(self)
        if not self.license_server and not self.cluster.pxe_available():
            raise UsageError(f"{self.name} boots over PXE from a license server, and no license server is running")
        if not self.cluster.driver(self).simulated:
            was = self.state
            self.reboot = False
            self.cluster.log("EXAoperation", self.name, "Warning", f"Node {self.name} reset")
            if was in (RUNNING, SHUTTING_DOWN):
                self.cluster.node_lost(self, "was reset")
            self._begin_boot("reset", power="reset")
            return
        self._cut_power(f"Node {self.name} reset", "was reset")
        self._power(True)
        self._begin_boot()

    # -- modes: what the next boot does ---------------------------------------------------------

    @property
    def mode(self) -> str:
        """'Active', or what the next boot will do: 'To wipe', 'To install', 'Force fsck', 'Force no fsck'."""
        flags = self.values  # the boot flags are False unless set on the node (cheap: getNodeState shows it)
        if not self.installed and not flags.get("to_wipe"):
            return "To install"
        return next((word for flag, (_, word) in FLAG_MODES.items() if flags.get(flag)), "Active")

    def set_mode(self, flag: str, on: bool = True, log: bool = True) -> bool:
        """Set or clear a boot flag (node_config.BOOT_FLAGS); returns whether it changed."""
        config = self.config()
        if config[flag] == on:
            return False
        self.values[flag] = on
        other = {"force_fsck": "force_no_fsck", "force_no_fsck": "force_fsck"}.get(flag)
        if on and other and config[other]:  # one or the other
            self.values[other] = False
        self.changed()
        if log:
            what = BOOT_MODES[FLAG_MODES[flag][0]][0]
            self.cluster.log("EXAoperation", self.name, "Notice",
                             f"Node {self.name}: {'' if on else 'no longer '}{what} at its next boot")  # fmt: skip
        return True

    def set_wipe_mode(self) -> None:
        if self.set_mode("to_wipe"):
            volumes = sorted(v.vid for v in self.cluster.volumes.values() if self.name in v.nodes)
            if volumes:
                self.cluster.log("EXAoperation", self.name, "Warning", f"Node {self.name} holds segments of "
                                 f"volume(s) {', '.join(volumes)}: the wipe at its next boot erases them")  # fmt: skip

    def set_active_mode(self) -> list[str]:
        """Clear every boot flag: the node boots as it is. Returns the flags cleared."""
        if not self.installed:
            raise UsageError(f"{self.name} was never installed: it is installed at its first boot")
        cleared = [flag for flag in FLAG_MODES if self.set_mode(flag, False, log=False)]
        if cleared:
            self.cluster.log("EXAoperation", self.name, "Notice",
                             f"Node {self.name} is active; cleared: {', '.join(cleared)}")  # fmt: skip
        return cleared

    # -- cluster services, LED, what the management card tells -------------------------------------

    def stop_services(self) -> None:
        """stopClusterServices: the node keeps running but leaves the cluster (Suspended)."""
        if self.state != RUNNING:
            raise UsageError(f"{self.name} is {self.status.lower()}; its cluster services run only while it runs")
        if self.services_stopped:
            raise UsageError(f"the cluster services of {self.name} are already stopped")
        if self.name == self.cluster.master.node:
            raise UsageError(f"{self.name} runs EXAoperation; move it with restartEXAoperation first")
        users = [db.name for db in self.cluster.databases.values() if db.uses_storage and self.name in db.active]
        if users:
            raise UsageError(f"{self.name} runs database(s) {', '.join(users)}; stop them first")
        self.services_stopped = True
        self.changed()
        self.cluster.log("EXAoperation", self.name, "Warning",
                         f"cluster services of {self.name} stopped: the node is suspended")  # fmt: skip
        self.cluster.node_lost(self, "was suspended (its cluster services stopped)")

    def start_services(self) -> None:
        if self.state != RUNNING:
            raise UsageError(f"{self.name} is {self.status.lower()}; its cluster services start when it boots")
        if not self.services_stopped:
            raise UsageError(f"the cluster services of {self.name} are running")
        self.services_stopped = False
        self.changed()
        self.cluster.log("EXAoperation", self.name, "Notice", f"cluster services of {self.name} started")
        self.cluster.node_arrived(self)

    def set_disabled(self, on: bool) -> None:
        """Disabled, a node stays suspended (its cluster services stopped) across boots."""
        if on != self.disabled:
            self.disabled = on
            self.changed()
            self.cluster.log("EXAoperation", self.name, "Notice", f"{self.name} {'disabled' if on else 'enabled'}")

    def toggle_id_led(self) -> str:
        self.id_led = not self.id_led
        self.changed()
        state = "on" if self.id_led else "off"
        self.cluster.log("EXAoperation", self.name, "Information", f"Node {self.name}: ID LED {state}")
        return state

    def sensors(self) -> list[dict[str, str]]:
        """What the node's management card reports: power, ID LED, temperatures, fans, power supplies.
        Readings exist while the machine has power; without it they are 'na'."""
        on = self.power == "on"
        hw = self.cluster.hardware_of(self)
        self.refresh_inventory()

        def row(name: str, value: Any, unit: str = "") -> dict[str, str]:
            return {"name": name, "value": str(value) if on or unit == "" else "na", "unit": unit,
                    "status": "ok" if on or unit == "" else "na"}  # fmt: skip

        rows = [row("Power", "on" if on else "off"), row("ID LED", "on" if self.id_led else "off"),
                row("Inlet Temp", 22 + self.number % 3, "degrees C")]  # fmt: skip
        if self._bmc_told() and self.bmc_sensors:  # what the BMC read, in place of the made-up readings
            return rows[:2] + [
                {"name": str(r["name"]), "value": "na" if r["value"] is None else f"{r['value']:g}",
                 "unit": str(r["unit"]), "status": str(r["health"])}
                for r in self.bmc_sensors
            ]  # fmt: skip
        rows += [row(f"CPU{s + 1} Temp", 41 + (self.number + s) % 9, "degrees C") for s in range(int(hw["sockets"]))]
        rows += [row(f"Fan{i + 1}", 5400 + 120 * ((self.number + i) % 5), "RPM") for i in range(4)]
        rows += [row(f"PSU{i + 1} Status", "present, ok" if on else "present", "") for i in range(2)]
        return rows

    def bonding_active_slaves(self) -> dict[str, list[str]]:
        """The node's bonds (networks it has, bonded with another network it has): their active
        interfaces, none while the node is not up."""
        config = self.config()
        out: dict[str, list[str]] = {}
        for field in ("vlan_list", "public_network_list"):
            for net, iface in config[field].items():
                obj = self.cluster.object_at(net)
                partner = obj.values.get("bonding_network", "") if obj is not None else ""
                if partner in config[field]:
                    out["bond-" + "-".join(sorted((net, partner)))] = (
                        sorted((iface, config[field][partner])) if self.up else [])  # fmt: skip
        return out

    # -- configuration (model/node_config.py) ------------------------------------------------------

    def config(self) -> dict[str, Any]:
        return {**node_config.defaults(self.cluster, self.number), **self.values}

    def properties(self) -> dict[str, Any]:
        return node_config.SCHEMA.public(self.config())

    @property
    def vlan_list(self) -> dict[str, str]:
        return dict(self.config()["vlan_list"])

    @property
    def public_network_list(self) -> dict[str, str]:
        return dict(self.config()["public_network_list"])

    # -- views -------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        from exaop.model.logs import strtime

        return {
            "status": self.status,
            "power": self.power,
            "power_read": strtime(self.bmc_power_at) if self.bmc_power_at is not None else "",
            "power_error": self.shown_power_error,
            "since": strtime(self.since),
            "license_server": self.license_server,
            "mode": self.mode,
        }

    @property
    def driver_name(self) -> str:
        """The driver that powers the node ('unknown' when its group's cannot be made: see power_error)."""
        try:
            return self.cluster.driver(self).name
        except UsageError:
            return "unknown"

    @property
    def shown_power_error(self) -> str:
        """The last failure of a power request, or why the node has no driver."""
        try:
            self.cluster.driver(self)
        except UsageError as e:
            return str(e)
        return self.power_error

    def info(self) -> dict[str, Any]:
        from exaop.model.logs import strtime

        hw, source = self.shown_hardware()
        self.refresh_inventory()
        told_sensors = self._bmc_told() and bool(self.bmc_sensors)
        return {
            "name": self.name,
            "number": self.number,
            "status": self.status,
            "license_server": self.license_server,
            "private_ip": self.ip,
            "power_driver": self.driver_name,
            "power": self.power,
            "power_read": strtime(self.bmc_power_at) if self.bmc_power_at is not None else "",
            "power_error": self.shown_power_error,
            "vendor": hw["vendor"],
            "product": hw["product"],
            "cpu": hw["cpu"],
            "cores": int(hw["sockets"]) * int(hw["cores_per_socket"]),
            "memory_gib": hw["memory_gib"],
            "serial": hw["serial"],
            "bios_version": hw["bios_version"],
            # where each value came from: the driver whose BMC told it, or 'profile'
            "hardware_source": {
                **{k: source[k] for k in ("vendor", "product", "cpu", "memory_gib", "serial", "bios_version")},
                "cores": source["sockets"]
                if source["sockets"] == source["cores_per_socket"]
                else f"{source['sockets']} (sockets), {source['cores_per_socket']} (cores per socket)",
                "sensors": self.bmc_inventory_from if told_sensors else "simulated",
            },
            "hardware_read": strtime(self.bmc_inventory_at) if self.bmc_inventory_at is not None else "",
            "hardware_error": self.inventory_error,
            "last_boot_seconds": round(self.last_boot_seconds) if self.last_boot_seconds else 0,
            "mode": self.mode,
            "installed": self.installed,
            "cluster_services": "stopped" if self.services_stopped else ("running" if self.up else "not running"),
            "id_led": "on" if self.id_led else "off",
            "disabled": self.disabled,
            "public_ip": node_config.public_ip(self.cluster, self.config()),
            "ipmi_group": self.config()["ipmi_group"],
        }

    def disks(self) -> list[dict[str, Any]]:
        """The node's disks as getDiskStates shows them (model/disks.py)."""
        return disk_states(self.cluster, self.name)

    def hardware_information(self, infotype: Any = 1) -> str:
        """The DMI dump while the node is online; offline, a sentence without the word dmidecode
        (scripts test for it to tell whether a node is up)."""
        self.refresh_inventory()
        if not self.up:
            return f"{self.name} is not online ({self.status.lower()}); no hardware inventory available"
        try:
            kind = int(infotype)
        except ValueError:
            kind = -1
        return self.dmidecode(kind)

    def dmidecode(self, infotype: int = 1) -> str:
        hw, source = self.shown_hardware()
        lines = [
            "# dmidecode 3.3",
            "Getting SMBIOS data from sysfs.",
            "SMBIOS 3.2.0 present.",
            "",
        ]
        told = [k for k in HARDWARE_SHOWN if source[k] != "profile"]
        if told:  # a comment, as dmidecode's header is: parsers skip it
            lines.insert(1, f"# from the {self.bmc_inventory_from} BMC: {', '.join(told)}; the rest from the profile")
        if infotype == 0 and hw["bios_version"]:
            lines += ["Handle 0x0000, DMI type 0, 26 bytes", "BIOS Information", f"\tVersion: {hw['bios_version']}", ""]
        if infotype in (0, 1):
            lines += [
                "Handle 0x0100, DMI type 1, 27 bytes",
                "System Information",
                f"\tManufacturer: {hw['vendor']}",
                f"\tProduct Name: {hw['product']}",
                f"\tSerial Number: {hw['serial']}",
                f"\tUUID: {hw['uuid']}",
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
