"""`exaop serve`: the control plane on uvicorn, in the foreground or in a thread."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import signal
import socket
import ssl
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import uvicorn

from exaop.admin import read_password_file
from exaop.engine.profile import Profile, load_profile
from exaop.engine.runtime import Runtime
from exaop.faces.confd.app import ConfdApp
from exaop.faces.exaoperation.app import XmlRpcApp
from exaop.faces.web import WebApp
from exaop.httpguard import ConnectionBook, GuardedProtocol, Limits, guarded_protocol
from exaop.tls import ensure_self_signed

log = logging.getLogger("exaop.server")
T = TypeVar("T")


@dataclass
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8443
    state_dir: Path | None = Path("state")
    admin_password: str | None = None
    admin_password_file: Path | None = None  # first line; used like admin_password
    http: bool = False
    cert: Path | None = None
    key: Path | None = None
    speed: float = 1.0
    profile: Path | Profile | None = None
    log_level: str = "info"
    limits: Limits = field(default_factory=Limits)
    #: a second port that serves /metrics without credentials (0: none; /metrics on the main
    #: port always needs a login)
    metrics_port: int = 0
    metrics_host: str = "127.0.0.1"
    #: the ConfD face's port (0: any free one; None: no ConfD face). Always HTTPS, also with --http
    confd_port: int | None = None
    #: the node the ConfD face plays (None: the master, wherever it runs); another node answers 302
    confd_node: str | None = None


class ConfdListenError(OSError):
    """The ConfD face's port cannot be listened on (the main port could)."""


class _Server(uvicorn.Server):
    """uvicorn's server, except that a stop signal ends the process cleanly.

    uvicorn raises SIGTERM/SIGINT again once it has shut down, so the process would die
    by the signal (exit -15, or a KeyboardInterrupt traceback) before the state is closed.
    For `exaop serve` a signal is the normal way to stop: close the state, exit 0.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread() or not self.takes_signals:
            yield
            return
        original = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)

    #: called first when the server stops (the control plane answers calls waiting for a state)
    before_shutdown: Callable[[], None] | None = None
    #: whether a stop signal reaches this server (the second server of a process leaves them to the first)
    takes_signals = True

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's startup for a host and port, except that an address in use raises OSError
        for the caller to report (uvicorn exits the process). TLS is the protocol's own
        (httpguard), so that a handshake under way is a connection the server counts."""
        config = self.config  # loaded, with self.lifespan, by uvicorn's _serve

        def create_protocol(_loop: asyncio.AbstractEventLoop | None = None) -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=self.server_state, app_state=self.lifespan.state, _loop=_loop
            )

        server = await asyncio.get_running_loop().create_server(
            create_protocol, host=config.host, port=config.port, backlog=config.backlog
        )
        self.servers = [server]
        self.started = True

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.before_shutdown is not None:
            self.before_shutdown()
        # An idle keep-alive TLS connection closes only once the client answers the TLS
        # close_notify, which an idle client never does: the stop would wait out the whole
        # graceful timeout. Drop idle connections whose answers are all sent at once.
        for conn in list(self.server_state.connections):
            transport = getattr(conn, "transport", None)
            if isinstance(conn, GuardedProtocol):
                idle = not conn.in_progress()  # a body being read for the direct path is not idle
            else:
                cycle = getattr(conn, "cycle", None)
                idle = cycle is None or cycle.response_complete
            if transport is not None and idle and not transport.get_write_buffer_size():
                transport.abort()
        await super().shutdown(sockets)


