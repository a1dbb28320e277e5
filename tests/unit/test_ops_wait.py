"""ops/wait.py: poll intervals that back off within bounds, and waits that end with a reason."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exaop.client import AuthError, ServerFault, Unreachable
from exaop.ops.errors import AuthFailed, WaitTimeout
from exaop.ops.wait import Backoff, Observation, Seen, fmt_duration, wait_until


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.t += seconds


class Ctx:
    """What wait_until needs of a Run: a clock, a backoff policy, emit, heartbeats (the
    fake clock's seconds stand for real ones)."""

    def __init__(self, backoff: Backoff | None = None, heartbeat: float = 30.0) -> None:
        self.clock = FakeClock()
        self.backoff = backoff or Backoff()
        self.heartbeat = heartbeat
        self.deadline = 0.0
        self.events: list[tuple[str, str, str]] = []
        self.data: list[dict[str, Any]] = []
        self.times: list[float] = []

    def emit(self, kind: str, phase: str, message: str, **data: Any) -> None:
        self.events.append((kind, phase, message))
        self.data.append(data)
        self.times.append(self.clock.t)

    def heartbeat_due(self) -> bool:
        last = self.times[-1] if self.times else 1000.0
        return self.clock.t - last >= self.heartbeat - self.backoff.cap


# -- Backoff --------------------------------------------------------------------------------------


@given(
    previous=st.floats(0, 1e6, allow_nan=False),
    elapsed=st.floats(0, 1e7, allow_nan=False),
    first=st.floats(0.01, 2),
    factor=st.floats(1, 4),
    cap=st.floats(2, 60),
    fraction=st.floats(0.001, 0.5),
)
def test_backoff_interval_stays_within_its_bounds(
    previous: float, elapsed: float, first: float, factor: float, cap: float, fraction: float
) -> None:
    b = Backoff(first=first, factor=factor, cap=cap, fraction=fraction)
    interval = b.next(previous, elapsed)
    assert interval >= first  # never spins
    assert interval <= cap  # never sleeps past the cap
    assert interval <= max(first, b.fine, fraction * elapsed)  # overshoots by about `fraction` (or `fine`)
    assert interval <= max(first, previous * factor)  # grows by `factor` at most


def test_backoff_grows_from_first_to_cap() -> None:
    b = Backoff()
    interval, elapsed, seen = b.first, 0.0, []
    while elapsed < 3600:
        seen.append(interval)
        elapsed += interval
        interval = b.next(interval, elapsed)
    assert seen[0] == pytest.approx(0.2)
    assert max(seen) == pytest.approx(5.0)
    assert seen == sorted(seen)
    assert len(seen) < 3600 / 4  # an hour's wait polls about every 5 s, not in a loop


# -- wait_until -------------------------------------------------------------------------------------


def test_wait_until_returns_once_done_and_reports_it() -> None:
    ctx = Ctx()
    looks = iter([Observation(False, "0/2", progress=0), Observation(False, "1/2", progress=1),
                  Observation(True, "2/2", progress=2)])  # fmt: skip
    obs = wait_until(ctx, "nodes", "nodes to come online", lambda: next(looks), timeout=60)
    assert obs.summary == "2/2"
    assert ctx.events[-1] == ("observation", "nodes", "2/2")
    assert [e[2] for e in ctx.events if e[0] == "progress"] == ["0/2", "1/2"]


def test_wait_until_timeout_names_what_it_waited_for_and_what_it_saw_last() -> None:
    ctx = Ctx()
    n = 0
    booting = Seen("n0012", "Booting", since=1000.0 - 3)  # booting since 3 s before the wait began

    def observe() -> Observation:
        nonlocal n
        n += 1
        return Observation(False, f"nodes online 3/4 look {n}", progress=3, count=(3, 4), pending=[booting])

    with pytest.raises(WaitTimeout) as e:
        wait_until(ctx, "nodes", "nodes to come online", observe, timeout=1200)
    msg = str(e.value)
    assert msg.startswith("nodes: timed out after 20m00s waiting for nodes to come online; last seen: ")
    assert msg.endswith(f"nodes online 3/4 look {n}; waiting for n0012 Booting for 20m03s")
    assert e.value.exit_code == 5
    assert ctx.clock.t - 1000 == pytest.approx(1200)  # waited exactly to the deadline, not past it
    assert max(ctx.clock.sleeps) <= 5.0 and min(ctx.clock.sleeps) > 0


def test_the_last_look_at_the_deadline_makes_the_message() -> None:
    ctx = Ctx()
    states = iter(["Powered off"] * 10_000)

    def observe() -> Observation:
        return Observation(False, "nodes online 0/1", progress=0, pending=[Seen("n0011", next(states), 1000.0)])

    def last_look() -> Observation:
        return Observation(False, "nodes online 0/1", pending=[Seen("n0011", "Booting", 1000.0)])

    with pytest.raises(WaitTimeout) as e:
        wait_until(ctx, "nodes", "nodes", observe, timeout=600, last_look=last_look)
    assert str(e.value).endswith("last seen: nodes online 0/1; waiting for n0011 Booting for 10m00s")


def test_a_wait_where_nothing_changes_beats_at_least_every_heartbeat() -> None:
    ctx = Ctx(heartbeat=30)
    looks = 0

    def observe() -> Observation:
        nonlocal looks
        looks += 1
        return Observation(looks > 400, "nodes online 1/2", progress=1, count=(1, 2),
                           pending=[Seen("n0012", "Booting", 1000.0)])  # fmt: skip

    wait_until(ctx, "nodes", "nodes", observe, timeout=10_000)
    waited = ctx.clock.t - 1000
    assert waited > 600
    gaps = [b - a for a, b in zip([1000.0, *ctx.times], ctx.times, strict=False)]
    assert max(gaps) <= 30  # a word at least every heartbeat
    beats = [d for (kind, _, _), d in zip(ctx.events, ctx.data, strict=True) if kind == "progress" and not d["news"]]
    assert len(beats) >= waited / 30 - 1  # ... and no more than about that
    assert len(beats) <= waited / 20
    last = next(d for (kind, _, _), d in zip(ctx.events, ctx.data, strict=True) if kind == "progress")
    assert last["pending"][0]["name"] == "n0012" and last["done"] == 1 and last["total"] == 2
    assert ctx.events[-2][2].endswith(f"n0012 Booting for {fmt_duration(ctx.times[-2] - 1000)}")  # counts on


def test_progress_brings_the_interval_back_to_fine() -> None:
    ctx = Ctx()
    looks = 0

    def observe() -> Observation:
        nonlocal looks
        looks += 1
        return Observation(looks >= 300, f"look {looks}", progress=looks // 200)  # news at the 200th look

    wait_until(ctx, "p", "it", observe, timeout=10_000)
    sleeps, b = ctx.clock.sleeps, ctx.backoff
    assert sleeps[0] == pytest.approx(b.first)
    assert sleeps[198] == pytest.approx(b.cap)  # grown to the cap while nothing moved
    assert sleeps[199] == pytest.approx(b.fine)  # right after the news: look again soon
    assert sleeps[199:210] == sorted(sleeps[199:210])  # and growing again
    news = [e[2] for e, d in zip(ctx.events, ctx.data, strict=True) if e[0] == "progress" and d["news"]]
    assert news == ["look 1", "look 200"]


def test_no_answer_is_waited_for_within_the_deadline_and_named() -> None:
    ctx = Ctx()
    answers: list[Any] = [Unreachable("https://x/cluster1: getNodeList got no answer (HTTP 503)")] * 3
    answers.append(Observation(True, "master on n0010"))

    def observe() -> Observation:
        a = answers.pop(0)
        if isinstance(a, Exception):
            raise a
        return a

    assert wait_until(ctx, "master", "the master", observe, timeout=60).done

    ctx = Ctx()

    def away() -> Observation:
        raise Unreachable("https://x/cluster1: getNodeList got no answer (ConnectionRefusedError)")

    with pytest.raises(WaitTimeout) as e:
        wait_until(ctx, "master", "the master to run on n0010", away, timeout=30)
    assert "last seen: no answer from EXAoperation" in str(e.value)
    assert "ConnectionRefusedError" in str(e.value)


def test_faults_and_auth_errors_end_the_wait_at_once() -> None:
    ctx = Ctx()

    def fault() -> Observation:
        raise ServerFault("getDatabaseState", 1, "NotFound")

    with pytest.raises(ServerFault):
        wait_until(ctx, "p", "it", fault, timeout=60)

    def auth() -> Observation:
        raise AuthError("user 'admin' was refused")

    with pytest.raises(AuthFailed):
        wait_until(ctx, "p", "it", auth, timeout=60)
    assert ctx.clock.sleeps == []


@pytest.mark.parametrize(
    "seconds, text", [(0, "0s"), (59.6, "60s"), (119, "119s"), (120, "2m00s"), (1200, "20m00s"), (7200, "2h00m")]
)
def test_fmt_duration(seconds: float, text: str) -> None:
    assert fmt_duration(seconds) == text
