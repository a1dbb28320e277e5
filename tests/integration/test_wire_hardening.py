"""What a client without credentials, or a slow or hostile one, can make `exaop serve` do:
bounded heads, read timeouts, a connection cap that keeps an administrator's door open,
failed logins throttled and logged a line per minute, and a halting server that says so.

Each finding of the hardening issue that concerns the wire is reproduced here against a real
server subprocess on a free loopback port.
"""

from __future__ import annotations

import base64
import contextlib
import select
import socket
import ssl
import time
from pathlib import Path
from xmlrpc.client import Fault, ProtocolError

import pytest

from exaop.httpguard import Limits
from tests.serverproc import ADMIN_PASSWORD, TLS, ServerProcess


def rss_peak_kib(srv: ServerProcess) -> int:
    assert srv.proc is not None
    for line in Path(f"/proc/{srv.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def connect(srv: ServerProcess) -> socket.socket:
    raw = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    return TLS.wrap_socket(raw) if not srv.http else raw


def exchange(srv: ServerProcess, request: bytes) -> bytes:
    """Send ``request`` (as much as the server takes) and return what it answered."""
    with contextlib.closing(connect(srv)) as s:
        with contextlib.suppress(OSError):
            s.sendall(request)
        answer = b""
        with contextlib.suppress(OSError):
            while chunk := s.recv(65536):
                answer += chunk
        return answer


def basic(login: str, password: str) -> bytes:
    return b"Basic " + base64.b64encode(f"{login}:{password}".encode())


def call(login: str, password: str, method: str = "getNodeList", close: bool = True) -> bytes:
    body = f"<?xml version='1.0'?><methodCall><methodName>{method}</methodName></methodCall>".encode()
    return (
        b"POST /cluster1 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
        + (b"Connection: close\r\n" if close else b"")
        + b"Authorization: "
        + basic(login, password)
        + b"\r\nContent-Length: %d\r\n\r\n" % len(body)
        + body
    )


def status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


# -- 1: an 8 MB user name ---------------------------------------------------------------------------


def test_huge_user_names_cost_the_server_nothing(server_factory) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory()
    c = srv.proxy()
    tag_answer = c.logservice1.logEntriesTagged("probe")  # the tag is positioned at the end of the log
    srv.proxy().getNodeList()
    rss_before, dir_before = rss_peak_kib(srv), dir_size(srv.state_dir)
    request = call("u" * 8_000_000, "pw")
    answers = [exchange(srv, request) for _ in range(50)]
    assert {status(a) for a in answers} == {431}, {a[:80] for a in answers}
    assert rss_peak_kib(srv) - rss_before < 20_000  # KiB; it was +660 MB
    assert dir_size(srv.state_dir) - dir_before < 256 * 1024  # it was +800 MB
    assert len(str(c.logservice1.logEntriesTagged("probe"))) < 10_000  # it was 400 MB
    assert tag_answer is not None and c.getNodeList()


def test_long_names_under_the_head_limit_are_logged_capped_and_escaped(server_factory) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory()
    logs = srv.proxy("/cluster1/logservice1")
    logs.getProperties()  # logged in before the failures: the address's lockout does not concern it
    answers = [status(exchange(srv, call("é\n" + "u" * 20_000, "pw"))) for _ in range(8)]
    assert answers[:6] == [401] * 6 and answers[6:] == [429, 429]  # then the address must wait
    logged = [e["message"] for e in logs.logEntries()[2] if e["system"] == "Authentication"]
    assert 1 <= len(logged) <= 3, logged
    assert all(len(m) < 200 for m in logged)
    assert logged[0].startswith("failed login for user 'é\\nuuuu") and "…" in logged[0]


def test_head_line_and_field_limits_answer_before_any_work(server: ServerProcess) -> None:
    assert status(exchange(server, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")) == 414
    many = b"".join(b"X-F%d: y\r\n" % i for i in range(150))
    assert status(exchange(server, b"POST /cluster1 HTTP/1.1\r\n" + many + b"\r\n")) == 431
    fat = b"X-Big: " + b"y" * 40_000 + b"\r\n"
    assert status(exchange(server, b"POST /cluster1 HTTP/1.1\r\n" + fat + b"\r\n")) == 431
    assert status(exchange(server, b"NOT HTTP AT ALL\r\n\r\n")) == 400
    # a head just under the limit with a body in the same packet: only the head counts
    body = b"<?xml version='1.0'?><methodCall><methodName>getNodeList</methodName></methodCall>" + b" " * 20_000
    near = (b"POST /cluster1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: " + b"p" * 31_000
            + b"\r\nAuthorization: " + basic("admin", ADMIN_PASSWORD)
            + b"\r\nContent-Length: %d\r\n\r\n" % len(body))  # fmt: skip
    assert status(exchange(server, near + body)) == 200
    assert server.proxy().getNodeList()


def test_a_body_is_read_only_for_a_client_that_logged_in(server_factory) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory(extra=["--header-timeout", "1"])
    # 1 MB announced and never sent: without credentials the answer comes at once, says it
    # closes the connection, and the body it no longer wants is waited for a few seconds at most
    with contextlib.closing(connect(srv)) as s:
        s.sendall(b"POST /cluster1 HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" + b"<" * 1000)
        s.settimeout(20)
        t0 = time.monotonic()
        answer = s.recv(65536)
        assert status(answer) == 401 and b"connection: close" in answer.lower() and time.monotonic() - t0 < 5
        with contextlib.suppress(OSError):
            while s.recv(65536):
                pass
        assert time.monotonic() - t0 < Limits.linger + 3
    # a body sent in full after a refusal is read and dropped: the connection serves the next call
    with contextlib.closing(connect(srv)) as s:
        s.sendall(call("admin", "wrong", close=False) + call("admin", ADMIN_PASSWORD))
        s.settimeout(10)
        answers = b""
        while answers.count(b"HTTP/1.1 ") < 2 or not answers.endswith(b"</methodResponse>\n"):
            answers += s.recv(65536)
        assert answers.startswith(b"HTTP/1.1 401") and b"HTTP/1.1 200" in answers


def test_expect_100_continue_is_answered_before_the_body(server: ServerProcess) -> None:
    body = b"<?xml version='1.0'?><methodCall><methodName>getNodeList</methodName></methodCall>"
    head = (b"POST /cluster1 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nConnection: close\r\nAuthorization: "
            + basic("admin", ADMIN_PASSWORD) + b"\r\nContent-Length: %d\r\n\r\n" % len(body))  # fmt: skip
    with contextlib.closing(connect(server)) as s:
        s.settimeout(10)
        s.sendall(head)
        assert s.recv(65536).startswith(b"HTTP/1.1 100 Continue\r\n")
        s.sendall(body)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 ") and b"n0011" in answer


def stream(s: socket.socket, chunk: bytes, seconds: float = 15) -> float:
    """Send ``chunk`` every 10 ms until the server cuts the connection; how long that took
    (``seconds`` if it never did)."""
    t0 = time.monotonic()
    with contextlib.suppress(OSError):
        while time.monotonic() - t0 < seconds:
            s.sendall(chunk)
            time.sleep(0.01)  # a steady sender, not a CPU race: what matters is what the server keeps
        return seconds
    return time.monotonic() - t0


def test_bytes_after_an_answer_are_bounded_too(server_factory) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory()
    srv.proxy().getNodeList()
    before = rss_peak_kib(srv)
    # a refused chunked body whose trailer never ends: dropped unparsed, and cut off
    with contextlib.closing(connect(srv)) as s:
        s.sendall(b"POST /cluster1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        assert status(s.recv(65536)) == 401
        assert stream(s, b"0\r\nX-T: " + b"a" * 65536) < 5  # cut at max_drain
    # a pipelined head that never ends while the first request is being answered: 431, and
    # the TLS close that follows drops what still comes, for `linger` seconds at most
    with contextlib.closing(connect(srv)) as s:
        s.settimeout(10)
        s.sendall(call("admin", "wrong", close=False) + b"POST /cluster1 HTTP/1.1\r\nX-Big: ")
        assert stream(s, b"b" * 65536) < Limits.linger + 4
    assert rss_peak_kib(srv) - before < 30_000, rss_peak_kib(srv) - before
    assert srv.proxy().getNodeList()


def test_a_flood_of_unfinished_tls_handshakes_does_not_lock_out_an_administrator(server_factory) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory(extra=["--max-connections", "64"])
    assert srv.proc is not None
    admin = srv.proxy()
    flood = [socket.create_connection(("127.0.0.1", srv.port), timeout=10) for _ in range(300)]  # no hello
    try:
        assert admin.getNodeList() == ["n0011", "n0012", "n0013", "n0014"]
        fds = len(list(Path(f"/proc/{srv.proc.pid}/fd").iterdir()))
        assert fds < 64 + 64, fds  # the handshakes under way count: the oldest made room
    finally:
        for s in flood:
            s.close()


def test_a_failed_login_while_the_store_is_locked_is_still_a_401(server: ServerProcess) -> None:
    import sqlite3

    lock = sqlite3.connect(server.state_dir / "exaop.sqlite", isolation_level=None, timeout=1)
    lock.execute("BEGIN IMMEDIATE")  # another process holds the database
    try:
        assert status(exchange(server, call("nobody", "wrong"))) == 401
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert server.proxy().getNodeList()


# -- 2: failed logins are throttled; a logged-in administrator is not ----------------------------------


def test_failed_logins_hold_the_address_back_but_not_a_logged_in_admin(server_factory) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory()
    admin = srv.proxy()
    assert admin.getNodeList()  # logged in before the attack: remembered
    wrong = srv.proxy(password="wrong-password")
    codes = []
    for _ in range(8):
        with pytest.raises(ProtocolError) as e:
            wrong.getNodeList()
        codes.append(e.value.errcode)
    assert codes[:6] == [401] * 6 and codes[6:] == [429, 429]  # the address waits between attempts
    assert int(e.value.headers["retry-after"]) >= 1
    assert admin.getNodeList()  # the administrator who was logged in keeps working
    with pytest.raises(ProtocolError) as fresh:  # a new login from the address waits like the rest
        srv.proxy(user="someone", password=ADMIN_PASSWORD).getNodeList()
    assert fresh.value.errcode == 429


# -- 3: slow and half-open connections ------------------------------------------------------------------


def test_a_flood_of_half_sent_requests_does_not_lock_out_an_administrator(server_factory) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory(extra=["--max-connections", "64"])
    admin = srv.proxy()
    flood = []
    for _ in range(300):
        s = connect(srv)
        s.sendall(b"POST /cluster1 HTTP/1.1\r\nHost: x\r\nContent-Len")  # and then nothing
        flood.append(s)
    try:
        t0 = time.monotonic()
        assert admin.getNodeList() == ["n0011", "n0012", "n0013", "n0014"]
        assert time.monotonic() - t0 < 5
        closed = 0
        for s in flood:
            s.settimeout(0.01)
            try:
                closed += s.recv(1) == b""
            except (TimeoutError, ssl.SSLWantReadError):
                pass
            except OSError:
                closed += 1
        assert closed >= 300 - 64, closed  # the oldest half-sent requests made room
    finally:
        for s in flood:
            s.close()


def test_a_request_head_that_does_not_arrive_in_time_is_cut_off(server_factory) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory(extra=["--header-timeout", "1", "--idle-timeout", "1"])
    with contextlib.closing(connect(srv)) as s:
        s.sendall(b"POST /cluster1 HTTP/1.1\r\nHost: x\r\n")
        s.settimeout(10)
        t0 = time.monotonic()
        with contextlib.suppress(OSError):
            assert s.recv(1) == b""
        assert time.monotonic() - t0 < 5
    with contextlib.closing(connect(srv)) as idle:  # a connection that never says anything, too
        idle.settimeout(10)
        with contextlib.suppress(OSError):
            assert idle.recv(1) == b""
    assert srv.proxy().getNodeList()


def test_limits_are_checked_on_the_command_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    for flag, value in (("--max-connections", "3"), ("--header-timeout", "0"), ("--idle-timeout", "-1")):
        r = subprocess.run(
            [sys.executable, "-m", "exaop.cli", "serve", "--state-dir", str(tmp_path / "s"), flag, value],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert r.returncode == 2 and flag in r.stderr
        assert not (tmp_path / "s").exists()


# -- 4: the simulation is Master's, even its introspection ---------------------------------------------------


def test_simulation_introspection_is_for_master_only(server: ServerProcess) -> None:
    c = server.proxy()
    c.addUser({"user_login": "op", "password": "op-pass1"})
    uid = [u for u in c.getAllUsers() if u["user_login"] == "op"][0]["id"]
    c.grantRole("cluster1", uid, "Administrator")
    sim = server.proxy("/cluster1/simulation", user="op", password="op-pass1")
    for method in (sim.listMethods, lambda: sim.methodHelp("advanceClock"), sim.getPath):
        with pytest.raises(Fault, match="Forbidden"):
            method()
    assert "advanceClock" in server.proxy("/cluster1/simulation").listMethods()


def test_a_client_that_kept_its_proxy_past_the_idle_timeout_is_answered(server_factory) -> None:  # type: ignore[no-untyped-def]
    # before: an idle keep-alive connection was cut without a TLS close, and the next call of a
    # ServerProxy kept by a poller (every 30 s, say) failed with SSLEOFError instead of reconnecting
    srv = server_factory(extra=["--idle-timeout", "1"])
    for proxy, call in ((srv.proxy(), "getNodeList"), (srv.confd(), "job_list")):
        first = getattr(proxy, call)()
        sock = proxy("transport")._connection[1].sock
        readable, _, _ = select.select([sock], [], [], 10)  # the server closes the idle connection
        assert readable
        assert getattr(proxy, call)() == first
