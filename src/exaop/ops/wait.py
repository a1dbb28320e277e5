"""Waiting for observed state: backoff, deadlines, heartbeats, and what was seen last when time runs out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from exaop.client import ClientError, ServerFault, Unreachable
from exaop.ops.clock import ToolClock
from exaop.ops.errors import WaitTimeout, as_ops_error

SHOW = 8  # pending objects a message names at most ("... and 92 more")


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


def fmt_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"


@dataclass
class Seen:
    """An awaited object's state as last asked, and since when (on the run's clock) it has
    been in it as far as the tool knows."""

    name: str
    state: str
    since: float
    asked: float = 0.0

    def describe(self, now: float) -> str:
        return f"{self.name} {self.state} for {fmt_duration(now - self.since)}"


@dataclass
class Observation:
    done: bool
    summary: str  # what was seen, in short: "nodes online 3/4"
    progress: Any = None  # changes when something moved forward
    count: tuple[int, int] | None = None  # (done, total) when objects are counted
    pending: list[Seen] = field(default_factory=list)  # what is still awaited, as last asked (SHOW at most)
    more: int = 0  # pending objects not in ``pending``

    def text(self, now: float) -> str:
        if not self.pending:
            return self.summary + (f"; waiting for {self.more} more" if self.more else "")
        names = ", ".join(s.describe(now) for s in self.pending)
        return f"{self.summary}; waiting for {names}" + (f" and {self.more} more" if self.more else "")

    def data(self, now: float) -> dict[str, Any]:
        done, total = self.count if self.count is not None else (None, None)
        pending = [{"name": s.name, "state": s.state, "for": round(now - s.since, 1)} for s in self.pending]
        return {"done": done, "total": total, "pending": pending}


class WaitContext(Protocol):
    """What a wait needs of a run."""

    clock: ToolClock
    backoff: Backoff
    deadline: float  # until when a call is retried while EXAoperation does not answer

    def emit(self, kind: str, phase: str, message: str, **data: Any) -> None: ...

    def heartbeat_due(self) -> bool: ...


def wait_until(
    ctx: WaitContext,
    phase: str,
    what: str,
    observe: Callable[[], Observation],
    timeout: float,
    backoff: Backoff | None = None,
    last_look: Callable[[], Observation] | None = None,
) -> Observation:
    """Call ``observe`` until it reports done; raise :class:`WaitTimeout` at the deadline.

    Each change is reported (``progress``), and when nothing changes a heartbeat repeats
    the last look whenever ``ctx.heartbeat_due()``. A server that does not answer for a
    while (restarting) is waited for within the same deadline; faults and authentication
    errors end the wait at once. At the deadline ``last_look`` (if given) looks once more
    at what the message will name, so that it says what is true now.
    """
    policy = backoff or ctx.backoff
    clock = ctx.clock
    start = clock.now()
    deadline = start + timeout
    ctx.deadline = max(ctx.deadline, deadline)  # the wait's calls retry within the wait's time
    interval = policy.first
    last_progress: Any = object()
    last: Observation | None = None
    unanswered = ""
    while True:
        try:
            obs: Observation | None = observe()
            unanswered = ""
        except Unreachable as e:
            obs = None
            unanswered = f"no answer from EXAoperation ({e})"
        except ServerFault:
            raise
        except ClientError as e:
            raise as_ops_error(e, phase) from None
        now = clock.now()
        if obs is not None:
            last = obs
            if obs.done:
                ctx.emit("observation", phase, obs.text(now), **obs.data(now))
                return obs
            news = obs.progress != last_progress
            if news:
                last_progress = obs.progress
                interval = min(interval, policy.fine)
            if news or ctx.heartbeat_due():
                ctx.emit("progress", phase, obs.text(now), news=news, **obs.data(now))
        elif ctx.heartbeat_due():
            ctx.emit("progress", phase, unanswered, news=False, done=None, total=None, pending=[])
        if now >= deadline:
            if last_look is not None:
                try:
                    last, unanswered = last_look(), ""
                except Unreachable as e:
                    unanswered = f"no answer from EXAoperation ({e})"
            seen = last.text(clock.now()) if last is not None else ""
            if unanswered:
                seen = unanswered + (f"; before that: {seen}" if seen else "")
            raise WaitTimeout(
                f"{phase}: timed out after {fmt_duration(timeout)} waiting for {what}; last seen: {seen or 'nothing'}"
            )
        clock.sleep(min(interval, deadline - now))
        interval = policy.next(interval, clock.now() - start)
