"""The clock a procedure waits on.

Against a real cluster it is the wall clock. Against a simulated cluster whose clock runs
fast (``ScaledClock``) or stands still until moved (``SimulationClock``), waits are counted
in the cluster's time, so the same backoff policy (0.2 s up to 5 s) keeps its meaning.
"""

from __future__ import annotations

import time
from typing import Protocol

from exaop.client import ExaClient, Unreachable


class ToolClock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class RealClock:
    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


class ScaledClock:
    """For a server started with ``--speed N``: N cluster seconds pass each real second."""

    def __init__(self, speed: float) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed

    def now(self) -> float:
        return time.monotonic() * self.speed

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds) / self.speed)


class SimulationClock:
    """For a server on a manual clock (``--speed 0``): sleeping moves the server's clock.

    Uses its own client (the simulation object needs the Master role), so its calls are
    not counted with the procedure's.
    """

    def __init__(self, client: ExaClient) -> None:
        self.client = client
        self._now = float(client.call("/simulation", "getClock", retry_until=time.monotonic() + 30)["now"])

    def now(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        try:
            clock = self.client.call("/simulation", "advanceClock", float(max(0.0, seconds)))
            self._now = float(clock["now"])
        except Unreachable:
            # the server is away (restarting): its time cannot move; wait a little for real
            time.sleep(min(seconds, 0.05))
            self._now += seconds
