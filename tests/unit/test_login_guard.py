"""Failed logins per client address: slowed, then refused, logged a line per minute, bounded."""

from __future__ import annotations

import re

import pytest

from exaop.faces.auth import MAX_CHECKS_PER_ADDRESS, LoginGuard, LoginRefused, address_key, shown


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def guard() -> tuple[LoginGuard, list[str], Clock]:
    lines: list[str] = []
    clock = Clock()
    return LoginGuard(lines.append, clock), lines, clock


def fail(g: LoginGuard, key: str, login: str = "admin") -> float:
    """One failed attempt, made as soon as the address may try; returns how long it waited."""
    clock = g._clock
    assert isinstance(clock, Clock)
    waited = 0.0
    while True:
        try:
            a = g.admit(key)
            break
        except LoginRefused as e:
            assert e.status == 429 and e.retry_after > 0
            clock.t += e.retry_after
            waited += e.retry_after
    g.failed(key, a, login)
    return waited


def test_attempts_must_wait_longer_and_longer_then_the_address_is_refused_for_a_while() -> None:
    g, lines, clock = guard()
    waits = [fail(g, "10.0.0.1") for _ in range(LoginGuard.LOCK_AFTER)]
    assert waits[: LoginGuard.FREE + 1] == [0.0] * (LoginGuard.FREE + 1)
    backoff = waits[LoginGuard.FREE + 1 :]
    assert backoff == sorted(backoff) and backoff[0] == 1.0 and max(backoff) <= LoginGuard.BACKOFF_MAX
    with pytest.raises(LoginRefused) as refused:
        g.admit("10.0.0.1")
    assert refused.value.status == 429 and refused.value.retry_after == pytest.approx(LoginGuard.LOCK_FIRST)
    assert any("refused for 60 s" in line for line in lines)
    g.admit("10.0.0.2")  # another address is not concerned
    clock.t += LoginGuard.LOCK_FIRST
    for _ in range(LoginGuard.LOCK_AFTER):
        fail(g, "10.0.0.1")
    clock.t = g._addresses["10.0.0.1"].locked_until - 2 * LoginGuard.LOCK_FIRST
    with pytest.raises(LoginRefused) as again:
        g.admit("10.0.0.1")
    assert again.value.retry_after == pytest.approx(2 * LoginGuard.LOCK_FIRST)


def test_a_success_or_a_quiet_quarter_hour_forgets_the_failures() -> None:
    g, _, clock = guard()
    for _ in range(LoginGuard.FREE + 1):
        fail(g, "10.0.0.1")
    clock.t += 1
    g.succeeded(g.admit("10.0.0.1"))
    assert [fail(g, "10.0.0.1") for _ in range(LoginGuard.FREE + 1)] == [0.0] * (LoginGuard.FREE + 1)
    clock.t += LoginGuard.FORGET + 1
    assert [fail(g, "10.0.0.1") for _ in range(LoginGuard.FREE + 1)] == [0.0] * (LoginGuard.FREE + 1)


def test_one_log_line_per_address_and_minute_whatever_the_attempts() -> None:
    g, lines, clock = guard()
    for i in range(LoginGuard.FREE + 3):
        fail(g, "10.0.0.1", login=f"user{i}")  # the last two wait: two refusals on the way
    for _ in range(LoginGuard.FREE + 1):
        fail(g, "10.0.0.2")
    assert lines == ["failed login for user 'user0' from 10.0.0.1", "failed login for user 'admin' from 10.0.0.2"]
    assert g.flush() is True  # the minute is still being counted
    assert len(lines) == 2
    clock.t += LoginGuard.WINDOW
    assert g.flush() is False
    assert lines[2:] == [
        "7 more failed login(s) (user 'user1', 'user2', 'user3', …) and 2 login(s) refused unchecked from 10.0.0.1"
        " within a minute",
        "5 more failed login(s) (user 'admin') from 10.0.0.2 within a minute",
    ]


def test_refusals_are_counted_in_the_minutes_line_not_logged_each() -> None:
    g, lines, clock = guard()
    for _ in range(LoginGuard.LOCK_AFTER):
        fail(g, "10.0.0.1")
    before = len(lines)
    for _ in range(1000):
        with pytest.raises(LoginRefused):
            g.admit("10.0.0.1")
    assert len(lines) == before
    clock.t += LoginGuard.WINDOW
    g.flush()
    m = re.search(r"(\d+) login\(s\) refused unchecked from 10\.0\.0\.1 within a minute$", lines[-1])
    assert m and int(m.group(1)) >= 1000, lines[-1]  # the 1000, and those made waiting for the lockout


def test_names_reach_the_log_capped_and_escaped() -> None:
    assert shown("admin") == "'admin'"
    huge = "x" * 8_000_000
    assert len(shown(huge)) < 80 and shown(huge).endswith("…")
    assert shown("a\nb\x1b[31m") == "'a\\nb\\x1b[31m'"
    g, lines, _ = guard()
    fail(g, "10.0.0.1", login=huge)
    assert max(len(line) for line in lines) < 200


def test_addresses_are_grouped_per_host_and_bounded_in_number() -> None:
    assert address_key("2001:db8::1") == address_key("2001:db8::ffff") == "2001:db8::/64"
    assert address_key("::ffff:10.0.0.1") == "10.0.0.1"
    assert address_key("") == "an unknown address"
    assert len(address_key("not-an-address" * 100)) <= 64
    g, lines, _ = guard()
    for i in range(LoginGuard.MAX_ADDRESSES + 500):
        fail(g, f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}")
    assert len(g._addresses) == LoginGuard.MAX_ADDRESSES


def test_a_client_address_has_few_checks_in_flight() -> None:
    g, _, _ = guard()
    for _ in range(MAX_CHECKS_PER_ADDRESS):
        g.admit("10.0.0.1").in_flight += 1
    with pytest.raises(LoginRefused) as refused:
        g.admit("10.0.0.1")
    assert refused.value.status == 429


def test_checks_wait_in_order_of_trust_and_a_full_queue_turns_away_the_least_trusted() -> None:
    import asyncio

    from exaop.faces.auth import CheckQueue

    async def main() -> list[str]:
        q = CheckQueue(slots=1, capacity=3)
        order: list[str] = []
        await q.acquire(2)  # a check under way

        async def wait(name: str, rank: int) -> None:
            try:
                await q.acquire(rank)
            except LoginRefused as e:
                order.append(f"{name} refused {e.status}")
                return
            order.append(name)
            q.release()

        tasks = [asyncio.create_task(wait(n, r)) for n, r in (("suspect1", 2), ("suspect2", 2), ("clean", 1))]
        await asyncio.sleep(0)
        tasks.append(asyncio.create_task(wait("known", 0)))  # the queue is full: suspect2 makes room
        await asyncio.sleep(0)
        tasks.append(asyncio.create_task(wait("suspect3", 2)))  # full, and ranks worst: refused itself
        await asyncio.sleep(0)
        q.release()
        await asyncio.gather(*tasks)
        return order

    assert asyncio.run(main()) == ["suspect2 refused 503", "suspect3 refused 503", "known", "clean", "suspect1"]


def test_an_address_that_logged_in_before_ranks_first_then_clean_ones() -> None:
    g, _, clock = guard()
    a = g.admit("10.0.0.1")
    assert g.rank(a) == 1
    g.failed("10.0.0.1", a, "x")
    assert g.rank(a) == 2
    g.succeeded(a)
    assert g.rank(a) == 0
    clock.t += 1
