"""The shared part of every power driver.

Two layers:

* :class:`PowerDriver` is the model's :class:`~exaop.model.power.PowerPort` whose errors
  are always :class:`DriverError` with a reason. The simulated driver is one: its
  machines answer at once, so everything it does is done when the call returns.
* :class:`BmcDriver` drives a real management interface (Redfish, IPMI, a command hook).
  A driver implements a few primitives, each *one* request to the BMC: ``_on``,
  ``_shutdown`` (graceful), ``_force_off``, ``_reset``, ``_read_power`` and, where the
  protocol has them, ``_hardware`` and ``_sensors``. This class does the rest:

  - **timeouts**: each primitive is bounded by the settings' ``call_timeout`` (the driver
    hands it to its library or its child process);
  - **retries** with exponential backoff (``retries``, ``retry_backoff``), for transient
    failures only (the driver's ``_classify`` says which: a timeout, a refused connection,
    an HTTP 5xx; never wrong credentials or an unknown system);
  - **errors**: every failure becomes a :class:`DriverError` whose text names the driver,
    the node, the BMC's address and what failed, e.g.
    ``redfish: power on of n0011 failed at BMC https://10.0.0.11:443: wrong user name or password (HTTP 401)``;
  - **verify, don't trust**: a power action counts when a re-read of the power state shows
    it. ``on`` and ``off`` are re-sent every ``resend_interval`` while the BMC still reports
    the old state (a power-on sent while a machine is still powering off is dropped by many
    BMCs), until ``power_deadline``; a reading of ``on`` is not trusted within
    ``off_settle`` seconds of an off request the BMC has not yet shown done. ``shutdown``
    asks the operating system to power off and, when the machine is still on after
    ``shutdown_deadline``, forces it off and says so in the log;
  - **bounded parallelism**: each driver *type* has a semaphore of ``parallel_limit``
    slots held only for the duration of one request (IPMI over UDP drops packets under
    fan-out, so it gets few); waiting between re-reads holds none;
  - **one action per node**: a new action on a node supersedes the one under way (which
    ends with outcome ``superseded``); asking for the action already under way returns
    its job;
  - **logging**: every request sent, re-send, fallback and failure goes to the log hook
    (``log(node, priority, message)``, priority ``Notice``/``Warning``/``Error``), called
    from worker threads; default: Python logging (logger ``exaop.drivers``).

The contract for the runtime (a real BMC takes seconds; the event loop must never wait)::

    job = driver.begin(node, "on")      # returns at once; the work runs in the driver's worker threads
    job.add_done_callback(cb)           # cb(job) runs in a worker thread (or at once when already done):
                                        # hand over with loop.call_soon_threadsafe(...)
    result = job.result()               # after done(): a PowerResult, or raises DriverError
    result = await job                  # the same from a coroutine

``begin`` takes ``"on"``, ``"shutdown"`` (graceful, then forced after the deadline),
``"off"`` (forced) and ``"reset"``. Reads that take a request go through
``driver.in_background(driver.read_power, node)`` (also ``hardware_info``, ``sensors``)
and return a :class:`concurrent.futures.Future`. The port's synchronous methods
(``power_on``, ``power_off``, ``power_state``) still work on every driver: on a real one
they block until the job is done, so they are for tools and tests, never for the event
loop. On the simulated driver ``begin`` runs the action at once and returns a finished
job, so one code path serves both.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from abc import abstractmethod
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Literal, NamedTuple, TypeVar, get_args

from exaop.engine.drivers.settings import BmcSettings
from exaop.model.power import DriverError, PowerPort, PowerState

__all__ = [
    "BmcDriver",
    "DriverError",
    "Failure",
    "HardwareInfo",
    "LogHook",
    "PowerAction",
    "PowerDriver",
    "PowerJob",
    "PowerResult",
    "PowerState",
    "SensorReading",
]

T = TypeVar("T")

#: what ``begin`` can be asked to do
PowerAction = Literal["on", "shutdown", "off", "reset"]
ACTIONS: tuple[str, ...] = get_args(PowerAction)
#: how a job ended: the BMC showed it; it already was so; graceful shutdown had to be forced;
#: a newer action on the node took over
Outcome = Literal["done", "already", "forced", "superseded"]
#: ``log(node, priority, message)``; priority is ``Notice``, ``Warning`` or ``Error``
LogHook = Callable[[str, str, str], None]

_VERBS = {"on": "power on", "shutdown": "graceful shutdown", "off": "force off", "reset": "reset"}
_LEVELS = {"Notice": logging.INFO, "Warning": logging.WARNING, "Error": logging.ERROR}
_logger = logging.getLogger("exaop.drivers")


def python_log(node: str, priority: str, message: str) -> None:
    """The default log hook: Python logging, logger ``exaop.drivers``."""
    _logger.log(_LEVELS.get(priority, logging.INFO), "%s", message)


@dataclass(frozen=True)
class HardwareInfo:
    """What a BMC tells about the machine; empty text or ``None`` where it does not say.

    Shaped for ``getHardwareInformation`` / ``getNodeInfo``: :meth:`as_dict` holds only
    what is known."""

    manufacturer: str = ""
    model: str = ""
    serial: str = ""
    cpu_count: int | None = None
    cpu_model: str = ""
    memory_gib: float | None = None
    bios_version: str = ""
    uuid: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in ("", None)}


@dataclass(frozen=True)
class SensorReading:
    name: str
    kind: str  # "Temperature", "Fan", "Voltage" ... as the BMC names it
    value: float | None  # None: the sensor gives no reading now
    unit: str
    health: str  # "ok", "warning", "critical", "failed" or "unavailable"


@dataclass(frozen=True)
class PowerResult:
    node: str
    action: PowerAction
    outcome: Outcome
    state: PowerState  # what the last read showed
    requests: int  # requests sent (re-sends and a forced off included)
    seconds: float
    message: str  # one sentence saying what happened


class Failure(NamedTuple):
    """A driver's reading of an exception: what failed, in words, and whether trying again may help."""

    text: str
    transient: bool


