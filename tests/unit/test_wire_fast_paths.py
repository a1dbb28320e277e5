"""The wire's fast paths behave exactly like the slow ones they replace."""

from __future__ import annotations

import asyncio
import base64
import xmlrpc.client

from hypothesis import given
from hypothesis import strategies as st

from exaop.engine.drivers import SimulatedDriver
from exaop.engine.profile import default_profile
from exaop.faces.auth import Authenticator
from exaop.faces.exaoperation.codec import dump_result, parse_call
from exaop.model import users as users_module
from exaop.model.cluster import Cluster
from exaop.model.users import User


def slow(value: object) -> bytes:
    return xmlrpc.client.dumps((value,), methodresponse=True, allow_none=True).encode("utf-8")


@given(st.one_of(st.text(), st.booleans(), st.integers(min_value=-(2**31), max_value=2**31 - 1)))
def test_scalar_results_are_byte_identical_to_the_stdlib(value: object) -> None:
    try:
        expected = slow(value)
    except Exception as e:  # e.g. lone surrogates: the same error either way
        try:
            dump_result(value)
        except type(e):
            return
        raise AssertionError(f"{value!r}: the stdlib raises {e!r}, the fast path does not") from None
    assert dump_result(value) == expected
    xml_legal = not isinstance(value, str) or all(c in "\t\n" or ord(c) >= 0x20 for c in value)
    if xml_legal and "\r" not in str(value) and "\ufffe" not in str(value) and "\uffff" not in str(value):
        assert xmlrpc.client.loads(dump_result(value))[0] == (value,)


def test_large_ints_and_containers_take_the_stdlib_path() -> None:
    assert dump_result([1, "a", {"b": None}]) == slow([1, "a", {"b": None}])
    try:
        dump_result(2**40)
    except OverflowError:
        pass
    else:  # pragma: no cover
        raise AssertionError("an int beyond XML-RPC's range must be refused as the stdlib does")


def test_parse_call_round_trip() -> None:
    body = xmlrpc.client.dumps(("n0011", 1), "getHardwareInformation").encode()
    assert parse_call(body) == ("getHardwareInformation", ("n0011", 1))


def _cluster_with_user(password: str) -> tuple[Cluster, User]:
    c = Cluster.from_profile(default_profile(), 1_000_000.0, {"simulated": SimulatedDriver()})
    u = User(c, 1, "admin")
    u.set_password(password)
    c.users.load(u)
    return c, u


def _header(login: str, password: str) -> bytes:
    return b"Basic " + base64.b64encode(f"{login}:{password}".encode())


