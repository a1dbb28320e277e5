"""The power port: what the model needs from whatever powers nodes on and off.

The model owns this interface; drivers (simulated, Redfish, IPMI, a command hook) live in
the engine and implement it. Nothing here knows how a machine is reached.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Literal

PowerState = Literal["on", "off", "unknown"]


class DriverError(Exception):
    """The management interface refused or failed; the text says why."""


class PowerPort(ABC):
    #: name used in profiles and state (``simulated``, ``redfish``, ``ipmi``, ``command``)
    name: str = ""
    #: True when boot and shutdown times come from the profile (no real machine to watch)
    simulated: bool = False

    @abstractmethod
    def power_on(self, node: str) -> None:
        """Switch the machine on; :class:`DriverError` when the management interface refuses."""

    @abstractmethod
    def power_off(self, node: str, hard: bool = False) -> None:
        """Switch the machine off (``hard``: at once, without a graceful shutdown)."""

    @abstractmethod
    def power_state(self, node: str) -> PowerState:
        """What the management interface reports; ``'unknown'`` when it cannot tell."""

    # -- what only simulated hardware can do; real machines answer for themselves ----------

    def machine_changed(self, node: str, powered: bool) -> None:  # noqa: B027 - real hardware: nothing to record
        """The machine went on or off by itself (a crash, the license server booting)."""

    def set_refuse(self, node: str, refuse: bool) -> None:
        """Make the management card refuse requests (the power_fail fault)."""
        raise DriverError(f"the {self.name} driver cannot simulate a refusing management card")

    def refusing(self) -> set[str]:
        return set()
