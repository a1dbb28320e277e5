"""The power port: what the model needs from whatever powers nodes on and off.

The model owns this interface; drivers (simulated, Redfish, IPMI, a command hook) live in
the engine and implement it. Nothing here knows how a machine is reached.

Two shapes:

* **blocking** (``power_on``, ``power_off``, ``power_state``): for machines that answer at
  once (the simulated ones, ``simulated = True``) and for tools. The model uses it only
  on simulated ports.
* **request + completion** (``request``, ``read``, ``probe``): for real machines, whose
  BMCs take seconds. The call returns at once; ``done(report)`` is called later *on the
  model's thread* (the engine hands the outcome over to its event loop), and the model's
  state machine goes on from there. The defaults here do the work with the blocking
  methods and call ``done`` before returning, so every port has both shapes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

PowerState = Literal["on", "off", "unknown"]
#: what a request asks of a machine: on; a graceful shutdown (forced off after a deadline); off at once; reset
PowerAction = Literal["on", "shutdown", "off", "reset"]


class DriverError(Exception):
    """The management interface refused or failed; the text says why."""


@dataclass(frozen=True)
class PowerReport:
    """How a request, a read or a readiness probe ended."""

    node: str
    what: str  # the action ("on", "shutdown", "off", "reset"), "read" or "ready"
    ok: bool
    power: PowerState  # what the BMC reported last ('unknown': it could not be read)
    message: str  # one sentence: what happened, or what failed (naming node, BMC and reason)
    forced: bool = False  # a graceful shutdown that had to be forced off


Done = Callable[[PowerReport], None]


@dataclass(frozen=True)
class InventoryReport:
    """What a BMC told about the machine (``inventory``): hardware in the model's keys, sensors.

    ``hardware`` holds only what the BMC knows, among ``vendor``, ``product``, ``serial``,
    ``uuid``, ``cpu``, ``sockets``, ``memory_gib`` and ``bios_version``;
    ``sensors`` dictionaries with ``name``, ``kind``, ``value`` (a number, or None without a
    reading), ``unit`` and ``health``. Not ``ok``: ``message`` says why, and the last reading stands."""

    node: str
    ok: bool
    hardware: dict[str, Any]
    sensors: list[dict[str, Any]]
    message: str


class PowerPort(ABC):
    #: name used in profiles and state (``simulated``, ``redfish``, ``ipmi``, ``command``)
    name: str = ""
    #: True when boot and shutdown times come from the profile (no real machine to watch)
    simulated: bool = False
    #: True when ``request``/``read`` answer later (a real BMC): the model never waits for its blocking methods
    asynchronous: bool = False

    @abstractmethod
    def power_on(self, node: str) -> None:
        """Switch the machine on; :class:`DriverError` when the management interface refuses."""

    @abstractmethod
    def power_off(self, node: str, hard: bool = False) -> None:
        """Switch the machine off (``hard``: at once, without a graceful shutdown)."""

    @abstractmethod
    def power_state(self, node: str) -> PowerState:
        """What the management interface reports; ``'unknown'`` when it cannot tell."""

    # -- request + completion: the shape for machines that take their time -------------------

    def request(self, node: str, action: PowerAction, done: Done) -> None:
        """Start ``action`` on ``node``; ``done(report)`` once the machine shows it (or it failed).

        Here the blocking methods do it before returning; a port of real machines returns at
        once and calls ``done`` later on the model's thread."""
        try:
            self.perform(node, action)
        except DriverError as e:
            done(PowerReport(node, action, False, self.power_state(node), f"{action} of {node} failed: {e}"))
            return
        done(PowerReport(node, action, True, self.power_state(node), f"{action} of {node}: done"))

    def perform(self, node: str, action: PowerAction) -> None:
        """``action`` with the blocking methods (a reset is a hard off, then on)."""
        if action == "reset":
            self.power_off(node, hard=True)
        if action in ("on", "reset"):
            self.power_on(node)
        else:
            self.power_off(node, hard=action == "off")

    def read(self, node: str, done: Done) -> None:
        """Read the machine's power; ``done(report)`` with what the management interface said."""
        state = self.power_state(node)
        done(PowerReport(node, "read", state != "unknown", state, f"{node}: the power reads {state}"))

    def probe(self, node: str, done: Done) -> bool:
        """Start the readiness probe of a node whose machine is on; ``done(report)`` once it
        passed or gave up. False: this port has no probe (the profile's boot duration stands in)."""
        return False

    def inventory(self, node: str, done: Callable[[InventoryReport], None]) -> bool:
        """Start reading what the BMC tells about the machine (hardware, sensors); ``done(report)``
        later on the model's thread. False: this port has no BMC to ask (the profile's hardware stands)."""
        return False

    # -- what only simulated hardware can do; real machines answer for themselves ----------

    def machine_changed(self, node: str, powered: bool) -> None:  # noqa: B027 - real hardware: nothing to record
        """The machine went on or off by itself (a crash, the license server booting)."""

    def set_refuse(self, node: str, refuse: bool) -> None:
        """Make the management card refuse requests (the power_fail fault)."""
        raise DriverError(f"the {self.name} driver cannot simulate a refusing management card")

    def refusing(self) -> set[str]:
        return set()


class PowerPorts(Protocol):
    """The engine's side: which port powers a node whose card is in a server-management group."""

    def port_for(self, node: str) -> PowerPort | None:
        """The port of ``node`` (by its group), or None when its group names no driver the engine has.

        Raises :class:`DriverError` when the group's settings cannot make a driver (the text names the field)."""
        ...