def test_concurrent_logins_with_one_header_cost_one_argon2_check(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    c, user = _cluster_with_user("secret-1")
    calls = []
    real = users_module.check_password

    def counting(h: str, p: str) -> bool:
        calls.append(p)
        return real(h, p)

    monkeypatch.setattr(users_module, "check_password", counting)

    async def main() -> list[object]:
        auth = Authenticator(c)
        good = _header("admin", "secret-1")
        results = await asyncio.gather(*(auth.authenticate(good) for _ in range(64)))
        assert auth.cached(good) is user
        return list(results)

    assert asyncio.run(main()) == [user] * 64
    assert len(calls) == 1


def test_wrong_passwords_are_each_checked_and_logged_and_never_cached(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    c, user = _cluster_with_user("secret-1")
    calls = []
    real = users_module.check_password
    monkeypatch.setattr(users_module, "check_password", lambda h, p: calls.append(p) or real(h, p))

    async def main() -> None:
        auth = Authenticator(c)
        auth.guard.WINDOW = 0.0  # every failure ends a minute: each is logged on its own
        bad = _header("admin", "wrong")
        assert await asyncio.gather(*(auth.authenticate(bad) for _ in range(3))) == [None] * 3
        assert auth.cached(bad) is None
        good = _header("admin", "secret-1")
        assert await auth.authenticate(good) is user
        user.set_password("secret-2")  # a changed password ends the cached login at once
        assert auth.cached(good) is None
        assert await auth.authenticate(good) is None

    asyncio.run(main())
    assert calls.count("wrong") == 3 and calls.count("secret-1") == 2
    failed = [e for e in c.logbook.entries if e.message == "failed login for user 'admin' from an unknown address"]
    assert len(failed) == 4


def test_repeated_bodies_give_the_same_call_and_mutable_arguments_are_never_shared() -> None:
    body = xmlrpc.client.dumps((), "getDatabaseState").encode()
    assert parse_call(body) == parse_call(body) == ("getDatabaseState", ())
    with_list = xmlrpc.client.dumps((["n0012"],), "startEXAStorage").encode()
    first = parse_call(with_list)
    first[1][0].append("n0013")  # a handler changing its argument must not change the next call
    assert parse_call(with_list) == ("startEXAStorage", (["n0012"],))
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><methodCall><methodName>&a;</methodName></methodCall>'
    )
    for _ in range(2):  # refused each time, never remembered
        try:
            parse_call(bomb)
        except ValueError:
            pass
        else:  # pragma: no cover
            raise AssertionError("an entity declaration must be refused")


def test_a_deleted_users_cached_login_never_works_for_whoever_gets_the_id_next() -> None:
    c, admin = _cluster_with_user("secret-1")
    admin.grants[c.name] = "Master"

    async def main() -> None:
        auth = Authenticator(c)
        bob = c.users.add({"user_login": "bob", "password": "bob-pw1"})
        header = _header("bob", "bob-pw1")
        assert await auth.authenticate(header) is bob
        c.users.delete(bob)
        eve = c.users.add({"user_login": "eve", "password": "bob-pw1"})
        assert eve.uid == bob.uid  # the id is given again...
        assert auth.cached(header) is None  # ...but bob's login is not eve's
        assert await auth.authenticate(header) is None
        c.users.edit("eve", {"user_login": "eve2"})
        assert await auth.authenticate(_header("eve", "bob-pw1")) is None

    asyncio.run(main())


def test_refused_user_changes_change_nothing() -> None:
    c, admin = _cluster_with_user("secret-1")
    c.take_changes()
    for values in ({"user_login": "ghost", "password": "abcd", "user_title": 5},
                   {"user_login": "ghost", "password": "ab"}):  # fmt: skip
        try:
            c.users.add(values)
        except Exception:
            pass
        assert "ghost" not in c.users.by_login
    assert not any(kind == "user" and key != "1" for kind, key, _ in c.take_changes()[0])
    try:
        c.users.edit("admin", {"user_login": "root", "password": "x"})
    except Exception:
        pass
    assert admin.login == "admin" and "root" not in c.users.by_login


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@given(st.lists(st.tuples(st.integers(1, 2**31 - 1), st.floats(0, 4e9), _TEXT, _TEXT, _TEXT, _TEXT), max_size=5))
def test_log_pages_are_byte_identical_to_the_stdlibs_marshalling(rows: list[tuple]) -> None:  # type: ignore[type-arg]
    from exaop.faces.exaoperation.objects.logservice import page
    from exaop.model.logs import LogEntry, strtime

    entries = [LogEntry(*row) for row in rows]
    now = strtime(1_700_000_000.0)
    expected = [strtime(entries[0].t) if entries else now, now, [e.as_dict() for e in entries]]
    for _ in range(2):  # written, then remembered
        assert dump_result(page(1_700_000_000.0, entries)) == slow(expected)


@given(st.text(max_size=30))
def test_faults_are_well_formed_whatever_they_repeat(text: str) -> None:
    from exaop.faces.exaoperation.codec import dump_fault

    try:
        xmlrpc.client.loads(dump_fault(-1, f"Unexpected Zope exception: NotFound: Object /{text} not found"))
    except xmlrpc.client.Fault as f:
        assert f.faultString.startswith("Unexpected Zope exception: NotFound: Object /")
        if text.isprintable() and "\r" not in text:
            assert text in f.faultString
