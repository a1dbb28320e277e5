"""Driving the lifecycle tool against a real `exaop serve`: through the Python API or the CLI.

The servers run on a manual clock (speed 0) and the tool waits on a ``SimulationClock``:
its sleeps move the server's clock, so a ten-minute procedure takes well under a second
and no test sleeps real time to let the cluster move.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from exaop import Event, ExaClient, Options, SimulationClock, Summary, start_cluster, stop_cluster
from exaop.client.backend import Backend
from exaop.client.confd import ConfdBackend
from exaop.client.exaoperation import ExaOperationBackend
from tests.serverproc import ADMIN_PASSWORD, ServerProcess

NODES = ["n0011", "n0012", "n0013", "n0014"]
DB = "exa_db1"
EXA, CONFD = "exaoperation", "confd"
FACES = (EXA, CONFD)  # the faces of one `exaop serve` the tool can drive
#: what each face calls the actions (tests look for them in events and call logs)
WORDS = {
    EXA: {"power_on": "startupNode", "start_db": "startDatabase", "stop_db": "stopDatabase",
          "force_stop_db": "forceShutdownDatabase", "shutdown": "shutdownNode"},
    CONFD: {"power_on": "infra_instances_start", "start_db": "db_start", "stop_db": "db_stop",
            "force_stop_db": "db_stop force", "shutdown": "infra_instances_stop"},
}  # fmt: skip


def ca_file(srv: ServerProcess) -> str:
    return str(srv.state_dir / "tls" / "ca.pem")


def face_url(srv: ServerProcess, face: str = EXA) -> str:
    return srv.confd_url if face == CONFD else srv.url


def options(srv: ServerProcess, face: str = EXA, **kw: Any) -> Options:
    return Options(url=face_url(srv, face), user="admin", password=ADMIN_PASSWORD, ca_file=ca_file(srv), **kw)


class RecordingClient(ExaClient):
    """An ExaClient that remembers every (path, method) it called; a ConfD job as (path, job name)."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.log: list[tuple[str, str]] = []

    def call(self, path: str, method: str, *args: Any, **kw: Any) -> Any:
        job = method in ("job_exec", "job_start") and args
        self.log.append((path, str(args[0]) if job else method))
        return super().call(path, method, *args, **kw)

    def called(self, method: str) -> list[str]:
        return [p for p, m in self.log if m == method]


def client(srv: ServerProcess, password: str = ADMIN_PASSWORD, face: str = EXA) -> RecordingClient:
    return RecordingClient(face_url(srv, face), "admin", password, ca_file=ca_file(srv),
                           default_path="" if face == CONFD else "/cluster1")  # fmt: skip


def backend(c: ExaClient, face: str = EXA) -> Backend:
    return ConfdBackend(c) if face == CONFD else ExaOperationBackend(c)


def sim_clock(srv: ServerProcess) -> SimulationClock:
    return SimulationClock(ExaClient(srv.url, "admin", ADMIN_PASSWORD, ca_file=ca_file(srv)))


@dataclass
class Outcome:
    summary: Summary
    events: list[Event] = field(default_factory=list)
    client: RecordingClient | None = None

    def kinds(self, kind: str, phase: str | None = None) -> list[Event]:
        return [e for e in self.events if e.kind == kind and (phase is None or e.phase == phase)]


def run_api(procedure: Any, srv: ServerProcess, opts: Options | None = None, face: str = EXA, **kw: Any) -> Outcome:
    """start_cluster / stop_cluster through the Python API on the server's simulated clock,
    against the face ``face`` of the server."""
    c = client(srv, face=face)
    events: list[Event] = []
    summary = procedure(backend(c, face), opts or options(srv, face, **kw), sim_clock(srv), events.append)
    return Outcome(summary, events, c)


def start(srv: ServerProcess, face: str = EXA, **kw: Any) -> Outcome:
    out = run_api(start_cluster, srv, face=face, **kw)
    assert out.summary.ok, out.summary.error
    return out


def stop(srv: ServerProcess, face: str = EXA, **kw: Any) -> Outcome:
    return run_api(stop_cluster, srv, face=face, **kw)


# -- the CLI -----------------------------------------------------------------------------------


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def events(self) -> list[dict[str, Any]]:
        """--json output: one object per line."""
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]

    def __str__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


def _command(
    srv: ServerProcess | None,
    args: tuple[str, ...],
    password: str,
    simulated: bool,
    env: dict[str, str] | None,
    face: str = EXA,
) -> tuple[list[str], dict[str, str]]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("EXAOP_")}
    extra: list[str] = []
    if srv is not None:
        full_env.update(EXAOP_URL=face_url(srv, face), EXAOP_USER="admin", EXAOP_PASSWORD=password)
        waits = args and args[0] in ("start", "stop")  # the commands that wait on a clock
        # with ConfD, the simulation controls are the same server's EXAoperation's
        clock = ["--simulated-clock"] + ([srv.url] if face == CONFD else [])
        extra = ["--ca-file", ca_file(srv)] + (clock if simulated and waits else [])
    full_env.update(env or {})
    full_env.update(COLUMNS="200", PYTHONUNBUFFERED="1")
    return [sys.executable, "-m", "exaop.cli", "cluster", *args, *extra], full_env


