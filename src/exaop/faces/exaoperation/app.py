"""The ASGI application: HTTP in, XML-RPC out.

A plain ASGI callable rather than a framework: the whole request path is read body,
authenticate (cached), move the model to now, dispatch, commit, answer. Measured in
bench/rpc_throughput.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from time import perf_counter
from types import CoroutineType
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from exaop.engine.runtime import Runtime
from exaop.faces.asgi import XML, Receive, Scope, Send, body_or_413, headers_of, peer_address, respond
from exaop.faces.asgi import text as _text
from exaop.faces.auth import Authenticator, LoginGuard, LoginRefused
from exaop.faces.exaoperation import faults
from exaop.faces.exaoperation.codec import MAX_BODY, BadRequest, dump_fault, dump_result, parse_call
from exaop.faces.exaoperation.dispatch import Dispatcher
from exaop.faces.exaoperation.objects import ROOT
from exaop.faces.exaoperation.registry import Method
from exaop.model.errors import Unavailable
from exaop.monitor import ClusterCollector, RequestStats, registry_for

log = logging.getLogger("exaop.faces.exaoperation")

if TYPE_CHECKING:
    from exaop.httpguard import ConnectionBook
    from exaop.model.users import User


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
    def __init__(self, runtime: Runtime, book: ConnectionBook | None = None) -> None:
        self.runtime = runtime
        self.dispatcher = Dispatcher(runtime, ROOT)
        self.auth = Authenticator(runtime.cluster, log=self._log_login)
        self._login_flush: Any = None  # the timer that logs the minutes of failed logins
        self.stats = RequestStats()
        self.collector = ClusterCollector(runtime, self.stats, self.auth, book)
        self.metrics = registry_for(self.collector)
        #: the web interface (faces/web), when the server has one: GET / and everything under /ui
        self.web: Any = None

    def _log_login(self, text: str) -> None:
        """A line about failed logins: logged now, saved just after the answer (a store that
        cannot save must not turn a 401 into a 500)."""
        self.runtime.cluster.log("Authentication", "", "Warning", text)
        log.info("%s", text, extra={"event": "login_failure"})
        asyncio.get_running_loop().call_soon(self._save_quietly)

    def _save_quietly(self) -> None:
        try:
            self.runtime.commit()
        except Exception:  # kept in memory: the next change saves it
            log.exception("saving the log of failed logins failed")

    def logins_to_log(self) -> None:
        """Failed logins are logged a line per address and minute: make sure each minute is."""
        if self._login_flush is None:
            self._login_flush = asyncio.get_running_loop().call_later(LoginGuard.WINDOW, self._flush_logins)

    def _flush_logins(self) -> None:
        self._login_flush = None
        if self.auth.guard.flush():
            self._login_flush = asyncio.get_running_loop().call_later(LoginGuard.WINDOW / 4, self._flush_logins)

    async def login(self, scope: Scope, authorization: bytes | None, send: Send, realm: bytes = b"EXAoperation"
                    ) -> User | None:  # fmt: skip
        """The user the request's basic auth names, or None once it has been answered (401 for
        wrong credentials, 429/503 when its address or the server may not try now). Shared by
        both faces: the same users, the same login guard."""
        peer = scope.get("client")
        try:
            user = await self.auth.authenticate(authorization, peer[0] if peer else "")
        except LoginRefused as e:
            self.logins_to_log()
            self.stats.refused(e.status)
            await _text(send, e.status, e.reason, [(b"retry-after", b"%d" % max(1, round(e.retry_after)))])
            return None
        if user is None:
            self.logins_to_log()
            self.stats.refused(401)
            await _text(send, 401, "Unauthorized", [(b"www-authenticate", b'Basic realm="' + realm + b'"')])
        return user

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http":
            if kind == "lifespan":
                await self._lifespan(receive, send)
            return
        if self.web is not None and self.web.owns(scope["method"], scope["path"]):
            await self.web(scope, receive, send)
            return
        if scope["method"] != "POST":
            await self._get(scope, send)
            return
        t0 = perf_counter()
        authorization, length_text = headers_of(scope)
        # who asks comes first: a client without valid credentials gets no further than this,
        # and its body is never read (the connection drops it, see httpguard)
        user = self.auth.cached(authorization) if authorization else None
        if user is None:
            user = await self.login(scope, authorization, send)
            if user is None:
                return
        body = await body_or_413(receive, length_text, send, self.stats.refused)
        if body is None:
            return

        out = self.answer(scope["path"], body, user, scope.get("client"), t0)
        if out is None:
            self.stats.refused(503)
            await _text(send, 503, "EXAoperation is restarting", [(b"retry-after", b"2")])
            return
        if type(out) is not bytes:
            out = await out
        await send(
            {"type": "http.response.start", "status": 200, "headers": [XML, (b"content-length", b"%d" % len(out))]}
        )
        await send({"type": "http.response.body", "body": out})

    # -- the call itself: shared by the ASGI path above and the connection's direct path ------------

    #: the headers of every answer to a call, besides content-length (see httpguard.DirectCalls)
    answer_headers = [XML]

    def accepts(self, method: bytes, path: str, authorization: bytes | None, length: int) -> User | None:
        """Whether the connection may answer this request itself, without an ASGI task: a POST
        to the XML-RPC face, of a body within the limit, from a user whose credentials are
        already checked. The user; None: the ASGI path takes it, with everything it does for
        logins, refusals, the web interface and GET (see httpguard.DirectCalls)."""
        if method != b"POST" or authorization is None or length > MAX_BODY:
            return None
        if self.web is not None and self.web.owns("POST", path):
            return None
        return self.auth.cached(authorization)

    def answer(self, path: str, body: bytes, user: User, peer: tuple[str, int] | None, t0: float
               ) -> bytes | Coroutine[Any, Any, bytes] | None:  # fmt: skip
        """The XML-RPC answer to a call (a fault included), with the change saved, counted and logged.

        Bytes when nothing had to be awaited (most calls); a coroutine giving them for a method
        that waits (the caller awaits it); None when EXAoperation is restarting and only the
        simulation answers (the caller answers 503 with a retry hint)."""
        rt = self.runtime
        rt.sync()
        if rt.cluster.master.restarting and not rt.halted and not _simulation_call(path, body):
            return None
        method = "?"
        called: Method | None = None
        try:
            if rt.halted:  # going away for good: no retry hint, a fault that says so
                raise Unavailable(
                    f"EXAoperation is halting ({rt.cluster.halt_reason}); it answers again only once its "
                    "license server is started"
                )
            method, params = parse_call(body)
            try:
                result = self.dispatcher.call(path, method, params, user)
            finally:
                called = self.dispatcher.last  # this call's: nothing was awaited since
            if type(result) is CoroutineType:
                return self._awaited(result, path, method, called, user, peer, t0)
            return self._done(dump_result(result), None, path, method, called, user, peer, t0)
        except BadRequest as e:
            return self._done(dump_fault(faults.BAD_REQUEST, f"BadRequest: {e}"), e, path, method, called, user,
                              peer, t0)  # fmt: skip
        except Exception as e:  # domain errors and bugs alike become faults, never a 500
            return self._done(dump_fault(*faults.fault_for(e, method)), e, path, method, called, user, peer, t0)

    async def _awaited(self, pending: Coroutine[Any, Any, Any], path: str, method: str, called: Method | None,
                       user: User, peer: tuple[str, int] | None, t0: float) -> bytes:  # fmt: skip
        try:
            out, fault = dump_result(await pending), None
        except Exception as e:
            out, fault = dump_fault(*faults.fault_for(e, method)), e
        return self._done(out, fault, path, method, called, user, peer, t0)

    def _done(self, out: bytes, fault: BaseException | None, path: str, method: str, called: Method | None,
              user: User, peer: tuple[str, int] | None, t0: float) -> bytes:  # fmt: skip
        """Save what the call changed, count and log it; the answer to send."""
        ok = fault is None
        try:
            self.runtime.commit()
        except Exception as e:  # the store refused (disk full, locked): a fault, not a 500
            log.exception("saving the state failed after %s", method)
            out = dump_fault(
                faults.INTERNAL,
                f"InternalError: the change could not be saved ({type(e).__name__}: {e}); it is kept in memory "
                "and saved with the next change",
            )
        took = perf_counter() - t0
        name = called.name if called is not None else "(unknown)"  # never a client's string: it is a label
        self.stats.call(name, ok, took)
        if called is not None and called.permission != "read" and log.isEnabledFor(logging.INFO):
            self._log_action(path, peer_address(peer), user.login, called.name, ok, fault, took)
        elif log.isEnabledFor(logging.DEBUG):
            client = peer_address(peer)
            log.debug("%s %s %s.%s %s %.1f ms", client, user.login, path[:200], name, "ok" if ok else "fault",
                      took * 1000,
                      extra={"event": "request", "client": client, "user": user.login, "object": path[:200],
                             "method": name, "result": "ok" if ok else "fault",
                             "duration_ms": round(took * 1000, 3)})  # fmt: skip
        return out

    def _log_action(self, path: str, client: str, login: str, method: str, ok: bool, fault: BaseException | None,
                    took: float) -> None:  # fmt: skip
        """Every call that may change something, at info: who, what, on which object, how it
        ended (the reason of a refusal; never the arguments, which may hold passwords)."""
        why = "" if ok else faults.fault_for(fault, method)[1] if fault is not None else "fault"
        log.info("%s by %s from %s on %s: %s", method, login, client, path[:200],
                 "done" if ok else f"refused: {why[:300]}",
                 extra={"event": "action", "client": client, "user": login, "object": path[:200],
                        "method": method, "result": "ok" if ok else "fault", "reason": why[:300],
                        "duration_ms": round(took * 1000, 3)})  # fmt: skip

    async def _get(self, scope: Scope, send: Send) -> None:
        """GET: /health (alive), /ready (EXAoperation serves calls) without credentials;
        /metrics (Prometheus) for any user who logs in; nothing else."""
        path = scope["path"]
        if path == "/health":
            await _text(send, 200, "ok")
        elif path == "/ready":
            rt = self.runtime
            if rt.halted or rt.stopping:
                await _text(send, 503, "halting")
            elif rt.cluster.master.restarting:
                await _text(send, 503, "EXAoperation is restarting", [(b"retry-after", b"2")])
            else:
                await _text(send, 200, "ready")
        elif path == "/metrics":
            headers = dict(scope["headers"])
            user = await self._metrics_user(scope, headers.get(b"authorization"))
            if user is None:
                await _text(send, 401, "Unauthorized", [(b"www-authenticate", b'Basic realm="EXAoperation"')])
                return
            body = generate_latest(self.metrics)
            await respond(send, 200, body, [(b"content-type", CONTENT_TYPE_LATEST.encode())])
        else:
            await _text(send, 405, "EXAoperation XML-RPC: POST an XML-RPC call to /cluster1 (GET: /health, "
                        "/ready, /metrics; the web interface: /ui/)", [(b"allow", b"POST")])  # fmt: skip

    async def _metrics_user(self, scope: Scope, authorization: bytes | None) -> Any:
        user = self.auth.cached(authorization) if authorization else None
        if user is not None:
            return user
        client = scope.get("client")
        try:
            user = await self.auth.authenticate(authorization, client[0] if client else "")
        except LoginRefused:
            user = None
        if user is None:
            self.logins_to_log()
        return user

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
