"""The power driver interface. Shared logic lives here; drivers implement three primitives."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Literal

PowerState = Literal["on", "off", "unknown"]


class DriverError(Exception):
    """The management interface refused or failed; the text says why."""


class PowerDriver(ABC):
    #: name used in profiles and state (``simulated``, ``redfish``, ``ipmi``, ``command``)
    name: str = ""
    #: True when boot and shutdown times come from the profile (no real machine to watch)
    simulated: bool = False

    @abstractmethod
    def _power_on(self, node: str) -> None: ...

    @abstractmethod
    def _power_off(self, node: str, hard: bool) -> None: ...

    @abstractmethod
    def _power_state(self, node: str) -> PowerState: ...

    def power_on(self, node: str) -> None:
        try:
            self._power_on(node)
        except DriverError:
            raise
        except Exception as e:  # a driver library's own exception: name it, keep the reason
            raise DriverError(f"{type(e).__name__}: {e}") from e

    def power_off(self, node: str, hard: bool = False) -> None:
        try:
            self._power_off(node, hard)
        except DriverError:
            raise
        except Exception as e:
            raise DriverError(f"{type(e).__name__}: {e}") from e

    # -- what only simulated hardware can do; real machines answer for themselves ----------

    def machine_changed(self, node: str, powered: bool) -> None:  # noqa: B027 - real hardware: nothing to record
        """The machine went on or off by itself (a crash, the license server booting)."""

    def set_refuse(self, node: str, refuse: bool) -> None:
        """Make the management card refuse requests (the power_fail fault)."""
        raise DriverError(f"the {self.name} driver cannot simulate a refusing management card")

    def refusing(self) -> set[str]:
        return set()

    def power_state(self, node: str) -> PowerState:
        try:
            return self._power_state(node)
        except Exception:
            return "unknown"
