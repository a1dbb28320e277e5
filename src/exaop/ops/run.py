"""What every procedure shares: the client, the clock, events, parallel actions, phases."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from exaop.client import AuthError, ExaClient, ServerFault, Unreachable
from exaop.ops.clock import RealClock, ToolClock
from exaop.ops.config import Options
from exaop.ops.errors import AuthFailed, Failed, NoAnswer, OpsError
from exaop.ops.events import Event, EventSink
from exaop.ops.wait import Backoff, fmt_duration

if TYPE_CHECKING:
    from exaop.ops.observe import LogFeed

T = TypeVar("T")
READ_RETRY_SECONDS = 15.0  # real seconds a read is retried before the phase's own wait takes over
ACTION_ROUNDS = 5  # how often an action that got no answer is looked at and sent again


@dataclass
class PhaseTiming:
    name: str
    clock_seconds: float
    wall_seconds: float
    outcome: str


@dataclass
class Summary:
    procedure: str
    ok: bool = False
    phases: list[PhaseTiming] = field(default_factory=list)
    calls: int = 0
    error: str = ""
    exit_code: int = 0


class Run:
    """One run of a procedure against one EXAoperation."""

    def __init__(
        self,
        procedure: str,
        client: ExaClient,
        opts: Options,
        clock: ToolClock | None = None,
        on_event: EventSink | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.procedure = procedure
        self.client = client
        self.opts = opts
        self.clock = clock or RealClock()
        self.sink = on_event
        self.backoff = backoff or Backoff()
        self.pool = ThreadPoolExecutor(max_workers=opts.parallel, thread_name_prefix="exaop-op")
        self._t0_wall = time.monotonic()
        self._t0_clock = self.clock.now()
        self._calls0 = client.calls
        self.summary = Summary(procedure)
        self.booted_nodes: list[str] = []  # nodes this run powered on
        self.log_feed: LogFeed | None = None  # opened by the first phase that follows the log

    # -- events --------------------------------------------------------------------------

    def emit(self, kind: str, phase: str, message: str, **data: Any) -> None:
        if self.sink is None:
            return
        self.sink(
            Event(
                kind,
                phase,
                message,
                data,
                round(time.monotonic() - self._t0_wall, 3),
                round(self.clock.now() - self._t0_clock, 3),
            )  # fmt: skip
        )

    @property
    def dry_run(self) -> bool:
        return self.opts.dry_run

    # -- calls ---------------------------------------------------------------------------

    def read(self, path: str, method: str, *args: Any) -> Any:
        """A read: retried for a while when EXAoperation does not answer."""
        return self._call(path, method, args, retry=True, timeout=None)

    def act(self, path: str, method: str, *args: Any, timeout: float | None = None) -> Any:
        """An action: sent once; on no answer the phase observes again and decides."""
        return self._call(path, method, args, retry=False, timeout=timeout)

    def _call(self, path: str, method: str, args: tuple[Any, ...], retry: bool, timeout: float | None) -> Any:
        until = time.monotonic() + READ_RETRY_SECONDS if retry else None
        try:
            return self.client.call(path, method, *args, retry_until=until, timeout=timeout)
        except AuthError as e:
            raise AuthFailed(str(e)) from None

    def await_answer(self, phase: str) -> None:
        """Wait until EXAoperation answers (its license server booting, EXAoperation
        restarting or moving), up to the 'reachable' timeout; then its dialect is known."""
        timeout = self.opts.timeout("reachable")
        start = self.clock.now()
        interval = self.backoff.first
        said = ""
        while True:
            try:
                self.client.methods(refresh=True)  # a call even when they are known: is it there now?
                return
            except AuthError as e:
                raise AuthFailed(str(e)) from None
            except Unreachable as e:
                elapsed = self.clock.now() - start
                if elapsed >= timeout:
                    waited = fmt_duration(timeout)
                    raise NoAnswer(f"{phase}: EXAoperation did not answer within {waited}: {e}") from None
                if str(e) != said:
                    said = str(e)
                    self.emit("progress", phase, f"no answer yet: {e}")
                interval = self.backoff.next(interval, elapsed)
                self.clock.sleep(min(interval, timeout - elapsed))

    def parallel(self, items: Iterable[T], fn: Callable[[T], Any]) -> list[tuple[T, Any, BaseException | None]]:
        """Run ``fn`` on every item at once (bounded by --parallel); results in item order."""
        items = list(items)
        futures = [(item, self.pool.submit(fn, item)) for item in items]
        out = []
        for item, fut in futures:
            try:
                out.append((item, fut.result(), None))
            except BaseException as e:  # noqa: BLE001 - handed back to the caller per item
                if isinstance(e, AuthError):
                    raise AuthFailed(str(e)) from None
                out.append((item, None, e))
        return out

    def act_each(
        self,
        phase: str,
        method: str,
        items: Iterable[str],
        send: Callable[[str], Any],
        needed: Callable[[str], bool],
        key: str = "item",
    ) -> None:
        """Send ``method`` for every item at once and report each one the server answered.

        An action that got no answer may or may not have reached the server (it went away:
        killed, restarted). Once it answers again, those items are observed again and the
        action is sent again only where ``needed`` still says so; nothing is done twice.
        A fault ends the phase. ``key`` names the item in the events' data (node, database).
        """
        pending = list(items)
        for _ in range(ACTION_ROUNDS):
            results = self.parallel(pending, send)
            for item, _, err in results:
                if err is None:
                    self.emit("action", phase, f"{method} {item}", **{key: item})
            raise_failures(phase, method, [r for r in results if not isinstance(r[2], Unreachable)])
            lost = [item for item, _, err in results if err is not None]
            if not lost:
                return
            self.emit("warning", phase, f"no answer to {method} for {', '.join(lost)}; looking again")
            pending = [item for item in lost if needed(item)]  # reads wait for the server to be back
            if not pending:
                return
        raise NoAnswer(f"{phase}: no answer to {method} for {', '.join(pending)}")

    # -- phases --------------------------------------------------------------------------

    def run_phases(self, *phases: tuple[str, str, Callable[[], str]]) -> Summary:
        """The procedure: each phase in order; the first that cannot go on ends the run."""
        try:
            for name, title, fn in phases:
                self.phase(name, title, fn)
        except OpsError as e:
            return self.finish(e)
        return self.finish(None)

    def phase(self, name: str, title: str, fn: Callable[[], str]) -> None:
        """Run one phase: announce, run, time it; the phase returns a one-line outcome."""
        self.emit("phase_start", name, title)
        w0, c0 = time.monotonic(), self.clock.now()
        try:
            outcome = fn()
        except AuthError as e:
            self._end(name, w0, c0, "failed")
            raise AuthFailed(f"{name}: {e}") from None
        except ServerFault as e:
            self._end(name, w0, c0, "failed")
            raise Failed(f"{name}: {e.method} refused: {e.text}") from None
        except Unreachable as e:
            self._end(name, w0, c0, "failed")
            raise NoAnswer(f"{name}: {e}") from None
        except OpsError:
            self._end(name, w0, c0, "failed")
            raise
        self._end(name, w0, c0, outcome)
        self.emit("phase_end", name, outcome)

    def _end(self, name: str, w0: float, c0: float, outcome: str) -> None:
        self.summary.phases.append(PhaseTiming(name, self.clock.now() - c0, time.monotonic() - w0, outcome))

    def finish(self, error: OpsError | None) -> Summary:
        self.pool.shutdown(wait=False, cancel_futures=True)
        s = self.summary
        s.calls = self.client.calls - self._calls0
        if error is None:
            s.ok = True
            self.emit("done", "", f"{self.procedure} finished", calls=s.calls)
        else:
            s.error = str(error)
            s.exit_code = error.exit_code
            self.emit("error", "", str(error), exit_code=error.exit_code, reason=error.label)
        return s


class LongCall:
    """An action that answers only once it is done (startEXAStorage, stopEXAStorage): sent
    aside while the phase watches the state, and checked on each look.

    A refusal of the first send ends the phase. A send that got no answer (the server went
    away) is sent again once the server answers and the state shows it is still needed; a
    refusal of that second send is only noted, since the first may have arrived after all:
    the wait's deadline decides, and its message carries the note.
    """

    def __init__(self, run: Run, phase: str, path: str, method: str, *args: Any, timeout: float) -> None:
        self.run, self.phase, self.path, self.method, self.args, self.timeout = run, phase, path, method, args, timeout
        self.sends = 0
        self.note = ""
        self._send()

    def _send(self) -> None:
        self.sends += 1
        self.future = self.run.pool.submit(self.run.act, self.path, self.method, *self.args, timeout=self.timeout)

    def check(self, needed: bool) -> None:
        """Look at the call after observing the state; ``needed``: the state still asks for it."""
        if not self.future.done() or (err := self.future.exception()) is None:
            return
        if isinstance(err, ServerFault):
            if self.sends == 1:
                raise Failed(f"{self.phase}: {self.method} refused: {err.text}")
            self.note = f"{self.method} sent again was refused: {err.text}"
        elif isinstance(err, AuthError):
            raise AuthFailed(str(err))
        elif isinstance(err, Unreachable) and needed:
            if self.sends >= ACTION_ROUNDS:
                raise NoAnswer(f"{self.phase}: no answer to {self.method}")
            self.run.emit("warning", self.phase, f"no answer to {self.method}; sending it again")
            self._send()


def fault_reason(e: BaseException) -> str:
    if isinstance(e, ServerFault):
        return e.text
    return str(e) or type(e).__name__


def raise_failures(phase: str, what: str, results: list[tuple[Any, Any, BaseException | None]]) -> None:
    failed = [(item, e) for item, _, e in results if e is not None]
    if not failed:
        return
    unreachable = [item for item, e in failed if isinstance(e, Unreachable)]
    if len(unreachable) == len(failed):
        raise NoAnswer(f"{phase}: no answer to {what} for {', '.join(map(str, unreachable))}")
    lines = "; ".join(f"{item}: {fault_reason(e)}" for item, e in failed)
    raise Failed(f"{phase}: {what} failed for {lines}")
