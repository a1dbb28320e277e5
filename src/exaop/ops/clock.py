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


def rate(clock: ToolClock) -> float | None:
    """Clock seconds per real second; None when the clock moves only when told (a manual one)."""
    return getattr(clock, "rate", None)


class RealClock:
    rate = 1.0

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
        self.rate = speed

    def now(self) -> float:
        return time.monotonic() * self.speed

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds) / self.speed)


class SimulationClock:
    """For a server on a manual clock (``--speed 0``): sleeping moves the server's clock.

    Uses its own client (the simulation object needs the Master role), so its calls are
    not counted with the procedure's.

    A call that answers once something is done (``startEXAStorage``) answers while the
    clock is moved past that moment. So after a move that made something happen, the
    clock asks the server once more (by then the server has sent such answers: it
    answers in order) and gives them ``settle`` real seconds to arrive, as they would on
    a running clock. Without that the procedure would move the clock on while they travel.
    """

    rate = None  # its time moves when the tool sleeps, not with the wall clock

    def __init__(self, client: ExaClient, settle: float = 0.05) -> None:
        self.client = client
        self.settle = settle
        clock = client.call("/simulation", "getClock", retry_until=time.monotonic() + 30)
        self._now = float(clock["now"])
        self._next = float(clock.get("next_deadline") or 0)

    def now(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        try:
            clock = self.client.call("/simulation", "advanceClock", float(max(0.0, seconds)))
            self._now = float(clock["now"])
            fired = 0 < self._next <= self._now  # something became due during this sleep
            self._next = float(clock.get("next_deadline") or 0)
            if fired:
                self.client.call("/simulation", "getClock")
                time.sleep(self.settle)
        except Unreachable:
            # the server is away (restarting): its time cannot move; wait a little for real
            time.sleep(min(seconds, 0.05))
            self._now += seconds
