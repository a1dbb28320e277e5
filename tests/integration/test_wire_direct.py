"""Calls the connection answers itself, without an ASGI task (httpguard.DirectCalls): what a
client sees must not change. Answers come back in order on a pipelining connection, whatever
path each request takes; a method that waits is answered when done; a client that sends
without reading is not read from until it does; headers match the ASGI path's."""

from __future__ import annotations

import contextlib
import signal
import socket
import ssl
import time
import xmlrpc.client

from tests.integration.test_wire_hardening import basic, connect, rss_peak_kib, status
from tests.serverproc import ADMIN_PASSWORD, ServerProcess


def post(method: str, params: tuple = (), path: str = "/cluster1", password: str = ADMIN_PASSWORD,
         extra: bytes = b"") -> bytes:  # fmt: skip
    body = xmlrpc.client.dumps(params, method).encode()
    return (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n" + extra
            + b"Authorization: " + basic("admin", password)
            + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)  # fmt: skip


def read_answers(s: socket.socket, n: int, timeout: float = 20) -> list[tuple[bytes, bytes]]:
    """``n`` HTTP answers (head, body) as they come on ``s``, framed by their content-length."""
    s.settimeout(timeout)
    buf, answers = b"", []
    while len(answers) < n:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            head = buf[:end]
            lengths = [int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")]  # fmt: skip
            length = lengths[0] if lengths else 0  # a 100 Continue has none
            if len(buf) >= end + 4 + length:
                answers.append((head, buf[end + 4 : end + 4 + length]))
                buf = buf[end + 4 + length :]
                continue
        chunk = s.recv(65536)
        assert chunk, f"the connection closed after {len(answers)} of {n} answers"
        buf += chunk
    return answers


def header_names(head: bytes) -> list[bytes]:
    return sorted(line.split(b":", 1)[0].lower() for line in head.split(b"\r\n")[1:])


def test_pipelined_requests_are_answered_in_order_whichever_path_each_takes(server: ServerProcess) -> None:
    server.proxy().getNodeList()  # the credentials are checked once: later calls may go directly
    requests = [
        post("getNodeList"),  # direct
        b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n",  # ASGI
        post("getDatabaseList"),  # direct
        post("addUser", ({"user_login": "piper", "password": "pipers-secret-1"},)),  # direct, then awaited
        post("getNodeList"),  # direct again, after a method that waited
        post("getNodeList", path="/cluster1/nosuchthing"),  # a fault, direct
        post("getNodeList", extra=b"Expect: 100-continue\r\n"),  # ASGI (the 100 comes first)
        post("getNodeList", password="wrong"),  # ASGI: not logged in
    ]
    with contextlib.closing(connect(server)) as s:
        s.sendall(b"".join(requests))
        answers = read_answers(s, len(requests) + 1)  # + the 100 Continue
    heads = [h for h, _ in answers]
    assert [status(h + b"\r\n") for h in heads] == [200, 200, 200, 200, 200, 200, 100, 200, 401]
    bodies = [b for _, b in answers]
    assert b"n0011" in bodies[0] and bodies[1] == b"ok\n" and b"exa_db1" in bodies[2]
    assert xmlrpc.client.loads(bodies[3])[0][0]  # the new user's id
    assert b"n0011" in bodies[4] and b"n0011" in bodies[7]
    try:
        xmlrpc.client.loads(bodies[5])
    except xmlrpc.client.Fault as f:
        assert "nosuchthing" in f.faultString
    else:  # pragma: no cover
        raise AssertionError("an unknown object is a fault")
    assert "piper" in server.proxy().getAllUserLogins()
    # the same headers as an answer through ASGI (200 with Expect: 100-continue went that way)
    assert header_names(heads[0]) == header_names(heads[7])
    assert b"content-type: text/xml" in heads[0].lower()


def test_a_client_that_sends_without_reading_is_not_read_from_until_it_does(server: ServerProcess) -> None:
    server.proxy().getNodeList()
    before = rss_peak_kib(server)
    one = post("getNodeList")
    n = 100_000  # 23 MB of calls (more than the kernel's buffers hold), 60 MB of answers if all were read
    with contextlib.closing(connect(server)) as s:
        s.setblocking(False)
        sent, data, t0 = 0, one * n, time.monotonic()
        while sent < len(data) and time.monotonic() - t0 < 5:
            try:
                sent += s.send(data[sent : sent + 65536])
            except (BlockingIOError, ssl.SSLWantWriteError):
                time.sleep(0.01)
        assert sent < len(data), "the server read everything while nothing was read from it"
        grew = rss_peak_kib(server) - before
        # the server still answers others at once
        t1 = time.monotonic()
        assert server.proxy().getNodeList()
        assert time.monotonic() - t1 < 2
        assert grew < 20_000, grew  # KiB
        s.setblocking(True)
        answers = read_answers(s, 100)  # and reading resumes the connection, in order
        assert all(status(h + b"\r\n") == 200 and b"n0011" in b for h, b in answers)


def test_a_call_whose_body_is_still_coming_when_the_server_stops_is_answered(server: ServerProcess) -> None:
    server.proxy().getNodeList()
    direct, through_asgi = post("getNodeList"), post("getNodeList", extra=b"Expect: 100-continue\r\n")
    a, b = connect(server), connect(server)
    with contextlib.closing(a), contextlib.closing(b):
        a.sendall(direct[:-20])
        b.sendall(through_asgi[:-20])
        b.settimeout(10)
        assert b.recv(100).startswith(b"HTTP/1.1 100 ")
        time.sleep(0.3)  # both bodies are being read
        assert server.proc is not None
        server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        for s, request in ((a, direct), (b, through_asgi)):
            s.sendall(request[-20:])
        for s in (a, b):
            ((head, body),) = read_answers(s, 1)
            assert status(head + b"\r\n") == 200 and b"n0011" in body
            assert b"connection: close" in head.lower()
    assert server.wait_exit() == 0


def test_a_pipelined_head_request_is_answered(server: ServerProcess) -> None:
    server.proxy().getNodeList()
    with contextlib.closing(connect(server)) as s:
        s.sendall(b"HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n" + post("getNodeList"))
        s.settimeout(10)
        buf = b""
        while buf.count(b"HTTP/1.1 ") < 2 or not buf.rstrip().endswith(b"</methodResponse>"):
            chunk = s.recv(65536)
            assert chunk, buf
            buf += chunk
    assert buf.startswith(b"HTTP/1.1 200 ") and b"n0011" in buf
