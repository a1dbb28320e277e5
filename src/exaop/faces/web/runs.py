"""A cold start or a shutdown run from the browser: the lifecycle procedures, unchanged.

``start_cluster`` / ``stop_cluster`` (exaop.ops) run in a thread of their own with an
:class:`InProcessClient`: an :class:`~exaop.client.ExaClient` whose calls go, on the
server's own event loop, through the same dispatcher, role checks and commit as an
XML-RPC call, *as the user who pressed the button* (no service password, no loopback
connection, no TLS to trust). Its answers are what the wire would carry (faults become
:class:`~exaop.client.ServerFault` with EXAoperation's texts; a restart window is retried
like a 503). The run's events are kept (the progress page shows them) and each one wakes
the live pages.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from types import CoroutineType
from typing import TYPE_CHECKING, Any

from exaop.client import ExaClient, ServerFault, Unreachable
from exaop.faces.exaoperation import faults
from exaop.model.errors import Unavailable
from exaop.ops.clock import ScaledClock, SimulationClock, ToolClock
from exaop.ops.config import Options
from exaop.ops.events import Event
from exaop.ops.start import start_cluster
from exaop.ops.stop import stop_cluster

if TYPE_CHECKING:
    from exaop.engine.runtime import Runtime
    from exaop.faces.exaoperation.dispatch import Dispatcher
    from exaop.model.users import User

MAX_EVENTS = 2000  # a run's events kept for its page (the first phase events are always kept)
KEPT_RUNS = 20


def _plain(value: Any) -> Any:
    """What the value would be after a trip over XML-RPC (tuples are lists, keys strings)."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


class InProcessClient(ExaClient):
    """An ExaClient that calls the dispatcher on ``loop`` as ``user``."""

    def __init__(
        self,
        url: str,
        runtime: Runtime,
        dispatcher: Dispatcher,
        user: User,
        loop: asyncio.AbstractEventLoop,
        timeout: float = 60.0,
    ) -> None:
        super().__init__(url, user.login, None, timeout=timeout)
        self.runtime = runtime
        self.dispatcher = dispatcher
        self.web_user = user
        self.loop = loop
        self.cluster_path = "/" + runtime.cluster.name
        self._out: set[Future[Any]] = set()
        self._out_lock = threading.Lock()

    async def _dispatch(self, path: str, method: str, args: tuple[Any, ...]) -> Any:
        rt = self.runtime
        rt.sync()
        if rt.halted:
            raise Unavailable(f"EXAoperation is halting ({rt.cluster.halt_reason})")
        try:
            result = self.dispatcher.call(self.cluster_path + path, method, args, self.web_user)
            if type(result) is CoroutineType:
                result = await result
        finally:
            rt.commit()
        return _plain(result)

    def call(
        self, path: str, method: str, *args: Any, retry_until: float | None = None, timeout: float | None = None
    ) -> Any:
        delay = self.retry.first
        while True:
            with self._lock:
                self.calls += 1
            if self.runtime.cluster.master.restarting and not path.startswith("/simulation"):
                problem = "HTTP 503 EXAoperation is restarting"
            else:
                fut = asyncio.run_coroutine_threadsafe(self._dispatch(path, method, args), self.loop)
                with self._out_lock:
                    self._out.add(fut)
                try:
                    return fut.result(timeout or self.timeout)
                except Exception as e:
                    if isinstance(e, TimeoutError | asyncio.CancelledError):
                        fut.cancel()
                        problem = f"no answer within {timeout or self.timeout:g} s"
                    else:
                        code, text = faults.fault_for(e, method)
                        raise ServerFault(method, code, text) from None
                finally:
                    with self._out_lock:
                        self._out.discard(fut)
            if retry_until is None or time.monotonic() + delay > retry_until:
                raise Unreachable(f"{self.base}{path}: {method} got no answer ({problem})")
            time.sleep(delay)
            delay = min(self.retry.cap, delay * self.retry.factor)

    def abort(self) -> None:
        with self._out_lock:
            out = list(self._out)
        for fut in out:
            fut.cancel()


