"""HTTP connections under control: what a client may send, for how long, and how many at once.

uvicorn's httptools protocol, with what a server facing hostile clients needs and uvicorn
leaves out:

* **Size limits before any work**: the request line and the whole head (request line and
  headers) are counted as the bytes arrive, before the parser buffers them; over the limit
  the client gets 414 or 431 and the connection closes. A request's bytes that are neither
  head nor body (chunk framing, trailers) are bounded too, and nothing is read past the end
  of a request until it is answered. Nothing reaches the application.
* **Read timeouts**: a request's head must arrive within ``header_timeout`` of its first
  byte (or of the connection, TLS handshake included), its body within ``body_timeout`` of
  the head; an idle keep-alive connection closes after ``keepalive_timeout``. A client that
  slow is cut off.
* **A connection cap that keeps the door open**: every connection counts from the moment
  it is accepted (TLS is set up by this protocol, so a handshake under way counts, and a
  connection being closed counts until it is gone). Beyond ``max_connections`` a new
  connection makes room by closing the connection that has waited longest without a
  request in progress (idle, still sending its head, in its handshake, closing) — a flood
  of half-sent requests pushes out itself, not an administrator who just connected. Only
  when every connection has a request in progress is the new one refused.
* **An answer before the body** (a refusal: 401, 413, 429) says ``connection: close``; the
  rest of the body is read and dropped, unparsed, up to ``max_drain`` bytes for ``linger``
  seconds, so that a client which sends its whole body before reading gets the answer
  instead of a reset.

Timeouts are checked by one sweep a second over the connections, so a request costs no
timer of its own; and a small answer leaves in one write instead of uvicorn's two (head,
then body), a system call fewer per request.
"""

from __future__ import annotations

import asyncio
import asyncio.sslproto
import contextlib
import logging
import resource
import ssl
import urllib.parse
from collections import OrderedDict
from collections.abc import Coroutine
from dataclasses import dataclass
from time import perf_counter
from typing import Any, ClassVar, Protocol

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

log = logging.getLogger("exaop.http")

#: file descriptors kept out of the connection budget (the store, logs, the listening sockets)
FD_RESERVE = 256


@dataclass(frozen=True)
class Limits:
    max_request_line: int = 8 * 1024
    max_head: int = 32 * 1024  # request line and all headers
    max_headers: int = 100
    max_overhead: int = 64 * 1024  # bytes of a request that are neither head nor body (chunk framing, trailers)
    header_timeout: float = 10.0  # also the time a TLS handshake may take
    body_timeout: float = 20.0
    keepalive_timeout: float = 15.0
    linger: float = 5.0  # reading the rest of a refused body, or waiting for a close to finish
    max_drain: int = 2 * 1024 * 1024  # bytes of a refused body read and dropped before the connection is cut
    max_connections: int = 2048


def connection_budget(wanted: int) -> int:
    """``wanted``, or what the file-descriptor limit allows (raised to its hard limit first)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(16, min(wanted, soft - FD_RESERVE))


class _Refuse(Exception):
    """Raised in a parser callback to stop parsing: the request is over a limit."""


# connection phases
_HEAD = 0  # in its TLS handshake, or waiting for or reading a request's head: evictable
_BUSY = 1  # a request is in the application: not evictable
_IDLE = 2  # keep-alive, between requests: evictable
_DRAIN = 3  # answered before its body was all in: the rest is read unparsed and dropped; evictable
_CLOSING = 4  # closed by us, not yet gone (a TLS close waits for the peer): evictable


class ConnectionBook:
    """Every open connection; those without a request in progress in order of waiting."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.max_connections = connection_budget(limits.max_connections)
        self.waiting: OrderedDict[GuardedProtocol, None] = OrderedDict()
        self.busy: set[GuardedProtocol] = set()
        self.now = 0.0
        self._sweeper: asyncio.TimerHandle | None = None
        self.evicted = 0
        self.refused = 0
        self.timed_out = 0

    def __len__(self) -> int:
        return len(self.waiting) + len(self.busy)

    def admit(self, conn: GuardedProtocol) -> bool:
        """Take a new connection in; False when it must be refused (all others are busy)."""
        if self._sweeper is None:
            self.now = conn.loop.time()
            self._sweeper = conn.loop.call_later(1.0, self._sweep, conn.loop)
        while len(self) >= self.max_connections:
            if not self.waiting:
                self.refused += 1
                return False
            oldest = next(iter(self.waiting))
            self.evicted += 1
            oldest.drop()
        conn.since = self.now
        self.waiting[conn] = None
        return True

    def set_phase(self, conn: GuardedProtocol, phase: int) -> None:
        was = conn.phase
        conn.phase = phase
        conn.since = self.now
        if phase == _BUSY:
            self.waiting.pop(conn, None)
            self.busy.add(conn)
        elif was == _BUSY:
            self.busy.discard(conn)
            self.waiting[conn] = None  # at the end: it has waited least
        elif conn in self.waiting:
            self.waiting.move_to_end(conn)

    def remove(self, conn: GuardedProtocol) -> None:
        self.waiting.pop(conn, None)
        self.busy.discard(conn)

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        self.now = loop.time()
        lim = self.limits
        limits = {_HEAD: lim.header_timeout, _IDLE: lim.keepalive_timeout, _DRAIN: lim.linger, _CLOSING: lim.linger}
        shortest = min(limits.values())
        # oldest first: stop at the first that is still within the shortest time
        expired = []
        for conn in self.waiting:
            if self.now - conn.since < shortest:
                break
            if self.now - conn.since >= limits[conn.phase]:
                expired.append(conn)
        for conn in self.busy:
            if conn.reading_body and self.now - conn.since >= lim.body_timeout:
                expired.append(conn)
        for conn in expired:
            self.timed_out += 1
            if conn.phase == _IDLE:
                conn.close_idle()
            else:
                conn.time_out()
        if len(self):
            self._sweeper = loop.call_later(1.0, self._sweep, loop)
        else:
            self._sweeper = None


