"""The shared part of every power driver. Drivers implement three primitives."""

from __future__ import annotations

from abc import abstractmethod

from exaop.model.power import DriverError, PowerPort, PowerState

__all__ = ["DriverError", "PowerDriver", "PowerState"]


class PowerDriver(PowerPort):
    """A :class:`PowerPort` whose errors are always :class:`DriverError` with a reason."""

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

    def power_state(self, node: str) -> PowerState:
        try:
            return self._power_state(node)
        except Exception:
            return "unknown"