class ControlPlane:
    """One server: runtime + ASGI app + uvicorn. ``url`` is set once it listens."""

    def __init__(self, opts: ServeOptions) -> None:
        self.opts = opts
        profile = load_profile(opts.profile) if isinstance(opts.profile, str | Path) else opts.profile
        # admin's password is set when the state dir is created, never again (a changed one stays)
        if opts.admin_password:
            password, given_by = opts.admin_password, "--admin-password"
        elif opts.admin_password_file is not None:
            password, given_by = read_password_file(opts.admin_password_file), "--admin-password-file"
        else:
            password, given_by = os.environ.get("EXAOP_ADMIN_PASSWORD") or None, "EXAOP_ADMIN_PASSWORD"
        opened = Runtime.open(opts.state_dir, profile, opts.speed, password)
        self.runtime = opened.runtime
        self.generated_password = opened.generated_password
        self.notes = opened.notes
        if password and not opened.created:
            self.notes.append(
                f"{given_by} is ignored: admin's password is set only when a state dir is created; to reset it, "
                f"stop the server and run: exaop admin reset-password --state-dir {opts.state_dir}"
            )
        self.connections = ConnectionBook(opts.limits)
        self.app = XmlRpcApp(self.runtime, self.connections)
        # the web interface on the same port; its cookie is Secure unless plain HTTP on the loopback
        self.web = WebApp(
            self.runtime,
            self.app.auth,
            self.app.dispatcher,
            self.connections,
            secure=not (opts.http and _loopback(opts.host)),
            on_login_failure=self.app.logins_to_log,
        )
        self.app.web = self.web
        self.confd: ConfdApp | None = None
        if opts.confd_port is not None:
            try:
                self.confd = ConfdApp(self.runtime, self.app, opts.confd_node, port=lambda: self._confd_port)
            except BaseException:  # an unknown --confd-node: the state dir is free again
                self.runtime.close()
                raise
        self._confd_port = 0
        self._confd_server: _Server | None = None
        self.metrics_url = ""
        self.url = ""
        self.confd_url = ""  # https://host:port of the ConfD face once it listens
        self.halt_reason = ""
        self._server: uvicorn.Server | None = None
        self._started = threading.Event()
        self._thread: threading.Thread | None = None

    def _tls(self, always: bool = False) -> ssl.SSLContext | None:
        """The server's TLS context; None for --http (unless ``always``: the ConfD face is HTTPS only)."""
        o = self.opts
        if o.http and not always:
            return None
        if o.cert or o.key:
            if not (o.cert and o.key):
                raise ValueError("--cert and --key go together")
            cert, key = o.cert, o.key
        else:
            base = o.state_dir if o.state_dir is not None else Path(".")
            cert, key = ensure_self_signed(Path(base) / "tls", o.host)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(str(cert), str(key))
        return ctx

    def _config(self, confd: bool = False) -> uvicorn.Config:
        o = self.opts
        port = o.confd_port if confd and o.confd_port is not None else o.port
        return uvicorn.Config(
            self.confd if confd else self.app,
            host=o.host,
            port=port,
            # the guard: limits, timeouts, the connection cap, and TLS (idle timeouts are its sweep's);
            # both faces count against the same connection cap
            http=guarded_protocol(self.connections, self._tls(always=confd), direct=None if confd else self.app),
            loop="uvloop" if _have_uvloop() else "asyncio",
            lifespan="off",
            access_log=False,
            proxy_headers=False,  # a client's X-Forwarded-For must not choose whose failed logins count
            log_config=None,  # the log is configured once, by exaop (monitor.configure_logging)
            timeout_graceful_shutdown=3,
        )

    async def run(self, on_ready: object = None) -> None:
        """Serve until SIGTERM/SIGINT, stop() or a halt of the license server."""
        server = _Server(self._config())

        def before_shutdown() -> None:
            self.runtime.release_waiters(
                "EXAoperation is shutting down before this call could be answered; what it started goes on "
                "once EXAoperation is back"
            )
            self.web.stop_streams()

        server.before_shutdown = before_shutdown
        self._server = server
        loop = asyncio.get_running_loop()

        def halt(reason: str) -> None:
            self.halt_reason = reason
            loop.call_later(0.05, setattr, server, "should_exit", True)

        self.runtime.on_halt = halt
        self.app.collector.loop = loop  # scrapes from the metrics port's thread read the model here
        if self.opts.http and not _loopback(self.opts.host):
            log.warning(
                "serving plain HTTP on %s: passwords cross the network in clear text; use HTTPS (the default) "
                "unless a TLS proxy in front of it is the only way in", self.opts.host,
            )  # fmt: skip
        task = asyncio.create_task(server.serve())
        try:
            while not server.started and not task.done():
                await asyncio.sleep(0.005)
            if server.started and self.confd is not None:
                await self._start_confd(task)
            if server.started and not task.done():
                sock = server.servers[0].sockets[0].getsockname()
                host = self.opts.host if ":" not in self.opts.host else f"[{self.opts.host}]"
                self.url = f"{'http' if self.opts.http else 'https'}://{host}:{sock[1]}/{self.runtime.cluster.name}"
                self.web.runs.url = self.url
                self.runtime.start_on(loop)  # the timer, power outcomes and the BMCs' read-back on this loop
                if self.confd is not None:
                    self.confd.started()
                if self.opts.metrics_port:
                    self._serve_metrics()
                self._started.set()
                if callable(on_ready):
                    on_ready(self.url)
            await task
        finally:
            if self._confd_server is not None:
                self._confd_server.should_exit = True
                await self._confd_task
            httpd = getattr(self, "_metrics_httpd", None)
            if httpd is not None:
                httpd.shutdown()
                httpd.server_close()
            self.runtime.close()
            self._started.set()

    async def _start_confd(self, main: asyncio.Task[None]) -> None:
        """The ConfD face's server, on the same loop; if it cannot listen, the main server stops too
        and the reason (OSError) reaches the caller."""
        confd = _Server(self._config(confd=True))
        confd.takes_signals = False  # a stop signal stops the main server, which stops this one
        self._confd_server = confd
        self._confd_task = asyncio.create_task(confd.serve())
        while not confd.started and not self._confd_task.done():
            await asyncio.sleep(0.005)
        if not confd.started:
            self._confd_server = None
            assert self._server is not None
            self._server.should_exit = True
            await main
            try:
                await self._confd_task
            except OSError as e:  # the port is in use: say which
                raise ConfdListenError(e.errno, e.strerror or str(e)) from e
            raise ConfdListenError(0, "the ConfD face did not start")
        self._confd_port = confd.servers[0].sockets[0].getsockname()[1]
        host = self.opts.host if ":" not in self.opts.host else f"[{self.opts.host}]"
        self.confd_url = f"https://{host}:{self._confd_port}"

    def _serve_metrics(self) -> None:
        """/metrics without credentials on its own port (prometheus_client's server, a thread)."""
        from prometheus_client import start_http_server

        o = self.opts
        httpd, _ = start_http_server(o.metrics_port, addr=o.metrics_host, registry=self.app.metrics)
        self._metrics_httpd = httpd
        host = o.metrics_host if ":" not in o.metrics_host else f"[{o.metrics_host}]"
        self.metrics_url = f"http://{host}:{httpd.server_address[1]}/metrics"
        log.info("metrics without credentials on %s", self.metrics_url)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._confd_server is not None:
            self._confd_server.should_exit = True

    # -- embedded use (exaop demo, tests) ------------------------------------------------------

    def start_in_thread(self) -> str:
        failure: list[BaseException] = []

        def target() -> None:
            try:
                run_event_loop(self.run())
            except BaseException as e:  # handed to the caller below, not lost in the thread
                failure.append(e)
                if self.runtime.store is not None:
                    self.runtime.close()
            finally:
                self._started.set()

        self._thread = threading.Thread(target=target, name="exaop-serve", daemon=True)
        self._thread.start()
        self._started.wait(30)
        if not self.url:
            reason = f": {type(failure[0]).__name__}: {failure[0]}" if failure else ""
            raise RuntimeError(f"the embedded server did not start{reason}")
        return self.url

    def join(self, timeout: float = 10) -> None:
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_event_loop(coro: Coroutine[Any, Any, T]) -> T:
    """asyncio.run on uvloop when it is installed (uvicorn's loop setting only applies to its own run())."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


def _have_uvloop() -> bool:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True