def cli(
    srv: ServerProcess | None,
    *args: str,
    password: str = ADMIN_PASSWORD,
    simulated: bool = True,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    face: str = EXA,
) -> CliResult:
    """`exaop cluster ARGS` as a subprocess; against ``srv``'s ``face`` (URL and credentials in
    the environment, its certificate as --ca-file, its manual clock as --simulated-clock)."""
    cmd, full_env = _command(srv, args, password, simulated, env, face)
    done = subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=timeout)
    return CliResult(done.returncode, done.stdout, done.stderr)


class LiveCli:
    """`exaop cluster ARGS` in the background (as :func:`cli`, but on a real clock unless
    ``simulated``), its output read as it comes: a test waits for what it prints (never
    for time to pass), signals it, and collects the result."""

    _output = threading.Condition()

    def __init__(
        self,
        srv: ServerProcess | None,
        *args: str,
        simulated: bool = False,
        env: dict[str, str] | None = None,
        stdout: Any = subprocess.PIPE,
    ) -> None:
        cmd, full_env = _command(srv, args, ADMIN_PASSWORD, simulated, env)
        self.proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE, text=True, env=full_env)
        self.out: list[str] = []
        self.err: list[str] = []
        self._changed = LiveCli._output  # shared: a test may wait for what any of its runs prints
        self._readers = [threading.Thread(target=self._read, args=(stream, lines), daemon=True)
                         for stream, lines in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))
                         if stream is not None]  # fmt: skip
        for t in self._readers:
            t.start()

    def _read(self, stream: Any, lines: list[str]) -> None:
        with contextlib.suppress(ValueError, OSError):  # the test closed it: the reader that leaves `| head`
            for line in stream:
                with self._changed:
                    lines.append(line)
                    self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def events(self) -> list[dict[str, Any]]:
        with self._changed:
            lines = list(self.out)
        return [json.loads(line) for line in lines if line.startswith("{")]

    def wait_for(self, what: Callable[[list[dict[str, Any]]], bool], timeout: float = 60) -> list[dict[str, Any]]:
        """Until ``what(events so far)`` holds; fails (with the output) if the run ends or time is up first."""
        with self._changed:
            self._changed.wait_for(lambda: what(self.events()) or self.proc.poll() is not None, timeout)
        events = self.events()
        assert what(events), f"not seen; exit {self.proc.poll()}\n{''.join(self.out)}\n{''.join(self.err)}"
        return events

    def send(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def finish(self, timeout: float = 60) -> CliResult:
        code = self.proc.wait(timeout)
        for t in self._readers:
            t.join(10)
        return CliResult(code, "".join(self.out), "".join(self.err))

    def __enter__(self) -> LiveCli:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def seen(kind: str, phase: str | None = None, count: int = 1, **data: Any) -> Callable[[list[dict[str, Any]]], bool]:
    """A predicate for :meth:`LiveCli.wait_for`: ``count`` events of ``kind`` (in ``phase``, with ``data``)."""

    def holds(events: list[dict[str, Any]]) -> bool:
        found = [e for e in events if e["kind"] == kind and (phase is None or e["phase"] == phase)
                 and all(e["data"].get(k) == v for k, v in data.items())]  # fmt: skip
        return len(found) >= count

    return holds


# -- a server that goes away --------------------------------------------------------------------


class Restarter:
    """kill -9 the server, and start it again from another thread a little later, on the
    same port with the same state dir: the license server coming back.

    Use it as a context manager: leaving it waits for the restart, so the server a
    fixture stops at the end is the one running, even when a test fails early.
    """

    def __init__(self, srv: ServerProcess, delay: float = 0.3) -> None:
        self.srv, self.delay = srv, delay
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def killed(self) -> bool:
        return self._thread is not None

    def kill_now(self) -> None:
        """The first call kills and schedules the restart; later calls do nothing."""
        with self._lock:
            if self._thread is not None:
                return
            self.srv.kill9()
            self._thread = threading.Thread(target=self._restart, daemon=True)
            self._thread.start()

    def _restart(self) -> None:
        time.sleep(self.delay)  # the tool meets a dead server for a while
        if self.srv.confd_port and not any(a.startswith(("--confd-port", "--no-confd")) for a in self.srv.extra):
            self.srv.extra += ["--confd-port", str(self.srv.confd_port)]  # the ConfD face on its port again
        self.srv.start(port=self.srv.port)

    def restarted(self, timeout: float = 30) -> bool:
        if self._thread is None:
            return False
        self._thread.join(timeout)
        return not self._thread.is_alive() and self.srv.proc is not None and self.srv.proc.poll() is None

    def __enter__(self) -> Restarter:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread is not None:
            self._thread.join(30)


# -- looking at the cluster directly ---------------------------------------------------------------


def snapshot(srv: ServerProcess) -> dict[str, Any]:
    """What the server says, straight over XML-RPC (not through the tool)."""
    c = srv.proxy()
    db = srv.proxy(f"/cluster1/db_{DB}")
    return {
        "nodes": {n: c.getNodeState(n)["status"] for n in ["n0010", *NODES]},
        "services": dict(c.getServiceState()),
        "db": (db.getDatabaseState(), db.getDatabaseOperation(), db.getDatabaseConnectionState()),
        "master": c.getEXAoperationMaster(),
    }


def advance(srv: ServerProcess, seconds: float) -> None:
    srv.proxy("/cluster1/simulation").advanceClock(seconds)
