"""Power drivers: how a node is powered on and off, and how we learn whether it is."""

from exaop.engine.drivers.base import DriverError, PowerDriver
from exaop.engine.drivers.simulated import SimulatedDriver

__all__ = ["DriverError", "PowerDriver", "SimulatedDriver"]
