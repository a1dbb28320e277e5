"""Waiting for observed state: backoff, deadlines, and a reason when time runs out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from exaop.client import AuthError, ServerFault, Unreachable
from exaop.ops.errors import AuthFailed, WaitTimeout


@dataclass(frozen=True)
class Backoff:
    """Poll intervals: start at ``first``, grow by ``factor`` up to ``cap``, but never more
    than ``fraction`` of the time waited so far, or ``fine``, whichever is more: a wait
    overshoots its target by at most about that fraction, or ``fine`` seconds. Polls that
    would only save overshoots under ``fine`` are not worth their calls: at ``first`` they
    were a third of a small cluster's stop (bench/lifecycle.py). Progress brings the
    interval back to ``fine``: news are looked at again soon, without polling every
    ``first`` seconds while they keep coming (a thousand nodes finish their boots)."""

    first: float = 0.2
    factor: float = 1.5
    cap: float = 5.0
    fraction: float = 0.04
    fine: float = 1.0

    def next(self, previous: float, elapsed: float) -> float:
        return max(self.first, min(previous * self.factor, self.cap, max(self.fine, self.fraction * elapsed)))


@dataclass
class Observation:
    done: bool
    summary: str  # what was seen, for progress lines and timeout messages
    progress: Any = None  # changes when something moved forward
    data: dict[str, Any] | None = None


def fmt_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"


def wait_until(
    ctx: Any,
    phase: str,
    what: str,
    observe: Callable[[], Observation],
    timeout: float,
    backoff: Backoff | None = None,
) -> Observation:
    """Call ``observe`` until it reports done; raise :class:`WaitTimeout` at the deadline.

    A server that does not answer for a while (restarting) is waited for within the same
    deadline; faults and authentication errors end the wait at once.
    """
    policy = backoff or ctx.backoff
    clock = ctx.clock
    start = clock.now()
    deadline = start + timeout
    interval = policy.first
    last_progress: Any = object()
    last_seen = "nothing yet"
    while True:
        try:
            obs = observe()
        except AuthError as e:
            raise AuthFailed(str(e)) from None
        except Unreachable as e:
            obs = None
            last_seen = f"no answer from EXAoperation ({e})"
        except ServerFault:
            raise
        if obs is not None:
            last_seen = obs.summary
            if obs.done:
                ctx.emit("observation", phase, obs.summary, **(obs.data or {}))
                return obs
            if obs.progress != last_progress:
                last_progress = obs.progress
                interval = min(interval, policy.fine)
                ctx.emit("progress", phase, obs.summary, **(obs.data or {}))
        now = clock.now()
        if now >= deadline:
            raise WaitTimeout(
                f"{phase}: timed out after {fmt_duration(timeout)} waiting for {what}; last seen: {last_seen}"
            )
        clock.sleep(min(interval, deadline - now))
        interval = policy.next(interval, clock.now() - start)
