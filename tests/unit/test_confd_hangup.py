"""A ConfD caller that hangs up while its call waits: the wait ends with it."""

from __future__ import annotations

import asyncio
import base64
import xmlrpc.client
from typing import Any

from exaop.engine.runtime import Runtime
from exaop.faces.confd.app import ConfdApp
from exaop.faces.exaoperation.app import XmlRpcApp

PASSWORD = "admin-secret"


async def call(app: ConfdApp, gone: asyncio.Event, method: str, *args: Any) -> list[dict[str, Any]]:
    """One POST; the client hangs up when ``gone`` is set. What the app sent."""
    body = xmlrpc.client.dumps(args, method).encode()
    auth = b"Basic " + base64.b64encode(f"admin:{PASSWORD}".encode())
    scope = {"type": "http", "method": "POST", "path": "/", "client": ("127.0.0.1", 5),
             "headers": [(b"authorization", auth), (b"content-length", b"%d" % len(body))]}  # fmt: skip
    sent: list[dict[str, Any]] = []
    first = True

    async def receive() -> dict[str, Any]:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": body, "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def test_a_job_wait_whose_caller_hung_up_stops_waiting() -> None:
    # before: each hung-up job_wait stayed for up to an hour (3,000 of them held 140 MB)
    rt = Runtime.open(None, admin_password=PASSWORD, speed=0).runtime
    app = ConfdApp(rt, XmlRpcApp(rt))

    async def go() -> None:
        never = asyncio.Event()
        sent = await call(app, never, "job_start", "node_wait_ready", {"params": {"nids": [11]}})
        job_id = xmlrpc.client.loads(sent[1]["body"])[0][0]
        pending = lambda: [w for w in rt._waiters if not w.future.done()]  # noqa: E731
        watched = len(pending())  # the job's own watcher
        gone = asyncio.Event()
        waiting = [asyncio.create_task(call(app, gone, "job_wait", job_id, {"timeout": 3600})) for _ in range(50)]
        await asyncio.sleep(0.05)
        assert not any(t.done() for t in waiting) and len(pending()) == watched + 50
        gone.set()
        answered = await asyncio.wait_for(asyncio.gather(*waiting), 5)
        assert answered == [[]] * 50  # nobody to answer
        assert len(pending()) == watched
        sent = await call(app, never, "job_wait", job_id, {"timeout": 0})  # and a caller who stays is answered
        assert xmlrpc.client.loads(sent[1]["body"])[0][0] is False

    asyncio.run(go())
