"""Simulation controls (/cluster1/simulation): only with simulated hardware, only for Master."""

from __future__ import annotations

from typing import Any

from exaop.faces.exaoperation.dispatch import Context
from exaop.faces.exaoperation.registry import ObjectType
from exaop.model.cluster import FAULTS
from exaop.model.errors import UsageError
from exaop.model.logs import strtime

SIMULATION = ObjectType("Simulation")
m = SIMULATION.method


def _clock(ctx: Context) -> dict[str, Any]:
    c = ctx.cluster
    return {
        "now": c.now,
        "strtime": strtime(c.now),
        "speed": ctx.runtime.clock.speed,
        "next_deadline": c.next_deadline() or 0.0,
    }


@m("getClock", "manage", "The simulated time (seconds since the epoch and as text), the clock speed and "
   "the next scheduled transition (0 when none).", returns="struct")  # fmt: skip
def get_clock(ctx: Context, obj: Any) -> dict[str, Any]:
    return _clock(ctx)


@m("advanceClock", "manage", "Move simulated time forward by the given seconds, running every "
   "transition that falls due, in order. Returns the clock as getClock does.", returns="struct")  # fmt: skip
def advance_clock(ctx: Context, obj: Any, seconds: float) -> dict[str, Any]:
    if not 0 <= seconds <= 10 * 365 * 86400:
        raise UsageError("seconds must be from 0 to ten years")
    ctx.runtime.advance_clock(float(seconds))
    return _clock(ctx)


MAX_SPEED = 1_000_000.0


@m("setClockSpeed", "manage", "Run the simulated clock at this speed from now on: simulated seconds per "
   "real second, 0 to stand still (then advanceClock moves it). Lasts until the server starts again "
   "(with its --speed). Returns the clock as getClock does.", returns="struct")  # fmt: skip
def set_clock_speed(ctx: Context, obj: Any, speed: float) -> dict[str, Any]:
    if isinstance(speed, bool) or not 0 <= speed <= MAX_SPEED:
        raise UsageError(f"speed must be a number from 0 to {MAX_SPEED:,.0f}")
    ctx.runtime.set_clock_speed(float(speed))
    return _clock(ctx)


@m("injectFault", "manage", "Make something fail: injectFault(target, fault) with fault one of "
   + ", ".join(FAULTS) + ". boot_hang, power_fail and crash target a node; start_fail a database.")  # fmt: skip
def inject_fault(ctx: Context, obj: Any, target: str | int, fault: str) -> str:
    return ctx.cluster.inject_fault(target, fault)


@m("clearFaults", "manage", "Remove every injected fault; a boot that hung continues. Returns what was cleared.",
   returns="array")  # fmt: skip
def clear_faults(ctx: Context, obj: Any) -> list[str]:
    return ctx.cluster.clear_faults()


@m("getProperties", "manage", "The simulation's settings.", returns="struct")
def get_properties(ctx: Context, obj: Any) -> dict[str, Any]:
    return {"faults": list(FAULTS), "speed": ctx.runtime.clock.speed}
