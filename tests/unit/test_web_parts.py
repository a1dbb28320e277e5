"""The web face's parts without a server: sessions, change notification, history, pictures."""

from __future__ import annotations

import asyncio

import pytest

from exaop.engine.profile import ProfileError, parse_profile
from exaop.engine.runtime import Runtime
from exaop.faces.web import pictures, views
from exaop.faces.web.live import Change, Changes, History
from exaop.faces.web.sessions import Sessions


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_sessions_are_bounded_and_expire() -> None:
    clock = FakeClock()
    s = Sessions(max_sessions=3, idle=60, lifetime=300, clock=clock)
    a, b, c = (s.create(i, f"u{i}", "hash") for i in range(3))
    assert s.get(a.token) is a  # a is now the most recently used
    d = s.create(3, "u3", "hash")
    assert len(s) == 3 and s.get(b.token) is None  # the least recently used went
    assert s.get(a.token) is a and s.get(c.token) is c and s.get(d.token) is d
    clock.t += 61
    assert s.get(a.token) is None  # idle too long
    e = s.create(4, "u4", "hash")
    for _ in range(5):
        clock.t += 50
        assert s.get(e.token) is e  # kept alive by use ...
    clock.t += 55
    assert s.get(e.token) is None  # ... but not past its lifetime
    assert s.get(None) is None and s.get("x" * 500) is None


def test_csrf_tokens() -> None:
    s = Sessions()
    one = s.create(1, "a", "h")
    assert Sessions.csrf_ok(one, one.csrf)
    assert not Sessions.csrf_ok(one, None) and not Sessions.csrf_ok(one, "") and not Sessions.csrf_ok(one, "x")
    assert not Sessions.csrf_ok(one, s.create(2, "b", "h").csrf)
    nonce, token = s.login_nonce()
    assert s.login_ok(nonce, token)
    assert not s.login_ok(nonce, "0" * 64) and not s.login_ok(None, token) and not s.login_ok(nonce + "x", token)
    assert not Sessions().login_ok(nonce, token)  # signed by this process's key only


def test_one_user_logging_in_again_and_again_cannot_log_everyone_else_out() -> None:
    # before: 1,024 logins of any account (a User's) pushed the admin's session out of the table
    s = Sessions(max_sessions=64, max_per_user=4)
    admin = s.create(1, "admin", "h")
    mine = [s.create(2, "intruder", "h") for _ in range(1000)]
    assert s.get(admin.token) is admin
    assert len(s) == 5 and all(s.get(m.token) is m for m in mine[-4:]) and s.get(mine[-5].token) is None


def test_changes_wake_waiters() -> None:
    async def go() -> tuple[int, int]:
        changes = Changes()
        quiet = await changes.newer_than(0, 0.01)
        asyncio.get_running_loop().call_later(0.01, changes.bump)
        woken = await changes.newer_than(0, 5)
        return quiet, woken

    assert asyncio.run(go()) == (0, 1)


def test_a_start_done_elsewhere_is_drawn_from_the_recorded_states() -> None:
    rt = Runtime.open(None, speed=0, admin_password="secret").runtime
    c = rt.cluster
    history = History(c)
    rt.on_change.append(history.observe)
    assert views.last_episode(rt, history, None) is None  # nothing happened yet
    for name in c.database_node_names():
        c.nodes[name].startup()
    rt.commit()
    rt.advance_clock(400)
    c.storage.start()
    rt.commit()
    rt.advance_clock(100)
    drawn = views.last_episode(rt, history, None)
    assert drawn is not None and drawn["kind"] == "start"
    assert [p["name"] for p in drawn["phases"]] == ["nodes", "storage"]
    assert 200 <= drawn["phases"][0]["seconds"] <= 300  # the slowest boot
    svg = str(drawn["picture"])
    assert svg.startswith("<svg") and all(f">{n}</text>" in svg for n in c.database_node_names())
    assert [h.state for h in history.nodes["n0011"]] == ["Powered off", "Booting", "Running"]
    assert "quiet" in views.happening(rt, None)


def test_pictures_escape_what_they_show() -> None:
    hostile = "<script>alert(1)</script>"
    svg = str(pictures.states_over_time(hostile, [Change(0, hostile), Change(10, "Running")], 20))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    svg = str(pictures.backup_ages("b", [(hostile, 3600.0, 7200.0, True)]))
    assert "<script>" not in svg


def test_the_clock_speed_changes_from_now_on() -> None:
    rt = Runtime.open(None, speed=0, admin_password="secret").runtime
    before = rt.clock.now()
    assert rt.set_clock_speed(1000.0) == 1000.0
    assert rt.clock.now() >= before  # no jump back, none forward
    rt.set_clock_speed(0)
    frozen = rt.clock.now()
    assert rt.clock.now() == frozen and rt.clock.real_delay(10) is None


def test_no_cluster_may_be_called_ui() -> None:
    with pytest.raises(ProfileError, match="web interface"):
        parse_profile({"cluster": {"name": "ui"}})
