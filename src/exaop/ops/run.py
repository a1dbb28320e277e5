"""What every procedure shares: the client, the clock, events, parallel actions, phases."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from exaop.client import AuthError, CannotConnect, ClientError, ExaClient, ServerFault, Unreachable
from exaop.client.backend import Backend
from exaop.client.confd import ConfdBackend
from exaop.client.detect import AutoBackend, looks_like_confd
from exaop.client.exaoperation import ExaOperationBackend
from exaop.ops.clock import RealClock, ToolClock, rate
from exaop.ops.config import Options
from exaop.ops.errors import AuthFailed, ConfigError, Failed, NoAnswer, OpsError, as_ops_error, interrupted
from exaop.ops.events import Event, EventSink, iso, utc_now
from exaop.ops.wait import Backoff, fmt_duration

if TYPE_CHECKING:
    from exaop.ops.observe import LogFeed

T = TypeVar("T")
ACTION_ROUNDS = 5  # how often an action that got no answer is looked at and sent again
RESEND_AFTER = 30.0  # clock seconds before an action found under way elsewhere is sent again (LongCall)


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
    dry_run: bool = False


def client_for(opts: Options, timeout: float | None = None, default_path: str = "/cluster1") -> ExaClient:
    """The XML-RPC client for ``opts``: its URL, user, password, CA file or --insecure, call timeout."""
    return ExaClient(opts.url, opts.user, opts.password, insecure=opts.insecure, ca_file=opts.ca_file,
                     timeout=timeout or opts.call_timeout, default_path=default_path)  # fmt: skip


def connect(opts: Options, timeout: float | None = None) -> Backend:
    """The backend for ``opts``: ConfD's or EXAoperation's as ``opts.api`` says; without it,
    EXAoperation's for a URL with a path (``/cluster1``), else found out from what the server
    answers when the run first asks it (ConfD lists ``job_exec``)."""
    if opts.api == "confd":
        return ConfdBackend(client_for(opts, timeout, default_path=""))
    if opts.api == "exaoperation" or not looks_like_confd(opts.url):  # a path names EXAoperation's cluster
        return ExaOperationBackend(client_for(opts, timeout))
    probe = client_for(opts, timeout, default_path="")

    def make(api: str) -> Backend:  # an EXAoperation URL without a path means its cluster1
        return ConfdBackend(probe) if api == "confd" else ExaOperationBackend(client_for(opts, timeout))

    return AutoBackend(probe, make)  # type: ignore[return-value]  # a Backend once resolved


def as_backend(target: Backend | ExaClient) -> Backend:
    """A procedure's backend: given one, that; given an :class:`ExaClient`, EXAoperation's over it."""
    return ExaOperationBackend(target) if isinstance(target, ExaClient) else target


class Run:
    """One run of a procedure against one cluster, through its backend."""

    def __init__(
        self,
        procedure: str,
        backend: Backend | ExaClient,
        opts: Options,
        clock: ToolClock | None = None,
        on_event: EventSink | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.procedure = procedure
        self.backend = as_backend(backend)
        self.opts = opts
        self.clock = clock or RealClock()
        self.sink = on_event
        self.backoff = backoff or Backoff()
        # a terminal may want to hear more often than a log file (the sink's own heartbeat)
        self.heartbeat = min(opts.heartbeat, float(getattr(on_event, "heartbeat", opts.heartbeat)))
        self.pool = ThreadPoolExecutor(max_workers=opts.parallel, thread_name_prefix="exaop-op")
        self._futures: list[Future[Any]] = []
        self._owner = threading.get_ident()  # only this thread waits on the clock and reports
        self._t0_wall = time.monotonic()
        self._t0_clock = self.clock.now()
        self._last_event = self._t0_wall
        self._calls0 = self.backend.calls
        self.summary = Summary(procedure, dry_run=opts.dry_run)
        self.phase_name = ""
        self.deadline = self._t0_clock + opts.timeout(procedure)  # each phase (and each wait in it) moves it
        self.booted_nodes: list[str] = []  # nodes this run powered on
        self.log_feed: LogFeed | None = None  # opened by the first phase that follows the log

    # -- events --------------------------------------------------------------------------

    def emit(self, kind: str, phase: str, message: str, **data: Any) -> None:
        now = time.monotonic()
        self._last_event = now
        if self.sink is None:
            return
        clock = round(self.clock.now() - self._t0_clock, 3)
        self.sink(Event(kind, phase, message, data, round(now - self._t0_wall, 3), clock, utc_now(), self.procedure))

    def heartbeat_due(self) -> bool:
        """Nothing was reported for about a heartbeat's time: a wait says it is still waiting.
        Early by the longest poll interval (in real seconds), so that the next look does not
        come too late for it."""
        speed = rate(self.clock)
        slack = self.backoff.cap / speed if speed else 0.0
        return time.monotonic() - self._last_event >= max(0.0, self.heartbeat - slack)

    @property
    def dry_run(self) -> bool:
        return self.opts.dry_run

    # -- calls ---------------------------------------------------------------------------

    def read(self, look: Callable[..., T], *args: Any) -> T:
        """A read (a backend's look): retried until the phase's deadline while the cluster
        does not answer.

        In a worker thread (``parallel``) it is tried once: the caller retries what failed
        (``parallel_reads``), so that only one thread waits and reports."""
        if threading.get_ident() != self._owner:
            return look(*args)
        return self.retrying(lambda: look(*args))

    def act(self, action: Callable[..., T], *args: Any, **kw: Any) -> T:
        """An action (a backend's): sent once; on no answer the phase observes again and decides."""
        return action(*args, **kw)

    def retrying(self, call: Callable[[], T]) -> T:
        """``call()``, again and again while EXAoperation does not answer (refused, reset,
        timed out, 5xx), until the deadline (the phase's, or its wait's if that ends later);
        the outage is reported when it begins, as a heartbeat while it lasts, and when it
        ends. What retrying cannot fix ends the run at once."""
        outage: _Outage | None = None
        interval = self.backoff.first
        while True:
            sent, sent_utc = self.clock.now(), datetime.now(UTC)
            try:
                result = call()
            except Unreachable as e:
                now = self.clock.now()
                if outage is None:
                    outage = _Outage(self, str(e), sent, sent_utc)  # not answering since the call went out
                else:
                    outage.still(str(e))
                if now >= outage.until:
                    raise NoAnswer(outage.gave_up()) from None
                interval = self.backoff.next(interval, now - outage.since)
                self.clock.sleep(min(interval, outage.until - now))
                continue
            if outage is not None:
                outage.over()
            return result

    def await_answer(self, phase: str) -> None:
        """Wait until EXAoperation answers (its license server booting, EXAoperation
        restarting or moving), up to the phase's deadline; then its dialect is known."""
        if isinstance(self.backend, AutoBackend):
            auto = self.backend
            self.backend = self.retrying(auto.resolve)
            self._calls0 -= auto.calls - self.backend.calls  # the calls that asked count as the run's
        self.retrying(self.backend.ping)

    def parallel(self, items: Iterable[T], fn: Callable[[T], Any]) -> list[tuple[T, Any, BaseException | None]]:
        """Run ``fn`` on every item at once (bounded by --parallel); results in item order."""
        items = list(items)
        futures = [(item, self.pool.submit(fn, item)) for item in items]
        self._futures.extend(f for _, f in futures)
        wait_all([f for _, f in futures])  # a signal ends this wait, not an item
        out: list[tuple[T, Any, BaseException | None]] = []
        for item, fut in futures:
            err = fut.exception()
            if isinstance(err, AuthError | CannotConnect | AuthFailed | ConfigError):
                raise err  # retrying cannot help, nor going on with the other items
            out.append((item, None if err is not None else fut.result(), err))
        self._futures = [f for f in self._futures if not f.done()]
        return out

    def parallel_reads(self, items: Iterable[T], fn: Callable[[T], Any]) -> dict[T, Any]:
        """``fn`` (reads only) on every item at once; what got no answer is asked again
        here, through ``retrying``; any other failure ends the phase."""
        out: dict[T, Any] = {}
        for item, value, err in self.parallel(items, fn):
            if isinstance(err, Unreachable):
                value = fn(item)  # this thread: its reads wait for EXAoperation to be back
            elif err is not None:
                raise err
            out[item] = value
        return out

    def act_each(
        self,
        phase: str,
        method: str,
        items: Iterable[str],
        send: Callable[[str], Any],
        needed: Callable[[str], bool],
        target: Callable[[str], str] = str,
    ) -> list[str]:
        """Send ``method`` for every item at once and report each one the server answered;
        returns those (what this run did, not what another had under way).

        An action that got no answer may or may not have reached the server (it went away:
        killed, restarted). Once it answers again, those items are observed again and the
        action is sent again only where ``needed`` still says so; nothing is done twice.
        A refusal where ``needed`` no longer says so is someone else's action under way
        (another run, a person): noted, and waited for like ours. Any other fault ends the
        phase.
        """
        pending = list(items)
        done: list[str] = []
        for _ in range(ACTION_ROUNDS):
            results = self.parallel(pending, send)
            refused = []
            for item, answer, err in results:
                if err is None:
                    done.append(item)
                    result = None if answer is None else str(answer)
                    self.emit("action", phase, f"{method} {item}", method=method, target=target(item), args=[],
                              result=result)  # fmt: skip
                elif isinstance(err, ServerFault):
                    if err.forbidden:
                        raise as_ops_error(err, phase)
                    if needed(item):
                        refused.append((item, answer, err))
                    else:
                        self.emit("warning", phase, f"{method} {item} was refused ({err.text}): already under way "
                                  "or done; waiting for it", targets=[item])  # fmt: skip
            others = [r for r in results if not isinstance(r[2], Unreachable | ServerFault)]
            raise_failures(phase, method, refused + others)
            lost = [item for item, _, err in results if isinstance(err, Unreachable)]
            if not lost:
                return done
            self.emit("warning", phase, f"no answer to {method} for {', '.join(lost)}; looking again", targets=lost)
            pending = [item for item in lost if needed(item)]  # reads wait for the server to be back
            if not pending:
                return done
        raise NoAnswer(f"{phase}: no answer to {method} for {', '.join(pending)}")

    # -- phases --------------------------------------------------------------------------

    def run_phases(self, *phases: tuple[str, str, Callable[[], str]]) -> Summary:
        """The procedure: each phase in order; the first that cannot go on ends the run, and
        so does a signal (SIGINT, SIGTERM). The stream ends with one ``done`` event."""
        try:
            for name, title, fn in phases:
                self.phase(name, title, fn)
        except OpsError as e:
            return self.finish(e)
        except KeyboardInterrupt as e:
            return self.finish(interrupted(e))
        return self.finish(None)

    def phase(self, name: str, title: str, fn: Callable[[], str]) -> None:
        """Run one phase: announce, run, time it; the phase returns a one-line outcome."""
        timeout = self.opts.timeout(name)
        self.emit("phase_start", name, title, timeout=timeout)
        w0, c0 = time.monotonic(), self.clock.now()
        self.phase_name, self.deadline = name, c0 + timeout
        try:
            outcome = fn()
        except ClientError as e:
            error = as_ops_error(e, name)
            self._end(name, w0, c0, str(error), ok=False)
            raise error from None
        except (OpsError, KeyboardInterrupt) as e:
            self._end(name, w0, c0, str(e if isinstance(e, OpsError) else interrupted(e)), ok=False)
            raise
        self._end(name, w0, c0, outcome, ok=True)

    def _end(self, name: str, w0: float, c0: float, outcome: str, ok: bool) -> None:
        timing = PhaseTiming(name, self.clock.now() - c0, time.monotonic() - w0, outcome if ok else "failed")
        self.summary.phases.append(timing)
        self.emit("phase_end", name, outcome, ok=ok, wall=round(timing.wall_seconds, 3),
                  clock=round(timing.clock_seconds, 3))  # fmt: skip

    def finish(self, error: OpsError | None) -> Summary:
        self.pool.shutdown(wait=False, cancel_futures=True)
        if any(not f.done() for f in self._futures):
            self.backend.abort()  # calls still out (a long one, a signal): end them now, not at their timeout
        s = self.summary
        s.calls = self.backend.calls - self._calls0
        if error is None:
            s.ok = True
            state = "up" if self.procedure == "start" else "down"
            message = (f"{self.procedure}: plan ready; nothing was changed" if self.dry_run
                       else f"{self.procedure} finished: the cluster is {state}")  # fmt: skip
        else:
            s.error = str(error)
            s.exit_code = error.exit_code
            self.emit("error", "", str(error), exit_code=error.exit_code, reason=error.label)
            message = f"{self.procedure} stopped ({error.label}); exit code {error.exit_code}"
        self.emit("done", "", message, exit_code=s.exit_code, ok=s.ok, dry_run=self.dry_run, calls=s.calls)
        return s


class _Outage:
    """EXAoperation not answering, as the run reports it."""

    def __init__(self, run: Run, reason: str, since: float, since_utc: datetime) -> None:
        self.run, self.reason, self.since, self.since_utc = run, reason, since, since_utc
        self.until = max(run.deadline, run.clock.now())
        self.tell()

    def _until_text(self) -> tuple[str, str | None]:
        left = self.until - self.run.clock.now()
        speed = rate(self.run.clock)
        if speed is None:
            return f"for {fmt_duration(left)} more on the cluster's clock", None
        until = iso(datetime.now(UTC) + timedelta(seconds=left / speed))
        return f"until {until}", until

    def tell(self) -> None:
        text, until = self._until_text()
        who = self.run.backend.interface
        self.run.emit("outage", self.run.phase_name, f"{who} is not answering since {iso(self.since_utc)} "
                      f"({self.reason}); retrying {text}", since=iso(self.since_utc), until=until,
                      reason=self.reason, over=False)  # fmt: skip

    def still(self, reason: str) -> None:
        if reason != self.reason or self.run.heartbeat_due():
            self.reason = reason
            self.tell()

    def over(self) -> None:
        lasted = fmt_duration(self.run.clock.now() - self.since)
        who = self.run.backend.interface
        self.run.emit("outage", self.run.phase_name, f"{who} answers again (after {lasted} without)",
                      since=iso(self.since_utc), until=None, reason=self.reason, over=True)  # fmt: skip

    def gave_up(self) -> str:
        where = f"{self.run.phase_name}: " if self.run.phase_name else ""
        return (f"{where}{self.run.backend.interface} has not answered since {iso(self.since_utc)} ({self.reason}); "
                f"gave up after {fmt_duration(self.until - self.since)}, at the deadline")  # fmt: skip


class LongCall:
    """An action that answers only once it is done (startEXAStorage, stopEXAStorage): sent
    aside while the phase watches the state, and checked on each look.

    A refusal of the first send ends the phase, unless the state shows it is no longer
    needed, or the refusal says the same is already under way (another run, a person):
    then the phase waits for the state like for its own call, and sends it again every
    RESEND_AFTER while the state still asks for it (in case that other start failed). A
    send that got no answer (the server went away) is sent again once the server answers
    and the state shows it is still needed; a refusal of such a second send is only noted,
    since the first may have arrived after all: the wait's deadline decides, and its
    message carries the note.
    """

    def __init__(
        self, run: Run, phase: str, method: str, target: str, action: Callable[..., Any], *args: Any, timeout: float
    ) -> None:
        """``action(*args, timeout=timeout)`` is the backend's; ``method`` and ``target`` name it in messages."""
        self.run, self.phase, self.method, self.target = run, phase, method, target
        self.action, self.args, self.timeout = action, args, timeout
        self.sends = 0
        self.note = ""
        self.elsewhere = False  # the same action was found under way, not ours
        self._send()

    def _send(self) -> None:
        self.sends += 1
        self.sent_at = self.run.clock.now()
        self.future = self.run.pool.submit(self.run.act, self.action, *self.args, timeout=self.timeout)
        self.run._futures.append(self.future)

    @property
    def out(self) -> bool:
        """Sent and not answered yet."""
        return not self.future.done()

    def check(self, needed: bool) -> None:
        """Look at the call after observing the state; ``needed``: the state still asks for it."""
        if self.out or (err := self.future.exception()) is None:
            return
        if isinstance(err, ServerFault):
            if err.forbidden:
                raise as_ops_error(err, self.phase)
            if "already" in err.text.lower() or self.elsewhere:
                if not self.elsewhere:
                    self.elsewhere = True
                    self.run.emit("warning", self.phase, f"{self.method} was refused ({err.text}): it is under way "
                                  "already; waiting for it", targets=[self.target])  # fmt: skip
                if needed and self.run.clock.now() - self.sent_at >= RESEND_AFTER:
                    self._send()  # still needed: that other one may have failed
                return
            if not needed:
                return
            if self.sends == 1:
                raise Failed(f"{self.phase}: {self.method} refused: {err.text}")
            self.note = f"{self.method} sent again was refused: {err.text}"
        elif isinstance(err, ClientError) and not isinstance(err, Unreachable):
            raise as_ops_error(err, self.phase)
        elif isinstance(err, Unreachable) and needed:
            if self.sends >= ACTION_ROUNDS:
                raise NoAnswer(f"{self.phase}: no answer to {self.method} ({err})")
            self.run.emit("warning", self.phase, f"no answer to {self.method}; sending it again",
                          targets=[self.target])  # fmt: skip
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
