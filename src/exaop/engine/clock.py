"""Simulated time.

All durations in the model are seconds of *simulated* time, read from a clock:

* ``speed=1``: simulated time runs with the wall clock;
* ``speed=60``: a simulated minute passes each real second (demos);
* ``speed=0``: time stands still until ``advance()`` moves it (tests).

``advance()`` jumps forward on any clock; time never runs backwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Clock:
    def __init__(
        self,
        start: float | None = None,
        speed: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed < 0:
            raise ValueError("clock speed must be >= 0")
        self._monotonic = monotonic
        self._base_sim = time.time() if start is None else float(start)
        self._base_real = monotonic()
        self.speed = float(speed)

    def now(self) -> float:
        """Simulated seconds since the Unix epoch."""
        return self._base_sim + (self._monotonic() - self._base_real) * self.speed

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._base_sim += seconds
        return self.now()

    def set_speed(self, speed: float) -> None:
        """Run at ``speed`` from now on (0: stand still); the time read now does not move."""
        if speed < 0:
            raise ValueError("clock speed must be >= 0")
        self._base_sim = self.now()
        self._base_real = self._monotonic()
        self.speed = float(speed)

    def real_delay(self, sim_seconds: float) -> float | None:
        """Real seconds until ``sim_seconds`` of simulated time pass, or None if never."""
        if sim_seconds <= 0:
            return 0.0
        if self.speed == 0:
            return None
        return sim_seconds / self.speed