class PowerJob:
    """A power action under way: a handle that never blocks unless asked to."""

    def __init__(self, node: str, action: PowerAction, future: Future[PowerResult] | None = None) -> None:
        self.node = node
        self.action = action
        self._future: Future[PowerResult] = future or Future()
        self._stop = threading.Event()

    def done(self) -> bool:
        return self._future.done()

    def result(self, timeout: float | None = None) -> PowerResult:
        """The result (waiting at most ``timeout`` seconds); raises :class:`DriverError` if it failed."""
        return self._future.result(timeout)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        return self._future.exception(timeout)

    def add_done_callback(self, fn: Callable[[PowerJob], None]) -> None:
        """``fn(job)`` once done, from the worker thread that finished it (at once if done already)."""
        self._future.add_done_callback(lambda _f: fn(self))

    def supersede(self) -> None:
        """Ask the job to stop at its next look at the BMC; it then ends with outcome ``superseded``."""
        self._stop.set()

    @property
    def superseded(self) -> bool:
        return self._stop.is_set()

    def __await__(self) -> Generator[Any, None, PowerResult]:
        return asyncio.wrap_future(self._future).__await__()

    def __repr__(self) -> str:
        return f"<PowerJob {self.action} {self.node} {'done' if self.done() else 'running'}>"


