"""The ASGI application: HTTP in, XML-RPC out.

A plain ASGI callable rather than a framework: the whole request path is read body,
authenticate (cached), move the model to now, dispatch, commit, answer. Measured in
bench/rpc_throughput.py.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from types import CoroutineType
from typing import Any

from exaop.engine.runtime import Runtime
from exaop.rpc import faults
from exaop.rpc.auth import Authenticator
from exaop.rpc.codec import MAX_BODY, BadRequest, dump_fault, dump_result, parse_call
from exaop.rpc.dispatch import Dispatcher
from exaop.rpc.objects import ROOT

log = logging.getLogger("exaop.rpc")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_XML = (b"content-type", b"text/xml; charset=utf-8")


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _text(send: Send, status: int, text: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    await _respond(
        send, status, text.encode() + b"\n", [(b"content-type", b"text/plain; charset=utf-8"), *(extra or [])]
    )


def _simulation_call(path: str, body: bytes) -> bool:
    """Whether a call goes to /cluster1/simulation. The simulation controls answer while
    EXAoperation restarts: on a manual clock they are what lets the restart finish."""
    parts = [p for p in path.split("/") if p]
    if parts[1:2] == ["simulation"]:
        return True
    if len(parts) != 1:
        return False
    try:
        method, _ = parse_call(body)
    except BadRequest:
        return False
    return method.startswith("simulation.")


class XmlRpcApp:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.dispatcher = Dispatcher(runtime, ROOT)
        self.auth = Authenticator(runtime.cluster)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http":
            if kind == "lifespan":
                await self._lifespan(receive, send)
            return
        if scope["method"] != "POST":
            await _text(send, 405, "EXAoperation XML-RPC: POST an XML-RPC call to /cluster1", [(b"allow", b"POST")])
            return
        headers = dict(scope["headers"])  # a repeated header: the last one counts
        authorization = headers.get(b"authorization")
        try:
            length = int(headers.get(b"content-length", 0))
        except ValueError:
            length = 0
        if length > MAX_BODY:
            await _text(send, 413, f"request body over {MAX_BODY} bytes")
            return
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        body = message.get("body", b"")
        if message.get("more_body", False) or len(body) > MAX_BODY:  # the usual call comes in one piece
            chunks = [body]
            size = len(body)
            more = message.get("more_body", False)
            while size <= MAX_BODY and more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                chunks.append(chunk)
                size += len(chunk)
                more = message.get("more_body", False)
            if size > MAX_BODY:
                await _text(send, 413, f"request body over {MAX_BODY} bytes")
                return
            body = b"".join(chunks)

        user = self.auth.cached(authorization) if authorization else None
        if user is None:
            user = await self.auth.authenticate(authorization)
            if user is None:
                await _text(send, 401, "Unauthorized", [(b"www-authenticate", b'Basic realm="EXAoperation"')])
                return
        rt = self.runtime
        rt.sync()
        if rt.halted or (rt.cluster.master.restarting and not _simulation_call(scope["path"], body)):
            await _text(send, 503, "EXAoperation is restarting", [(b"retry-after", b"2")])
            return
        method = "?"
        try:
            method, params = parse_call(body)
            result = self.dispatcher.call(scope["path"], method, params, user)
            if type(result) is CoroutineType:
                result = await result
            out = dump_result(result)
        except BadRequest as e:
            out = dump_fault(faults.BAD_REQUEST, f"BadRequest: {e}")
        except Exception as e:  # domain errors and bugs alike become faults, never a 500
            out = dump_fault(*faults.fault_for(e, method))
        try:
            rt.commit()
        except Exception as e:  # the store refused (disk full, locked): a fault, not a 500
            log.exception("saving the state failed after %s", method)
            out = dump_fault(
                faults.INTERNAL,
                f"InternalError: the change could not be saved ({type(e).__name__}: {e}); it is kept in memory "
                "and saved with the next change",
            )
        await send(
            {"type": "http.response.start", "status": 200, "headers": [_XML, (b"content-length", b"%d" % len(out))]}
        )
        await send({"type": "http.response.body", "body": out})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