@dataclass
class WebRun:
    number: int
    procedure: str  # start, stop
    user: str
    started: float  # cluster time
    events: list[Event] = field(default_factory=list)
    phases: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> title, start, end, ok (cluster time)
    done: Event | None = None
    dropped: int = 0

    @property
    def running(self) -> bool:
        return self.done is None

    @property
    def last(self) -> Event | None:
        return self.events[-1] if self.events else None


class Runs:
    """The runs started from the browser; one at a time."""

    def __init__(self, runtime: Runtime, dispatcher: Dispatcher, on_change: Callable[[], None]) -> None:
        self.runtime = runtime
        self.dispatcher = dispatcher
        self.on_change = on_change
        self.runs: dict[int, WebRun] = {}
        self.url = ""  # the server's URL, for the messages the procedures write

    @property
    def current(self) -> WebRun | None:
        return next((r for r in reversed(self.runs.values()) if r.running), None)

    @property
    def latest(self) -> WebRun | None:
        return next(reversed(self.runs.values()), None) if self.runs else None

    def begin(self, procedure: str, user: User, loop: asyncio.AbstractEventLoop) -> WebRun:
        """Start ``procedure`` in a thread; ValueError while another run is under way."""
        if procedure not in ("start", "stop"):
            raise ValueError(f"procedure must be start or stop, not {procedure!r}")
        busy = self.current
        if busy is not None:
            raise ValueError(f"the {busy.procedure} run #{busy.number} by {busy.user} is still under way")
        rt = self.runtime
        number = max(self.runs, default=0) + 1
        run = WebRun(number, procedure, user.login, rt.clock.now())
        self.runs[number] = run
        while len(self.runs) > KEPT_RUNS:
            del self.runs[next(iter(self.runs))]
        url = self.url or f"http://127.0.0.1/{rt.cluster.name}"
        client = InProcessClient(url, rt, self.dispatcher, user, loop)
        opts = Options(url=url, user=user.login, license_servers=rt.cluster.license_server_names())
        speed = rt.clock.speed

        def record(event: Event, now: float) -> None:  # on the loop, where the pages read the run
            self._record(run, event, now)
            self.on_change()

        def sink(event: Event) -> None:
            try:
                loop.call_soon_threadsafe(record, event, rt.clock.now())
            except RuntimeError:  # the server has ended (a stop ends with the license server)
                pass

        def work() -> None:
            procedure_fn = start_cluster if procedure == "start" else stop_cluster
            try:
                clock: ToolClock = ScaledClock(speed) if speed > 0 else SimulationClock(client)
                procedure_fn(client, opts, clock=clock, on_event=sink)
            except Exception as e:  # the procedure ends every stream with done; this is a bug's last word
                sink(
                    Event(
                        "done",
                        "",
                        f"{procedure} failed: {type(e).__name__}: {e}",
                        {"exit_code": 1, "ok": False, "dry_run": False, "calls": client.calls},
                        0,
                        0,
                        "",
                        procedure,
                    )
                )

        threading.Thread(target=work, name=f"exaop-web-{procedure}-{number}", daemon=True).start()
        return run

    @staticmethod
    def _record(run: WebRun, event: Event, now: float) -> None:
        if event.kind == "phase_start":
            run.phases[event.phase] = {"title": event.message, "start": now, "end": None, "ok": None}
        elif event.kind == "phase_end" and event.phase in run.phases:
            run.phases[event.phase].update(end=now, ok=bool(event.data.get("ok")), outcome=event.message)
        if event.kind == "done":
            run.done = event
        run.events.append(event)
        if len(run.events) > MAX_EVENTS:
            del run.events[: len(run.events) - MAX_EVENTS]
            run.dropped += 1