class PowerDriver(PowerPort):
    """A :class:`PowerPort` whose errors are always :class:`DriverError` with a reason.

    Implementations whose machines answer at once (the simulated one) implement
    ``_power_on``, ``_power_off`` and ``_power_state``; ``begin`` then runs the action
    at once and hands back a finished job."""

    @abstractmethod
    def _power_on(self, node: str) -> None: ...

    @abstractmethod
    def _power_off(self, node: str, hard: bool) -> None: ...

    @abstractmethod
    def _power_state(self, node: str) -> PowerState: ...

    def power_on(self, node: str) -> None:
        try:
            self._power_on(node)
        except DriverError:
            raise
        except Exception as e:  # a driver library's own exception: name it, keep the reason
            raise DriverError(f"{type(e).__name__}: {e}") from e

    def power_off(self, node: str, hard: bool = False) -> None:
        try:
            self._power_off(node, hard)
        except DriverError:
            raise
        except Exception as e:
            raise DriverError(f"{type(e).__name__}: {e}") from e

    def power_state(self, node: str) -> PowerState:
        try:
            return self._power_state(node)
        except Exception:
            return "unknown"

    # -- the non-blocking shape (see the module docstring) ---------------------------------

    def begin(self, node: str, action: PowerAction) -> PowerJob:
        """Start ``action`` on ``node``. Here: done before returning (the machines answer at once)."""
        _check_action(action)
        job = PowerJob(node, action)
        start = time.monotonic()
        try:
            before = self.power_state(node)
            want: PowerState = "off" if action in ("shutdown", "off") else "on"
            self.perform(node, action)
            outcome: Outcome = "already" if before == want and action != "reset" else "done"
            job._future.set_result(
                PowerResult(
                    node,
                    action,
                    outcome,
                    self.power_state(node),
                    1,
                    time.monotonic() - start,
                    f"{_VERBS[action]} of {node}: done",
                )
            )
        except DriverError as e:
            job._future.set_exception(e)
        return job

    def read_power(self, node: str) -> PowerState:
        """The power state, raising :class:`DriverError` when it cannot be read (``power_state`` says ``unknown``)."""
        return self._power_state(node)

    def hardware_info(self, node: str) -> HardwareInfo:
        """What the management interface tells about the machine (nothing, unless a driver says more)."""
        return HardwareInfo()

    def sensors(self, node: str) -> list[SensorReading]:
        return []

    def in_background(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run a blocking driver call (``read_power``, ``hardware_info``, ``sensors``) away from the
        caller's thread. Here it is quick, so it runs at once."""
        fut: Future[T] = Future()
        try:
            fut.set_result(fn(*args))
        except Exception as e:
            fut.set_exception(e)
        return fut

    def close(self) -> None:  # noqa: B027 - nothing to release unless a driver holds sessions
        """Release sessions and worker threads; the driver is unusable afterwards."""


def _check_action(action: str) -> None:
    if action not in ACTIONS:
        raise DriverError(f"unknown power action {action!r} (one of {', '.join(ACTIONS)})")


class _Superseded(Exception):
    pass


class BmcDriver(PowerDriver):
    """A driver for a real management interface; see the module docstring for what it adds."""

    simulated = False
    #: requests to BMCs of this type under way at once, across every driver of the type
    parallel_limit: ClassVar[int] = 8
    #: power actions (mostly waiting between re-reads) under way at once in one driver
    max_jobs: ClassVar[int] = 64
    #: what ``make_driver`` builds from the settings dictionary
    settings_type: ClassVar[type[BmcSettings]] = BmcSettings
    _slots: ClassVar[threading.BoundedSemaphore]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._slots = threading.BoundedSemaphore(cls.parallel_limit)  # one per driver type

    def __init__(self, settings: BmcSettings, log: LogHook | None = None) -> None:
        self.settings = settings
        self.log: LogHook = log or python_log
        self._pool = ThreadPoolExecutor(max_workers=self.max_jobs, thread_name_prefix=f"exaop-{self.name}")
        self._lock = threading.Lock()
        self._jobs: dict[str, PowerJob] = {}
        self._node_locks: dict[str, threading.Lock] = {}
        self._off_sent: dict[str, float] = {}  # node -> when an off request went out, until 'off' is read
        self._closed = False

    # -- what a driver implements: one request each -----------------------------------------

    @abstractmethod
    def bmc(self, node: str) -> str:
        """The BMC's address for messages (``https://10.0.0.11:443``, ``10.0.0.11:623``)."""

    @abstractmethod
    def _on(self, node: str) -> None: ...

    @abstractmethod
    def _shutdown(self, node: str) -> None: ...

    @abstractmethod
    def _force_off(self, node: str) -> None: ...

    @abstractmethod
    def _reset(self, node: str) -> None: ...

    @abstractmethod
    def _read_power(self, node: str) -> PowerState:
        """``on`` or ``off``; raise when the BMC cannot tell."""

    def _hardware(self, node: str) -> HardwareInfo:
        return HardwareInfo()

    def _sensors(self, node: str) -> list[SensorReading]:
        return []

    def _classify(self, exc: Exception) -> Failure:
        """What failed and whether it is worth another attempt; drivers know their library's errors."""
        if isinstance(exc, TimeoutError | ConnectionError):
            return Failure(f"{type(exc).__name__}: {exc}", True)
        return Failure(f"{type(exc).__name__}: {exc}", False)

    def _forget_session(self, node: str) -> None:  # noqa: B027 - drivers without sessions have nothing to drop
        """A request failed: drop the session with the node's BMC so the next one opens a new one."""

    # -- the port --------------------------------------------------------------------------

    def _power_on(self, node: str) -> None:
        self.begin(node, "on").result()

    def _power_off(self, node: str, hard: bool) -> None:
        self.begin(node, "off" if hard else "shutdown").result()

    def _power_state(self, node: str) -> PowerState:
        return self.read_power(node)

    def read_power(self, node: str) -> PowerState:
        state = self._call(node, "read the power state", self._read_power)
        self._observe(node, state)
        return state

    def hardware_info(self, node: str) -> HardwareInfo:
        return self._call(node, "read the hardware information", self._hardware)

    def sensors(self, node: str) -> list[SensorReading]:
        return self._call(node, "read the sensors", self._sensors)

    def in_background(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        with self._lock:
            if self._closed:
                raise DriverError(f"{self.name}: the driver is closed")
            return self._pool.submit(fn, *args)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for job in self._jobs.values():
                job.supersede()
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- jobs ------------------------------------------------------------------------------

    def begin(self, node: str, action: PowerAction) -> PowerJob:
        _check_action(action)
        with self._lock:
            if self._closed:
                raise DriverError(f"{self.name}: the driver is closed")
            current = self._jobs.get(node)
            if current is not None and not current.done():
                if current.action == action:
                    return current  # already under way
                current.supersede()
            job = PowerJob(node, action)
            self._jobs[node] = job
            future = self._pool.submit(self._run, job)  # under the lock: close() cannot come in between
        future.add_done_callback(lambda f: _copy_outcome(f, job._future))
        return job

    def _run(self, job: PowerJob) -> PowerResult:
        node, action = job.node, job.action
        with self._node_lock(node):  # a superseded job ends at its next look, then this one goes on
            start = time.monotonic()
            counter = [0]
            try:
                if job.superseded:
                    raise _Superseded
                outcome, state = self._perform(job, counter)
            except _Superseded:
                return PowerResult(
                    node,
                    action,
                    "superseded",
                    "unknown",
                    counter[0],
                    time.monotonic() - start,
                    f"{_VERBS[action]} of {node} superseded by a newer request",
                )
            except DriverError as e:
                self.log(node, "Error", str(e))
                raise DriverError(str(e)) from e  # a plain one: the caller needs no retry hint
            seconds = time.monotonic() - start
            sentence = {
                "already": f"{_VERBS[action]} of {node}: it already was {state}",
                "done": f"{_VERBS[action]} of {node} done: the BMC reports {state} after {seconds:.1f} s",
                "forced": f"graceful shutdown of {node} did not finish: forced off after {seconds:.1f} s",
            }[outcome]
            return PowerResult(node, action, outcome, state, counter[0], seconds, sentence)

    def _perform(self, job: PowerJob, sent: list[int]) -> tuple[Outcome, PowerState]:
        s, node, action = self.settings, job.node, job.action
        state = self.read_power(node)  # a BMC that cannot be read at all: fail now, send nothing
        if action == "reset":
            self._send(job, "reset", self._reset, sent)
            return "done", self._converge(job, "on", None, s.power_deadline, sent)
        want: PowerState = "on" if action == "on" else "off"
        if state == want and self._trusted(node, want):
            return "already", state
        if action == "shutdown":
            self._send(job, "shutdown", self._shutdown, sent)
            try:
                return "done", self._converge(job, "off", None, s.shutdown_deadline, sent, fallback=True)
            except _DeadlinePassed:
                self.log(
                    node,
                    "Warning",
                    f"graceful shutdown of {node} not finished after {s.shutdown_deadline:g} s: forcing it off",
                )
            self._send(job, "off", self._force_off, sent)
            return "forced", self._converge(job, "off", ("off", self._force_off), s.power_deadline, sent)
        primitive = self._on if action == "on" else self._force_off
        self._send(job, action, primitive, sent)
        return "done", self._converge(job, want, (action, primitive), s.power_deadline, sent)

    def _converge(
        self,
        job: PowerJob,
        want: PowerState,
        resend: tuple[str, Callable[[str], None]] | None,
        budget: float,
        sent: list[int],
        fallback: bool = False,
    ) -> PowerState:
        """Re-read until the BMC shows ``want`` within ``budget`` seconds; ``resend`` (an action
        and its primitive) goes out again every ``resend_interval`` while it shows otherwise.
        ``fallback``: at the deadline, let the caller take over instead of failing."""
        s, node = self.settings, job.node
        start = last_send = time.monotonic()
        while True:
            if job._stop.wait(s.poll_interval):
                raise _Superseded
            state = self._read_verifying(job)
            if state == want and self._trusted(node, want):
                return state
            now = time.monotonic()
            if now - start >= budget:
                if fallback:
                    raise _DeadlinePassed
                what = _VERBS[resend[0]] if resend else _VERBS[job.action]
                raise DriverError(
                    f"{self.name}: {what} of {node} not confirmed by BMC {self.bmc(node)}: it still reports "
                    f"{state} {budget:g} s after the request ({sent[0]} request{'s' if sent[0] != 1 else ''} sent)"
                )
            if resend is not None and state not in (want, "unknown") and now - last_send >= s.resend_interval:
                self.log(
                    node,
                    "Warning",
                    f"{node}: the BMC still reports {state} {now - last_send:.1f} s after "
                    f"{_VERBS[resend[0]]}: sending it again",
                )
                self._send(job, resend[0], resend[1], sent)
                last_send = time.monotonic()

    def _send(self, job: PowerJob, action: str, primitive: Callable[[str], None], sent: list[int]) -> None:
        if job.superseded:
            raise _Superseded
        node = job.node
        self._call(node, _VERBS[action], primitive)
        sent[0] += 1
        if action in ("off", "shutdown"):
            with self._lock:
                self._off_sent[node] = time.monotonic()
        self.log(node, "Notice", f"{_VERBS[action]} of {node} sent to BMC {self.bmc(node)}")

    def _read_verifying(self, job: PowerJob) -> PowerState:
        """A read while verifying: a transient failure is ``unknown`` (the next poll tries again)."""
        try:
            return self.read_power(job.node)
        except _TransientFailure:
            return "unknown"

    def _observe(self, node: str, state: PowerState) -> None:
        if state == "off":
            with self._lock:
                self._off_sent.pop(node, None)

    def _trusted(self, node: str, state: PowerState) -> bool:
        """Whether a reading of ``state`` counts: 'on' does not while an off request is fresh and unseen."""
        if state != "on":
            return True
        with self._lock:
            sent = self._off_sent.get(node)
        return sent is None or time.monotonic() - sent >= self.settings.off_settle

    # -- one request: slots, retries, errors -------------------------------------------------

    def _call(self, node: str, what: str, primitive: Callable[[str], T]) -> T:
        s = self.settings
        delay = s.retry_backoff
        attempt = 1
        while True:
            try:
                with self._slots:
                    return primitive(node)
            except DriverError:
                raise
            except Exception as e:
                self._forget_session(node)
                fail = self._classify(e)
                if fail.transient and attempt <= s.retries:
                    time.sleep(delay)
                    delay *= 2
                    attempt += 1
                    continue
                tries = f" ({attempt} attempts)" if attempt > 1 else ""
                error = _TransientFailure if fail.transient else DriverError
                raise error(f"{self.name}: {what} of {node} failed at BMC {self.bmc(node)}: {fail.text}{tries}") from e

    @contextmanager
    def _node_lock(self, node: str) -> Iterator[None]:
        with self._lock:
            lock = self._node_locks.setdefault(node, threading.Lock())
        with lock:
            yield


class _TransientFailure(DriverError):
    """A request that failed after its retries for a reason that may pass (a verify loop reads again)."""


class _DeadlinePassed(Exception):
    pass


def _copy_outcome(src: Future[PowerResult], dst: Future[PowerResult]) -> None:
    if src.cancelled():
        dst.set_exception(DriverError("the power action was cancelled: the driver was closed"))
    elif (exc := src.exception()) is not None:
        dst.set_exception(exc if isinstance(exc, DriverError) else DriverError(f"{type(exc).__name__}: {exc}"))
    else:
        dst.set_result(src.result())
