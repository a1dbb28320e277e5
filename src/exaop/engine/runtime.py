"""The running control plane, apart from the wire: model + clock + store + wake-ups.

Every request and every timer tick goes through :meth:`Runtime.sync` (move the model to
the clock's now) and :meth:`Runtime.commit` (write what changed in one transaction,
re-arm the timer for the next deadline, wake whoever waits for a state).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from exaop.engine.clock import Clock
from exaop.engine.drivers import PowerDriver, SimulatedDriver
from exaop.engine.power import PowerWiring
from exaop.engine.profile import Profile, default_profile, parse_profile
from exaop.engine.secrets import FernetBox
from exaop.engine.syslog import SyslogSender
from exaop.model.cluster import Cluster
from exaop.model.errors import Unavailable
from exaop.model.syslog import attach as forward_logs
from exaop.model.users import User
from exaop.store import Store

log = logging.getLogger("exaop.runtime")
_UNARMED = object()


@dataclass
class _Waiter:
    predicate: Callable[[], bool]
    future: asyncio.Future[None]


@dataclass
class OpenResult:
    runtime: Runtime
    created: bool
    generated_password: str | None = None
    notes: list[str] = field(default_factory=list)


class Runtime:
    def __init__(self, cluster: Cluster, clock: Clock, store: Store | None) -> None:
        self.cluster = cluster
        self.clock = clock
        self.store = store
        # the simulated machines' changes are saved in the same transaction as the model's
        machines = [d for d in cluster.drivers.values() if isinstance(d, SimulatedDriver)]
        self.machines = machines[0] if machines else SimulatedDriver()
        self.on_halt: Callable[[str], None] | None = None
        self._waiters: list[_Waiter] = []
        self._timer: asyncio.TimerHandle | None = None
        self._armed_for: object = _UNARMED  # the deadline the timer was last set for
        self.halted = False
        self._closed = False
        self._profile_saved = store is not None and store.initialized
        self.stopping = ""  # why the server stops; calls no longer wait for states then
        self.syslog = SyslogSender()  # new log entries to the log services' remote syslog servers
        forward_logs(cluster, self.syslog)
        # nodes in server-management groups: their group's driver; outcomes come back through apply()
        self.power = PowerWiring(cluster, self.apply)
        cluster.ports = self.power

    # -- opening a state dir ---------------------------------------------------------------

    @classmethod
    def open(
        cls,
        state_dir: str | Path | None,
        profile: Profile | None = None,
        speed: float = 1.0,
        admin_password: str | None = None,
        start: float | None = None,
    ) -> OpenResult:
        """Load the cluster from ``state_dir``, or create it from the profile when empty.

        ``admin_password`` is admin's password for a new cluster (none: one is generated);
        a cluster loaded from the state dir keeps the passwords it has.
        """
        store = Store(state_dir) if state_dir is not None else None
        try:
            return cls._open(store, profile, speed, admin_password, start)
        except BaseException:
            if store is not None:  # the state dir is free again for whoever comes next
                store.close()
            raise

    @classmethod
    def _open(
        cls, store: Store | None, profile: Profile | None, speed: float, admin_password: str | None, start: float | None
    ) -> OpenResult:
        notes: list[str] = []
        generated = None
        if store is not None and store.initialized:
            if profile is not None:
                notes.append("the state dir already holds a cluster; --profile is ignored")
            rt = cls.load(store, speed, start)
            created = False
        else:
            profile = profile or default_profile()
            clock = Clock(start=start, speed=speed)
            drivers: dict[str, PowerDriver] = {"simulated": SimulatedDriver()}
            box = FernetBox(store.secret_key() if store is not None else None)
            cluster = Cluster.from_profile(profile, clock.now(), drivers, box)
            if not admin_password:
                generated = admin_password = secrets.token_urlsafe(12)
            admin = User(cluster, 1, "admin")
            admin.title = "Administrator"
            admin.set_password(admin_password)
            admin.grants[cluster.name] = "Master"
            cluster.users.load(admin)
            created = True
            rt = cls(cluster, clock, store)
        rt.cluster.boot_license_server()
        # the machines' power is the truth: a node that disagrees with it is repaired (and said)
        notes.extend(f"repaired: {sentence}" for sentence in rt.cluster.reconcile_power())
        rt.sync()
        rt.commit()
        return OpenResult(rt, created, generated, notes)

    @classmethod
    def load(cls, store: Store, speed: float = 0, start: float | None = None) -> Runtime:
        """The cluster exactly as ``store`` holds it: EXAoperation not started, nothing repaired.

        On a manual clock (``speed`` 0) no time passes; otherwise the clock resumes at
        ``start`` (default: now) or where it stopped, whichever is later.
        """
        profile = parse_profile(store.meta("profile"))
        saved = float(store.meta("sim_now") or 0)
        if speed == 0:  # a manual clock stands still while the server is down, too
            resume = saved
        else:
            resume = max(saved, time.time() if start is None else start)
        clock = Clock(start=resume, speed=speed)
        drivers: dict[str, PowerDriver] = {"simulated": SimulatedDriver(store.machines())}
        cluster = Cluster.from_records(profile, clock.now(), store.records(), drivers, FernetBox(store.secret_key()))
        cluster.logbook.load(store.log_entries(cluster.logbook.keep_entries), cluster.now)
        return cls(cluster, clock, store)

    # -- the loop ------------------------------------------------------------------------

    def sync(self) -> None:
        self.cluster.advance(self.clock.now())

    def commit(self) -> None:
        c = self.cluster
        hw = self.machines
        changes = c.has_changes or hw.has_changes
        if changes and self.store is not None:
            changed, deleted = c.take_changes()
            machines = hw.take_changes()
            pending, dropped = c.logbook.take()
            meta: dict[str, object] = {"sim_now": c.now}
            if not self._profile_saved:  # once: it never changes, and it can be large
                meta["profile"] = c.profile.raw
            try:
                self.store.save(changed, deleted, pending, meta, log_dropped=dropped, machines=machines)
            except Exception:
                # nothing is lost: the next commit tries again with these changes
                c.keep_changes()
                hw.keep_changes()
                c.logbook.give_back(pending, dropped)
                raise
            self._profile_saved = True
        elif changes:
            c.take_changes()
            hw.take_changes()
            c.logbook.take()
        self._wake_waiters()
        self._rearm()
        if c.halt_reason and not self.halted:
            self.halted = True
            log.info("EXAoperation halts: %s", c.halt_reason)
            if self.on_halt:
                self.on_halt(c.halt_reason)

    def start_on(self, loop: asyncio.AbstractEventLoop) -> None:
        """The server's loop runs: arm the timer on it, let power outcomes come back to it, and
        ask every real machine's BMC for its power (in the background: the answers repair the
        nodes as they come, a slow BMC delays nobody)."""
        self.power.attach(loop)
        self.commit()
        asked = self.cluster.read_back_power()
        if asked:
            log.info("reading the power of %d node(s) back from their BMCs", len(asked))
        self.commit()

    def apply(self, fn: Callable[[], None]) -> None:
        """On the loop: a power outcome (or a driver's log line) changes the model, then it is saved."""
        if self._closed:  # the server has stopped: the power is read back on its next start
            return
        try:
            self.sync()
            fn()
            self.commit()
        except Exception:  # a bug here must not kill the loop; the state is re-read on the next start
            log.exception("applying a power outcome failed")

    def advance_clock(self, seconds: float) -> float:
        self.clock.advance(seconds)
        self._armed_for = _UNARMED  # the real delay to the next deadline changed
        self.sync()
        self.commit()
        if self.store is not None:  # even when nothing fell due: the time moved lasts a crash
            self.store.save([], [], [], {"sim_now": self.cluster.now})
        return self.cluster.now

    def save_now(self) -> None:
        """Record the simulated time even if nothing changed (clean shutdown)."""
        if self.store is not None:
            self.sync()
            self.commit()
            self.store.save([], [], [], {"sim_now": self.cluster.now})

    def close(self) -> None:
        self._closed = True
        self.power.close()
        self.syslog.close()
        if self._timer:
            self._timer.cancel()
        for w in self._waiters:
            if not w.future.done():
                w.future.cancel()
        if self.store is not None:
            self.save_now()
            self.store.close()
            self.store = None

    # -- timers and waiters ----------------------------------------------------------------

    def _loop(self) -> asyncio.AbstractEventLoop | None:
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            return None

    def _rearm(self) -> None:
        due = self.cluster.next_deadline()
        if due == self._armed_for:  # the common case, once per request: nothing to do
            return
        loop = self._loop()
        if loop is None:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._armed_for = due
        if due is None:
            return
        delay = self.clock.real_delay(due - self.clock.now())
        if delay is None:
            return
        self._timer = loop.call_later(max(0.0, delay), self._tick)

    def _tick(self) -> None:
        self._timer = None
        self._armed_for = _UNARMED
        try:
            self.sync()
            self.commit()
        except Exception:  # never let the timer die silently
            log.exception("timer tick failed")
            self._rearm()

    def _wake_waiters(self) -> None:
        if not self._waiters:
            return
        still = []
        for w in self._waiters:
            if w.future.done():
                continue
            try:
                ok = w.predicate()
            except Exception as e:  # pragma: no cover - a predicate bug must reach the caller
                w.future.set_exception(e)
                continue
            if ok:
                w.future.set_result(None)
            else:
                still.append(w)
        self._waiters = still

    def release_waiters(self, reason: str) -> None:
        """The server stops: every call waiting for a state is answered now, with ``reason``.

        What those calls started goes on (it is in the store) once the server is back.
        """
        self.stopping = reason
        for w in self._waiters:
            if not w.future.done():
                w.future.set_exception(Unavailable(reason))
        self._waiters = []

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        """Return once ``predicate()`` holds after some change (checked after every commit)."""
        if predicate():
            return
        if self.stopping:
            raise Unavailable(self.stopping)
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._waiters.append(_Waiter(predicate, fut))
        self._rearm()
        await fut
