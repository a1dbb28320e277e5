"""The ASGI app's answers when EXAoperation cannot serve: halting, restarting."""

from __future__ import annotations

import asyncio
import base64
import xmlrpc.client
from typing import Any

from exaop.engine.runtime import Runtime
from exaop.faces.exaoperation.app import XmlRpcApp

PASSWORD = "admin-secret"


def post(app: XmlRpcApp, method: str, path: str = "/cluster1") -> tuple[int, dict[bytes, bytes], bytes]:
    body = xmlrpc.client.dumps((), method).encode()
    auth = b"Basic " + base64.b64encode(f"admin:{PASSWORD}".encode())
    scope = {"type": "http", "method": "POST", "path": path, "client": ("127.0.0.1", 5),
             "headers": [(b"authorization", auth), (b"content-length", b"%d" % len(body))]}  # fmt: skip
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], dict(sent[0]["headers"]), sent[1]["body"]


def test_a_halting_server_says_so_in_a_fault_without_a_retry_hint() -> None:
    rt = Runtime.open(None, admin_password=PASSWORD, speed=0).runtime
    app = XmlRpcApp(rt)
    assert post(app, "getNodeList")[0] == 200
    rt.cluster.halt_reason = "n0010, where EXAoperation runs, is shutting down"
    rt.halted = True
    status, headers, body = post(app, "getNodeList")
    assert status == 200 and b"retry-after" not in headers
    try:
        xmlrpc.client.loads(body)
    except xmlrpc.client.Fault as f:
        assert f.faultString.startswith("Unavailable: EXAoperation is halting (n0010, where EXAoperation runs")
    else:  # pragma: no cover
        raise AssertionError("a halting server must answer with a fault")
    status, _, body = post(app, "getClock", "/cluster1/simulation")  # the simulation neither: it is going away
    assert status == 200 and b"EXAoperation is halting" in body


def test_a_restarting_exaoperation_answers_503_with_a_retry_hint() -> None:
    rt = Runtime.open(None, admin_password=PASSWORD, speed=0).runtime
    app = XmlRpcApp(rt)
    rt.cluster.master.moving_to = "n0010"
    status, headers, _ = post(app, "getNodeList")
    assert status == 503 and headers[b"retry-after"] == b"2"
    assert post(app, "getClock", "/cluster1/simulation")[0] == 200  # the simulated world answers
