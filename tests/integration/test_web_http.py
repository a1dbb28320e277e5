"""The web interface over plain HTTP, without a browser: cookies, headers, what a client that has
not logged in can make the server do, the cap on live streams, a shutdown run from the web."""

from __future__ import annotations

import http.client
import re
import time
import urllib.parse
from http.cookiejar import CookieJar
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, build_opener

from tests.serverproc import ADMIN_PASSWORD, ServerProcess


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def _conn(srv: ServerProcess) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)


def _request(srv: ServerProcess, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    c = _conn(srv)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r, data


def _log_in(srv: ServerProcess) -> tuple[str, str]:
    """(session cookie value, CSRF token) of a fresh admin session."""
    r, page = _request(srv, "GET", "/ui/login")
    nonce = re.search(r"exaop_login=([^;]+)", r.getheader("set-cookie") or "").group(1)  # type: ignore[union-attr]
    token = re.search(rb'name="csrf" value="([^"]+)"', page).group(1).decode()  # type: ignore[union-attr]
    form = urllib.parse.urlencode({"csrf": token, "login": "admin", "password": ADMIN_PASSWORD}).encode()
    r, _ = _request(srv, "POST", "/ui/login", form, {"cookie": f"exaop_login={nonce}",
                                                      "content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert r.status == 303, r.status
    cookie = r.getheader("set-cookie") or ""
    session = re.search(r"exaop_session=([^;]+)", cookie).group(1)  # type: ignore[union-attr]
    _, page = _request(srv, "GET", "/ui/", headers={"cookie": f"exaop_session={session}"})
    return session, re.search(rb'name="csrf" value="([^"]+)"', page).group(1).decode()  # type: ignore[union-attr]


def test_cookies_and_headers_on_plain_http_on_the_loopback(server_factory) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory(http=True)
    r, _ = _request(srv, "GET", "/")
    assert r.status == 303 and r.getheader("location") == "/ui/"
    r, page = _request(srv, "GET", "/ui/login")
    assert r.status == 200
    csp = r.getheader("content-security-policy") or ""
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "cdn" not in page.decode().lower()
    assert r.getheader("x-content-type-options") == "nosniff"
    jar = CookieJar()
    opener = build_opener(HTTPCookieProcessor(jar), _NoRedirect)
    opener.open(f"http://127.0.0.1:{srv.port}/ui/login")
    cookie = next(c for c in jar if c.name == "exaop_login")
    assert not cookie.secure  # plain HTTP on the loopback: the one case without Secure
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.get_nonstandard_attr("SameSite") == "Strict"
    # the XML-RPC face is where it was
    r, _ = _request(srv, "GET", "/cluster1")
    assert r.status == 405
    assert srv.proxy().getDatabaseList() == ["exa_db1"]


def test_what_a_client_without_a_session_can_do(server_factory) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory(http=True)
    form = {"content-type": "application/x-www-form-urlencoded"}
    answers = [
        (("GET", "/ui/databases/exa_db1"), (303, "/ui/login")),
        (("GET", "/ui/events?view=overview"), (401, None)),
        (("POST", "/ui/databases/exa_db1/start", b"csrf=x", form), (401, None)),
        (("POST", "/ui/login", b"x" * 100_000, form), (413, None)),  # a login form is small: not read
        (("GET", "/ui/", b"", {"cookie": "exaop_session=" + "A" * 43}), (303, "/ui/login")),  # no such session
    ]
    for request, expected in answers:
        r, _ = _request(srv, *request)
        assert (r.status, r.getheader("location")) == expected, request[:2]


def test_live_streams_are_capped_per_session(server_factory) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory(http=True)
    session, _ = _log_in(srv)
    streams = []
    try:
        for _ in range(8):
            c = _conn(srv)
            c.request("GET", "/ui/events?view=overview", headers={"cookie": f"exaop_session={session}"})
            r = c.getresponse()
            assert r.status == 200 and r.getheader("content-type", "").startswith("text/event-stream")
            assert r.readline().startswith(b"event: replace")  # the first view, at once
            streams.append(c)
        r, data = _request(srv, "GET", "/ui/events?view=overview", headers={"cookie": f"exaop_session={session}"})
        assert r.status == 429, data
    finally:
        for c in streams:
            c.close()
    deadline = time.monotonic() + 10
    while True:  # the closed streams are given back (each notices its client is gone)
        c = _conn(srv)
        c.request("GET", "/ui/events?view=logs", headers={"cookie": f"exaop_session={session}"})
        r = c.getresponse()
        c.close()
        if r.status == 200 or time.monotonic() > deadline:
            break
    assert r.status == 200


def test_a_shutdown_run_from_the_web_ends_exaop_serve(server_factory) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory(http=True, speed=600)
    session, token = _log_in(srv)
    headers = {"cookie": f"exaop_session={session}", "content-type": "application/x-www-form-urlencoded"}
    for procedure, number in (("start", 1), ("stop", 2)):
        r, _ = _request(srv, "POST", f"/ui/cluster/{procedure}", f"csrf={token}".encode(), headers)
        assert r.status == 303 and r.getheader("location") == f"/ui/runs/{number}"
        if procedure == "start":
            deadline = time.monotonic() + 60
            while b"Done:" not in (page := _request(srv, "GET", "/ui/runs/1", headers=headers)[1]):
                assert time.monotonic() < deadline, page[-2000:]
                time.sleep(0.2)  # polling the page, not waiting for a state: the run ends on its own
    assert srv.wait_exit(60) == 0  # the license server went last, and EXAoperation with it
    assert any("EXAoperation halted" in line for line in srv.output)