class OneWrite:
    """The transport as one of uvicorn's response cycles sees it: the response's head is held
    back until the first part of its body, so that a small answer leaves in one write (one
    system call, one packet) instead of two. A ``100 Continue`` goes at once; anything else
    the cycle asks of the transport passes through, the held head first where it matters."""

    __slots__ = ("_transport", "_held", "_started", "_protocol")
    JOIN_MAX = 64 * 1024  # a larger first part goes in a write of its own, not copied

    def __init__(self, transport: asyncio.Transport, protocol: GuardedProtocol | None = None) -> None:
        self._transport = transport
        self._held: bytes | None = None
        self._started = False
        self._protocol = protocol

    def write(self, data: bytes) -> None:
        if not self._started and not data.startswith(b"HTTP/1.1 100 "):
            self._started = True
            if self._protocol is not None and self._protocol.reading_body and b"\r\nconnection: close\r\n" not in data:
                # answered before the body is in: the rest of it will be dropped unparsed, so
                # this connection cannot carry another request; the client must know
                data = data[:-2] + b"connection: close\r\n\r\n"
            self._held = data
            return
        held = self._held
        if held is not None:
            self._held = None
            if len(data) <= self.JOIN_MAX:
                data = held + data
            else:
                self._transport.write(held)
        self._transport.write(data)

    def flush(self) -> None:
        if self._held is not None:
            held, self._held = self._held, None
            self._transport.write(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        self.flush()
        return getattr(self._transport, name)


def _ssl_protocol(loop: asyncio.AbstractEventLoop) -> Any:
    """The event loop's own TLS layer class: uvloop's for a uvloop loop, asyncio's otherwise
    (the class each uses for create_server(ssl=...) and start_tls)."""
    try:
        import uvloop
        import uvloop.loop
    except ImportError:
        return asyncio.sslproto.SSLProtocol
    if isinstance(loop, uvloop.Loop):
        return uvloop.loop.SSLProtocol  # type: ignore[attr-defined]
    return asyncio.sslproto.SSLProtocol


class DirectCalls(Protocol):
    """An application that can answer some requests from the connection itself, without an ASGI
    task (XML-RPC calls: most need nothing awaited, and the task, its coroutines and message
    dicts cost more than the call)."""

    #: the answer's headers besides content-length
    answer_headers: list[tuple[bytes, bytes]]

    def accepts(self, method: bytes, path: str, authorization: bytes | None, length: int) -> Any:
        """Who asks, when the connection may answer this request itself; None: the ASGI path."""

    def answer(self, path: str, body: bytes, who: Any, peer: tuple[str, int] | None, t0: float
               ) -> bytes | Coroutine[Any, Any, bytes] | None:  # fmt: skip
        """The answer's body; a coroutine giving it (answered through ASGI); None: the ASGI path
        answers the request, as if it had never come here."""


def guarded_protocol(book: ConnectionBook, tls: ssl.SSLContext | None = None, direct: DirectCalls | None = None
                     ) -> type[GuardedProtocol]:  # fmt: skip
    """The protocol class uvicorn is given (``Config(http=...)``), bound to ``book``; with
    ``tls`` it speaks HTTPS (uvicorn is then given no SSL of its own: see the class); with
    ``direct`` it answers what that application accepts without an ASGI task."""
    return type("BoundGuardedProtocol", (GuardedProtocol,), {"book": book, "tls": tls, "direct": direct})


def _answer_when_done(pending: Coroutine[Any, Any, bytes], headers: list[tuple[bytes, bytes]]) -> Any:
    """An ASGI application answering with what ``pending`` gives."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        out = await pending
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*headers, (b"content-length", b"%d" % len(out))]})  # fmt: skip
        await send({"type": "http.response.body", "body": out})

    return app


class GuardedProtocol(HttpToolsProtocol):
    book: ClassVar[ConnectionBook]
    #: TLS is set up here (the event loop's own TLS layer, put between the TCP connection and
    #: this protocol when it is accepted), not by the server: a server's TLS hands a
    #: connection to its protocol only once the handshake is done, so a client that never
    #: finishes one would hold a descriptor nobody counts
    tls: ClassVar[ssl.SSLContext | None] = None
    #: the application whose requests this connection may answer itself (see DirectCalls)
    direct: ClassVar[DirectCalls | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._who: Any = None  # who asks, while a request is taken directly (its body is being read)
        self._direct_path = ""
        self._direct_body: list[bytes] = []
        self._direct_t0 = 0.0
        self._handover: Any = None  # for the ASGI task about to start: what the direct path left it
        self._paused_for_writes = False
        self._closing_after_answer = False  # the server is stopping: close once the request is answered
        self.phase = _HEAD
        self.since = 0.0
        self.reading_body = False
        self._tcp: asyncio.Transport | None = None  # the accepted connection (TLS runs on top of it)
        self._head_bytes = 0
        self._tail = b""
        self._header_count = 0
        self._fed = 0  # bytes given to the parser since the head, and of those the body's:
        self._body_seen = 0  # the difference is framing and trailers, which the parser buffers
        self._drained = 0
        self._closed = False
        self._refusal: tuple[int, str] | None = None  # why a parser callback stopped the parse

    # -- the connection ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if self._tcp is not None:  # called again, by the TLS layer, once its handshake is done
            if self._closed:
                transport.abort()
                return
            super().connection_made(transport)
            return
        self._tcp = transport
        if not self.book.admit(self):
            log.warning("refusing a connection: %d connections all have a request in progress", len(self.book))
            if self.tls is None:
                super().connection_made(transport)
                self._answer(503, "too many connections with requests in progress; try again shortly")
            else:
                transport.abort()  # nothing can be said before a handshake
            return
        if self.tls is None:
            super().connection_made(transport)
            return
        # TLS in between, before a byte is read (so the client's hello reaches it): its
        # handshake counts as this connection's, and it calls connection_made again when done
        self.transport = transport  # the TCP connection, until then (drop() and time_out() cut it)
        handshake: asyncio.Future[None] = self.loop.create_future()
        handshake.add_done_callback(self._handshake_done)
        lim = self.book.limits
        tls_layer = _ssl_protocol(self.loop)(
            self.loop, self, self.tls, handshake, server_side=True, call_connection_made=True,
            ssl_handshake_timeout=lim.header_timeout, ssl_shutdown_timeout=lim.linger,
        )  # fmt: skip
        transport.set_protocol(tls_layer)
        tls_layer.connection_made(transport)

    def _handshake_done(self, handshake: asyncio.Future[None]) -> None:
        if handshake.cancelled() or handshake.exception() is not None:
            # the TLS layer closes the TCP connection; this one no longer counts
            log.debug("TLS handshake failed: %s", None if handshake.cancelled() else handshake.exception())
            self._closed = True
            self.book.remove(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self.book.remove(self)
        super().connection_lost(exc)

    def drop(self) -> None:
        """Make room for a newer connection: cut this one (it has no request in progress)."""
        self._close(abort=True)

    def time_out(self) -> None:
        """Too slow, or a close that did not finish: cut off at once."""
        self._close(abort=True)

    def close_idle(self) -> None:
        """A keep-alive connection idle too long: closed properly (over TLS with a close_notify),
        so that a client sending its next request on it reconnects (Python's xmlrpc.client does
        on a clean close; after a bare cut it fails with an SSL EOF error)."""
        self._close(abort=False)

    def _close(self, abort: bool) -> None:
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True  # an application still reading the body gets a disconnect
            self.cycle.message_event.set()
        if abort:
            self._closed = True
            self.book.remove(self)
            self.transport.abort()
        elif not self._closed:
            # a TLS close waits for the peer's close_notify: the connection stays counted
            # (and evictable) until it is gone, and is cut off after `linger`
            self._closed = True
            self.book.set_phase(self, _CLOSING)
            self.transport.close()

    def _answer(self, status: int, text: str) -> None:
        """Answer ``status`` and close, without involving the application."""
        if not self.transport.is_closing():
            body = text.encode() + b"\n"
            self.transport.write(
                b"".join(
                    (
                        STATUS_LINE[status],
                        b"content-type: text/plain; charset=utf-8\r\n",
                        b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body),
                        body,
                    )
                )  # fmt: skip
            )
        self._close(abort=False)

    # -- bytes in --------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._closed:
            return
        lim = self.book.limits
        phase = self.phase
        if phase is _DRAIN:  # the rest of a body nobody wants: dropped unparsed
            self._drained += len(data)
            if self._drained > lim.max_drain:
                self._close(abort=True)
            return
        if phase is _HEAD or phase is _IDLE:  # a head is (or may be) coming
            if phase is _IDLE:
                self.book.set_phase(self, _HEAD)  # the head timeout runs from the first byte
            # count the head's bytes as they come, before the parser buffers them; a chunk
            # may hold the body too, so near the limit only the bytes up to the head's end count
            counted = self._head_bytes + len(data)
            if counted > lim.max_head:
                end = (self._tail + data).find(b"\r\n\r\n")
                if end >= 0:
                    counted = self._head_bytes + max(0, end + 4 - len(self._tail))
                if counted > lim.max_head:
                    self._answer(431, f"the request head is over {lim.max_head} bytes")
                    return
            self._head_bytes = counted
            self._tail = data[-3:]
        elif self.reading_body:
            self._fed += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._answer(400, "protocol upgrades are not offered here")
            return
        except httptools.HttpParserError:
            self._answer(*(self._refusal or (400, "invalid HTTP request")))
            return
        if self.reading_body and self._fed - self._body_seen > lim.max_overhead:
            self._answer(431, f"over {lim.max_overhead} bytes of chunk framing and trailers")

    def _refuse(self, status: int, text: str) -> None:
        """From a parser callback: stop parsing, answer ``status``."""
        self._refusal = (status, text)
        raise _Refuse(text)

    # -- parser callbacks ----------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_count = 0

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        limit = self.book.limits.max_request_line
        if len(self.url) > limit:
            self._refuse(414, f"the request target is over {limit} bytes")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > self.book.limits.max_headers:
            self._refuse(431, f"over {self.book.limits.max_headers} header fields")
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._closed:
            return
        self.book.set_phase(self, _BUSY)
        self.reading_body = True
        self._head_bytes = self._fed = self._body_seen = 0
        self._tail = b""
        if self.direct is not None and self._take_directly():
            return
        self._start_cycle()

    def _start_cycle(self) -> None:
        super().on_headers_complete()
        # made just now (its task starts on the next turn of the loop); a HEAD answer has no body
        # whose write takes its head along, and a pipelined one completes when self.cycle is
        # already the next request's: its head goes at once
        if self.cycle is not None and self.cycle.scope["method"] != "HEAD":
            self.cycle.transport = OneWrite(self.transport, self)  # type: ignore[assignment]

    def _take_directly(self) -> bool:
        """Whether this request is answered by the connection itself (see DirectCalls): a plain
        HTTP/1.1 keep-alive request with a Content-Length, none in progress before it, and one
        the application accepts. Anything else takes uvicorn's ASGI path, unchanged."""
        parser = self.parser
        if (self.pipeline or (self.cycle is not None and not self.cycle.response_complete) or self.flow.write_paused
                or self.expect_100_continue
                or parser.should_upgrade() or parser.get_http_version() != "1.1"
                or not parser.should_keep_alive()):  # fmt: skip
            return False
        length = authorization = None
        for name, value in self.headers:
            if name == b"content-length":
                if length is not None:
                    return False
                length = value
            elif name == b"authorization":
                authorization = value
            elif name == b"transfer-encoding":
                return False
        if length is None or not length.isdigit() or len(length) > 12:
            return False
        try:  # the path as uvicorn makes it for the scope
            path = httptools.parse_url(self.url).path.decode("ascii")
        except (httptools.HttpParserError, UnicodeDecodeError, AttributeError):  # no path ("*"): uvicorn's to refuse
            return False
        if "%" in path:
            path = urllib.parse.unquote(path)
        assert self.direct is not None
        who = self.direct.accepts(parser.get_method(), self.root_path + path, authorization, int(length))
        if who is None:
            return False
        self._who, self._direct_path, self._direct_body = who, self.root_path + path, []
        self._direct_t0 = perf_counter()
        return True

    def on_body(self, body: bytes) -> None:
        self._body_seen += len(body)
        if self._who is not None:
            self._direct_body.append(body)
        elif self.cycle is not None:
            super().on_body(body)

    def on_message_complete(self) -> None:
        self.reading_body = False
        if self._who is not None:
            self._answer_directly()
            return
        if self.cycle is None:
            return
        super().on_message_complete()
        if not self.cycle.response_complete:
            # nothing more is read until this request is answered: a pipelined head (or a
            # flood pretending to be one) waits in the kernel, not in the parser's buffers
            self.flow.pause_reading()

    def _answer_directly(self) -> None:
        who, self._who = self._who, None
        body = b"".join(self._direct_body)
        self._direct_body = []
        assert self.direct is not None
        try:
            out = self.direct.answer(self._direct_path, body, who, self.client, self._direct_t0)
            if type(out) is not bytes:
                # a method that waits (or nothing to answer here): through ASGI after all, as a
                # request whose body is all in; its task answers what was started, or starts over
                self._handover = out
                self._start_cycle()
                cycle = self.cycle
                if cycle is None:  # pragma: no cover - uvicorn made none (an upgrade): nothing to answer
                    return
                cycle.body = body
                if self._closing_after_answer:
                    cycle.keep_alive = False
                super().on_message_complete()
                if not cycle.response_complete:
                    self.flow.pause_reading()
                return
        except Exception:  # a bug: what uvicorn does for an application that fails, a 500
            log.exception("answering %s failed", self._direct_path[:200])
            self._handover = None
            out, status = b"Internal Server Error", 500
            self._closing_after_answer = True
        else:
            status = 200
        closing = self._closing_after_answer
        head = [STATUS_LINE[status]]
        for name, value in (*self.server_state.default_headers,
                            *(self.direct.answer_headers if status == 200 else [(b"content-type", b"text/plain")]),
                            *([(b"connection", b"close")] if closing else [])):  # fmt: skip
            head += (name, b": ", value, b"\r\n")
        head.append(b"content-length: %d\r\n\r\n" % len(out))
        if len(out) <= OneWrite.JOIN_MAX:
            self.transport.write(b"".join((*head, out)))
        else:
            self.transport.write(b"".join(head))
            self.transport.write(out)
        self.server_state.total_requests += 1
        if closing:  # the server is stopping (or the call failed): answered, then closed
            self._close(abort=False)
            return
        if self.transport.is_closing():
            return
        if self.flow.write_paused:
            # a client that sends without reading what it is sent: nothing more is read until
            # it does, and what was read already goes through ASGI, which waits for it
            self._paused_for_writes = True
            self.flow.pause_reading()
        if not self._closed:
            self.book.set_phase(self, _IDLE)

    def in_progress(self) -> bool:
        """Whether a request is being read or answered on this connection."""
        return self._who is not None or (self.cycle is not None and not self.cycle.response_complete)

    def shutdown(self) -> None:
        # uvicorn closes a connection whose last cycle is done; one reading a body for the
        # direct path is busy: it is answered, with connection: close, then closed
        if self._who is not None:
            self._closing_after_answer = True
            return
        super().shutdown()

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._paused_for_writes:
            self._paused_for_writes = False
            self.flow.resume_reading()

    def _start_asgi_task(self, cycle: Any, app: Any) -> None:
        handover, self._handover = self._handover, None
        if handover is not None:  # the coroutine of a method that waits: its task sends the answer
            app = _answer_when_done(handover, self.direct.answer_headers if self.direct is not None else [])
        super()._start_asgi_task(cycle, app)

    def on_response_complete(self) -> None:
        # as uvicorn's, but the sweep closes idle connections: no keep-alive timer per request
        if self.cycle is not None and isinstance(self.cycle.transport, OneWrite):
            self.cycle.transport.flush()  # an empty body writes nothing: the head must not wait
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.reading_body:
            # answered before the body was all in (a refusal, said with connection: close):
            # the rest is read and dropped, unparsed, until the client closes or `linger` ends
            self.book.set_phase(self, _DRAIN)
            return
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        elif not self._closed:
            self.book.set_phase(self, _IDLE)
