"""Reliability soak of `exaop serve`: kill -9, fuzzing, hostile input, slow clients, pollers.

Every section runs real ``exaop serve`` subprocesses on 127.0.0.1 (``tests/serverproc.py``),
each with its own state dir in a temporary directory, and prints figures: cases, failures
(with the first few texts), p99 latency where it measures calls, peak RSS of the server
(``VmHWM``/``VmRSS`` from ``/proc/PID/status``) and, where it matters, the state dir's size.
It never passes or fails: it exits 0 unless the harness itself breaks.
``tests/integration/test_soak_short.py`` runs every section for seconds and asserts targets.

Sections (``--only kill,fuzz,hostile,slow,pollers``; all by default):

kill     N cycles (``--cycles``, default 200) on one state dir: a workload (the Python API's
         start_cluster or stop_cluster, a burst of concurrent startupNode/poweroffNode/
         shutdownNode on every node, or the server's own start), ``kill -9`` at a random moment
         within it, restart, then check: every node's status legal and agreeing with its power,
         storage and databases legal and consistent with the nodes, a user and a log service
         setting made before the first kill and each cycle's acknowledged setting kept. Every
         ``--rerun-every`` cycles (and after the last) the real CLI ``exaop cluster start``
         then ``stop`` must exit 0 and leave the cluster as they say. Clocks alternate between
         manual (the tool moves it) and fast (``--fast-speed``). Before the first cycle the
         log is aged to ``--age-log`` entries (a cluster that has run a while has a long log).
fuzz     ``--requests`` (default 100,000) seeded XML-RPC requests from ``--threads`` keep-alive
         clients: valid and invalid method names, dotted names, paths, argument types and
         counts, broken XML, odd encodings, with and without (and with wrong) credentials.
         Counts 5xx, dropped connections, server crashes, 200s that are not well-formed
         XML-RPC, InternalError faults.
hostile  entity bombs, external entities, deep nesting, huge bodies (group ``xml``); huge
         header values, many headers, a long request line (``headers``); failed logins with
         an 8 MB user name (``--login-mb``, ``--login-repeat`` times) and many with 4 KB
         names (``logins``). For each: the answer; per group RSS before/after/peak and the
         state dir's size before/after; for the logins, the size of the next
         logEntriesTagged answer of a tag read just before.
slow     ``--sockets`` (default 5,000, within the fd limit) half-open requests (part of a
         request line, part of the headers, headers and part of a body, nothing), some
         trickling a byte a second, held ``--hold`` seconds, while a poller with valid
         credentials calls getDatabaseState and an administrator opens fresh connections.
pollers  ``--pollers`` (200) keep-alive pollers (asyncio on uvloop, one connection each) mixing
         getNodeState, getDatabaseState, getServiceState and logEntriesTagged with their own
         tags, each every ``--interval`` s, for ``--duration`` s while ``exaop cluster start``
         runs against a clock fast enough to finish within the window.

Servers use plain HTTP (``--http``), so that TLS work on the client does not hide the
server's (``--kill-tls``: HTTPS for the kill section). Where latency or rates are measured,
the CPU use of the server and of this client (and for the pollers the client's event-loop
lag) are printed, to show which side was busy.

    .venv/bin/python bench/soak.py [--quick] [--only SECTIONS] [--seed 1] [sizes...]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import functools
import http.client
import math
import os
import random
import re
import resource
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import xmlrpc.client
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.pool import ThreadPool
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.serverproc import ADMIN_PASSWORD, TLS, ServerProcess  # noqa: E402

from exaop.client import ExaClient  # noqa: E402
from exaop.ops.clock import ScaledClock, SimulationClock, ToolClock  # noqa: E402
from exaop.ops.config import Options  # noqa: E402
from exaop.ops.events import Event  # noqa: E402
from exaop.ops.start import start_cluster  # noqa: E402
from exaop.ops.stop import stop_cluster  # noqa: E402

HOST = "127.0.0.1"
CLUSTER = "/cluster1"
DB_PATH = "/cluster1/db_exa_db1"
LOG_PATH = "/cluster1/logservice1"
DB_NODES = ["n0011", "n0012", "n0013", "n0014"]
EXAMPLES = 5  # failure texts kept per kind
SOAK_USER, SOAK_PASSWORD, SOAK_TITLE = "soak", "soak-password", "made before the first kill"
READER_USER, READER_PASSWORD = "fuzzreader", "fuzzreader-password"  # no grant: role User (read only)
SYSLOG_SERVER = "192.0.2.7"  # the log service setting made before the first kill


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


ADMIN_AUTH = basic("admin", ADMIN_PASSWORD)


# -- figures ------------------------------------------------------------------------------------


@dataclass
class Section:
    """What one section found: counts of failures by kind (with examples) and figures."""

    name: str
    kinds: tuple[str, ...] = ()  # failure kinds always printed, even at 0
    cases: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    values: dict[str, float] = field(default_factory=dict)  # the figures as numbers, for tests
    wall: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def fail(self, kind: str, text: str) -> None:
        with self._lock:
            self.counts[kind] += 1
            kept = self.examples.setdefault(kind, [])
            if len(kept) < EXAMPLES:
                kept.append(text if len(text) <= 400 else text[:400] + "...")

    def count(self, kind: str) -> int:
        return self.counts[kind]

    @property
    def failures(self) -> int:
        return sum(self.counts.values())

    def report(self) -> str:
        lines = [f"== {self.name}: {self.cases} cases, {self.failures} failures, {self.wall:.1f}s wall"]
        kinds = list(self.kinds) + sorted(k for k in self.counts if k not in self.kinds)
        lines.append("   failures: " + ", ".join(f"{k} {self.counts[k]}" for k in kinds))
        for key, value in self.figures.items():
            lines.append(f"   {key}: {value}")
        for kind in kinds:
            for text in self.examples.get(kind, []):
                lines.append(f"   ! {kind}: {text}")
        return "\n".join(lines)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:.1f} ms" if values else "-"


# -- the server process ---------------------------------------------------------------------------


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM ... of a process in kB (empty once it is gone)."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Vm"):
                    name, value = line.split(":", 1)
                    out[name] = int(value.split()[0])
    except OSError:
        pass
    return out


def rss_mb(pid: int) -> float:
    return proc_status(pid).get("VmRSS", 0) / 1024


def hwm_mb(pid: int) -> float:
    return proc_status(pid).get("VmHWM", 0) / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def mb(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


class RssSampler:
    """Samples a process's VmRSS every ``every`` seconds while in use: the peak between two points."""

    def __init__(self, pid: int, every: float = 0.02) -> None:
        self.pid, self.every = pid, every
        self.peak = rss_mb(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, rss_mb(self.pid))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb(self.pid))


_STARTED: list[ServerProcess] = []  # every server of the running section, stopped when it ends


def server(state_dir: Path, speed: float = 0, http: bool = True) -> ServerProcess:
    """A server (not started) on ``state_dir``; once the dir holds a cluster, without
    --admin-password: the stored password holds, and the start saves an argon2 hash (~0.3 s)."""
    if (state_dir / "exaop.sqlite").exists():
        srv = ServerProcess(state_dir, speed=speed, http=http, admin_password=None, env={"EXAOP_ADMIN_PASSWORD": None})
    else:
        srv = ServerProcess(state_dir, speed=speed, http=http)
    _STARTED.append(srv)
    return srv


def section(fn: Callable[..., Section]) -> Callable[..., Section]:
    """A section function: whatever happens in it, no server it started outlives it."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Section:
        try:
            return fn(*args, **kwargs)
        finally:
            while _STARTED:
                _STARTED.pop().stop()

    return run


def serve(state_dir: Path, speed: float = 0, http: bool = True, extra: list[str] | None = None) -> ServerProcess:
    srv = server(state_dir, speed, http)
    srv.extra += extra or []
    return srv.start(timeout=60)


def server_errors(srv: ServerProcess, sec: Section) -> None:
    """Tracebacks the server printed count as failures (each one a bug)."""
    text = "\n".join(srv.output)
    for m in re.finditer(r"Traceback \(most recent call last\):\n(?:.*\n)*?(\S.*)", text):
        sec.fail("server_traceback", m.group(1))


# -- the wire ---------------------------------------------------------------------------------------


def call_body(method: str, *params: Any) -> bytes:
    return xmlrpc.client.dumps(params, method, allow_none=True).encode()


def headers_for(auth: str | None) -> dict[str, str]:
    return {"Content-Type": "text/xml", **({"Authorization": auth} if auth else {})}


class Conn:
    """One keep-alive HTTP(S) connection to a server; reconnects after any error."""

    def __init__(self, port: int, timeout: float = 60, tls: bool = False) -> None:
        self.port, self.timeout, self.tls = port, timeout, tls
        self.c: http.client.HTTPConnection | None = None

    @classmethod
    def to(cls, srv: ServerProcess, timeout: float = 60) -> Conn:
        return cls(srv.port, timeout, tls=not srv.http)

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if self.c is None:
            if self.tls:
                self.c = http.client.HTTPSConnection(HOST, self.port, timeout=self.timeout, context=TLS)
            else:
                self.c = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        try:
            self.c.request("POST", path, body, headers)
            resp = self.c.getresponse()
            data = resp.read()
        except BaseException:
            self.close()
            raise
        if resp.will_close:
            self.close()
        return resp.status, data

    def call(self, path: str, method: str, *params: Any, auth: str = ADMIN_AUTH) -> Any:
        """A valid call that must succeed: its result (a fault or a bad status raises)."""
        status, data = self.post(path, call_body(method, *params), headers_for(auth))
        if status != 200:
            raise RuntimeError(f"{method} on {path}: HTTP {status} {data[:200]!r}")
        return xmlrpc.client.loads(data)[0][0]

    def close(self) -> None:
        if self.c is not None:
            self.c.close()
            self.c = None


DROPS = (OSError, http.client.HTTPException)  # refused, reset, timed out, cut off


def well_formed(data: bytes) -> tuple[bool, str]:
    """(well-formed XML-RPC answer, fault text or '')."""
    try:
        xmlrpc.client.loads(data)
    except xmlrpc.client.Fault as f:
        return True, str(f.faultString)
    except Exception:  # noqa: BLE001 - anything else is not an XML-RPC answer
        return False, ""
    return True, ""


@dataclass
class RawAnswer:
    status: int | None  # None: no HTTP answer at all
    size: int  # body bytes received
    seconds: float
    error: str  # '' when sent and answered in full
    body_head: bytes  # up to 64 kB of the body
    closed: bool  # the server closed the connection

    def fault(self) -> str:
        if self.status != 200:
            return ""
        return well_formed(self.body_head)[1] if self.size <= len(self.body_head) else ""

    def describe(self) -> str:
        what = f"HTTP {self.status}" if self.status is not None else "no answer"
        if fault := self.fault():
            what += f" fault {fault[:80]!r}"
        elif self.status == 200:
            what += " (a result)"
        if self.error:
            what += f" [{self.error}]"
        return f"{what}, {self.size} body bytes, {self.seconds * 1000:.0f} ms"


def raw_request(
    path: str | bytes = CLUSTER,
    body: bytes = b"",
    headers: list[bytes] | None = None,
    auth: str | None = ADMIN_AUTH,
    length: int | None = None,
) -> bytes:
    """An HTTP/1.1 POST as bytes; ``headers`` are raw lines; ``length`` overrides Content-Length."""
    target = path if isinstance(path, bytes) else path.encode()
    lines = [b"POST " + target + b" HTTP/1.1", b"Host: 127.0.0.1", b"Content-Type: text/xml"]
    if auth:
        lines.append(b"Authorization: " + auth.encode())
    if length is not None or body:
        lines.append(b"Content-Length: %d" % (len(body) if length is None else length))
    lines += headers or []
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def exchange(port: int, parts: bytes | list[bytes], timeout: float = 60) -> RawAnswer:
    """Send a request on a new connection and read one answer (or see the connection end)."""
    t0 = time.monotonic()
    error = ""
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        try:
            for part in [parts] if isinstance(parts, bytes) else parts:
                s.sendall(part)
        except OSError as e:
            error = f"send: {type(e).__name__}"
        status, size, head, closed = _read_answer(s)
        if status is None and not error:
            error = "no answer"
    return RawAnswer(status, size, time.monotonic() - t0, error, head, closed)


def _read_answer(s: socket.socket) -> tuple[int | None, int, bytes, bool]:
    buf = b""
    try:
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                return None, 0, b"", True
            buf += chunk
    except OSError:
        return None, 0, b"", True
    head, _, rest = buf.partition(b"\r\n\r\n")
    status_line, *header_lines = head.split(b"\r\n")
    try:
        status = int(status_line.split()[1])
    except (IndexError, ValueError):
        return None, len(buf), b"", True
    length = None
    closing = False
    for line in header_lines:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        elif name.strip().lower() == b"connection" and value.strip().lower() == b"close":
            closing = True
    kept, size = rest[:65536], len(rest)
    try:
        while length is None or size < length:
            chunk = s.recv(1 << 20)
            if not chunk:
                return status, size, kept, True
            size += len(chunk)
            if len(kept) < 65536:
                kept += chunk[: 65536 - len(kept)]
    except OSError:
        return status, size, kept, True
    return status, size, kept, closing


# -- the lifecycle tool -------------------------------------------------------------------------------


def ca_file(srv: ServerProcess) -> str | None:
    return None if srv.http else str(srv.state_dir / "tls" / "cert.pem")


@dataclass
class CliRun:
    code: int
    seconds: float
    err: str


def exaop_cli(srv: ServerProcess, action: str, *args: str, timeout: float = 300) -> CliRun:
    """The real CLI: `exaop cluster ACTION` against ``srv`` (credentials in the environment)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXAOP_")}
    env.update(
        EXAOP_URL=srv.url, EXAOP_USER="admin", EXAOP_PASSWORD=ADMIN_PASSWORD, PYTHONUNBUFFERED="1", COLUMNS="400"
    )
    extra = ["--ca-file", ca] if (ca := ca_file(srv)) else []
    t0 = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-m", "exaop.cli", "cluster", action, *extra, *args],
                              capture_output=True, text=True, env=env, timeout=timeout)  # fmt: skip
    except subprocess.TimeoutExpired:
        return CliRun(-1, time.monotonic() - t0, f"did not end within {timeout:.0f}s")
    return CliRun(done.returncode, time.monotonic() - t0, " ".join((done.stderr or done.stdout).split())[-600:])


# -- 1: kill -9 ---------------------------------------------------------------------------------------


class Killed(Exception):  # noqa: N818 - not an error of the tool: the harness ends its run
    """The server under a workload was killed: the workload stops at its next call."""


class KillableClient(ExaClient):
    """An ExaClient that stops (raises Killed) once ``killed`` is set, instead of retrying."""

    def __init__(self, srv: ServerProcess, killed: threading.Event) -> None:
        super().__init__(srv.url, "admin", ADMIN_PASSWORD, ca_file=ca_file(srv), timeout=30, sleep=self._sleep)
        self.killed = killed

    def _sleep(self, seconds: float) -> None:
        if self.killed.wait(seconds):
            raise Killed()

    def call(self, path: str, method: str, *args: Any, **kwargs: Any) -> Any:
        if self.killed.is_set():
            raise Killed()
        return super().call(path, method, *args, **kwargs)


LEGAL_POWER = {"Powered off": "off", "Crashed": "off", "Booting": "on", "Running": "on", "Shutting down": "on"}
STORAGE_STATES = ("stopped", "starting", "online", "stopping")
DB_STATES = ("none", "setup", "starting", "running", "stopping")
DB_OPERATIONS = {
    "none": {"None"},
    "setup": {"None"},
    "starting": {"Startup"},
    "running": {"None", "Backup"},
    "stopping": {"Shutdown", "Restart", "Force shutdown"},
}


def check_cluster(srv: ServerProcess) -> list[str]:
    """Every rule of the model that must hold between objects, as the server reports them."""
    c = srv.proxy()
    problems = []
    names = sorted(n for n in c.listObjects() if re.fullmatch(r"n\d{4}", n))
    status = {}
    for n in names:
        st = c.getNodeState(n)
        status[n] = st["status"]
        if st["status"] not in LEGAL_POWER:
            problems.append(f"{n}: status {st['status']!r} is not a node status")
        elif LEGAL_POWER[st["status"]] != st["power"]:
            problems.append(f"{n}: status {st['status']!r} but power {st['power']!r}")
    master = c.getEXAoperationMaster()
    if status.get(master) != "Running":
        problems.append(f"the master {master} is {status.get(master)!r}")
    info = srv.proxy(f"{CLUSTER}/storage").getStorageInfo()
    storage = info["state"]
    if storage not in STORAGE_STATES:
        problems.append(f"storage state {storage!r}")
    if storage == "starting":
        down = [n for n in info["nodes"] if n not in info["ignored_nodes"] and status.get(n) != "Running"]
        if down:
            problems.append(f"storage is starting without node(s) {', '.join(f'{n} ({status[n]})' for n in down)}")
    services = dict(c.getServiceState())
    if (services.get("Storaged") == "OK") != (storage in ("online", "stopping")):
        problems.append(f"Storaged {services.get('Storaged')!r} while storage is {storage}")
    for name in c.getDatabaseList():
        d = srv.proxy(f"{CLUSTER}/db_{name}").getDatabaseInfo()
        state, op = d["state"], d["operation"]
        if state not in DB_STATES:
            problems.append(f"{name}: state {state!r}")
            continue
        if op not in DB_OPERATIONS[state]:
            problems.append(f"{name}: operation {op!r} while {state}")
        if d["connectible"] == "Yes" and state != "running":
            problems.append(f"{name}: connectible while {state}")
        if state in ("starting", "running"):
            if storage != "online":
                problems.append(f"{name} is {state} while storage is {storage}")
            down = [n for n in d["nodes"]["active"] if status.get(n) != "Running"]
            if down:
                problems.append(f"{name} is {state} on node(s) not running: {', '.join(down)}")
    return problems


def not_as_left(srv: ServerProcess, up: bool) -> list[str]:
    """What is not as a successful `exaop cluster start` (``up``) or `stop` leaves the cluster."""
    c = srv.proxy()
    node, storage, db = ("Running", "online", ("running", "Yes")) if up else ("Powered off", "stopped", ("setup", "No"))
    wrong = [f"{n} is {s!r}" for n in c.getNodeList() if (s := c.getNodeState(n)["status"]) != node]
    if (state := srv.proxy(f"{CLUSTER}/storage").getStorageInfo()["state"]) != storage:
        wrong.append(f"storage is {state}")
    for name in c.getDatabaseList():
        d = srv.proxy(f"{CLUSTER}/db_{name}")
        if (got := (d.getDatabaseState(), d.getDatabaseConnectionState())) != db:
            wrong.append(f"{name} is {got[0]} (connectible {got[1]})")
    return wrong


def make_settings(srv: ServerProcess) -> None:
    """The user and the log service setting made before the first kill."""
    c = srv.proxy()
    c.addUser({"user_login": SOAK_USER, "password": SOAK_PASSWORD, "user_title": SOAK_TITLE})
    srv.proxy(LOG_PATH).editLogService({"remote_syslog_server": SYSLOG_SERVER})


def check_settings(srv: ServerProcess, description: str, login: bool) -> list[str]:
    """What was set before (and acknowledged in) the cycles is still there; ``login``: the
    soak user's password too (an argon2 check, ~0.3 s)."""
    lost = []
    try:
        user = srv.proxy().getUserByName(SOAK_USER)
        if user.get("user_title") != SOAK_TITLE:
            lost.append(f"user {SOAK_USER}'s title is {user.get('user_title')!r}")
        if login:
            srv.proxy(user=SOAK_USER, password=SOAK_PASSWORD).getDatabaseList()
    except (xmlrpc.client.Fault, xmlrpc.client.ProtocolError) as e:
        lost.append(f"user {SOAK_USER}: {e}")
    props = srv.proxy(LOG_PATH).getProperties()
    if props.get("remote_syslog_server") != SYSLOG_SERVER:
        lost.append(f"logservice1 remote_syslog_server is {props.get('remote_syslog_server')!r}")
    if props.get("description") != description:
        lost.append(f"logservice1 description is {props.get('description')!r}, acknowledged {description!r}")
    return lost


def visible_log_entries(srv: ServerProcess) -> int:
    """How many messages logservice1 shows (read with a new tag, 5000 per answer)."""
    svc, tag, total = srv.proxy(LOG_PATH), f"count-{time.monotonic_ns()}", 0
    while batch := svc.logEntriesTagged(tag)[2]:
        total += len(batch)
    return total


def age_log(srv: ServerProcess, entries: int) -> int:
    """Boot and power off every database node of a new cluster (manual clock) until logservice1
    shows ``entries`` messages; returns how many it shows.

    A cluster that has run for a while has a long log: the tool must not take old messages
    for news.
    """
    sim, nodes = srv.proxy(f"{CLUSTER}/simulation"), [srv.proxy(f"{CLUSTER}/{n}") for n in DB_NODES]
    have = visible_log_entries(srv)
    while have < entries:
        for node in nodes:
            node.startupNode()
        sim.advanceClock(600)  # the boots end: 'Boot process finished after N seconds'
        for node in nodes:
            node.poweroffNode()
        have += 3 * len(nodes)  # booting, boot finished, powered off
    return visible_log_entries(srv)


@dataclass
class Workload:
    """One run against the server that a kill interrupts; ``moment`` is where it was then."""

    kind: str
    killed: threading.Event = field(default_factory=threading.Event)
    moment: str = "not started"
    error: str = ""
    threads: list[threading.Thread] = field(default_factory=list)

    def spawn(self, fn: Callable[[], None]) -> None:
        def guarded() -> None:
            try:
                fn()
            except Killed:
                pass
            except Exception as e:  # noqa: BLE001 - after a kill any error is expected; kept for the report
                if not self.killed.is_set():
                    self.error = f"{type(e).__name__}: {e}"

        t = threading.Thread(target=guarded, daemon=True)
        self.threads.append(t)
        t.start()

    @property
    def done(self) -> bool:
        return not any(t.is_alive() for t in self.threads)

    def stop(self, timeout: float = 20) -> bool:
        self.killed.set()
        end = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, end - time.monotonic()))
        return self.done


def run_procedure(srv: ServerProcess, w: Workload, speed: float) -> None:
    """start_cluster or stop_cluster through the Python API; the moment is its current phase."""
    client = KillableClient(srv, w.killed)
    clock: ToolClock = SimulationClock(KillableClient(srv, w.killed)) if speed == 0 else ScaledClock(speed)
    opts = Options(url=srv.url, user="admin", password=ADMIN_PASSWORD, ca_file=ca_file(srv))

    def on_event(e: Event) -> None:
        if e.kind == "phase_start":
            w.moment = f"{w.kind}.{e.phase}"

    procedure = start_cluster if w.kind == "start" else stop_cluster
    w.moment = f"{w.kind}.begin"
    summary = procedure(client, opts, clock, on_event)
    w.moment = f"{w.kind} ended ({'ok' if summary.ok else 'exit ' + str(summary.exit_code)})"


def run_burst(srv: ServerProcess, w: Workload, speed: float, rng: random.Random, per_node: int = 3) -> None:
    """Concurrent startupNode, then poweroffNode or shutdownNode, on every database node at once
    (one thread per node; a refusal is an answer, not a failure); on a manual clock one more
    thread moves the clock meanwhile, so that boots and shutdowns end.

    The bodies are made once and the answers not parsed, so that the server, not this client,
    is the busy side: a kill should find it at work.
    """
    seeds = [rng.random() for _ in range(len(DB_NODES) * per_node + 1)]
    up, down = call_body("startupNode"), [call_body("poweroffNode"), call_body("shutdownNode")]
    w.moment = "burst"

    def actor(node: str, seed: float) -> None:
        r, conn, headers, path = random.Random(seed), Conn.to(srv), headers_for(ADMIN_AUTH), f"{CLUSTER}/{node}"
        while not w.killed.is_set():
            conn.post(path, up, headers)
            conn.post(path, r.choices(down, (4, 1))[0], headers)

    def advancer(seed: float) -> None:
        r, conn, headers = random.Random(seed), Conn.to(srv), headers_for(ADMIN_AUTH)
        while not w.killed.is_set():
            conn.post(f"{CLUSTER}/simulation", call_body("advanceClock", r.uniform(1, 90)), headers)

    for node, s in zip(DB_NODES * per_node, seeds, strict=False):
        w.spawn(lambda node=node, s=s: actor(node, s))
    if speed == 0:
        w.spawn(lambda: advancer(seeds[-1]))


def start_quietly(srv: ServerProcess) -> None:
    """Start a server that is about to be killed in its start (so it may never listen)."""
    with contextlib.suppress(RuntimeError):
        srv.start(timeout=60)


#: real seconds within which a kill lands, per workload and clock (about the workload's length)
KILL_WINDOW = {("start", True): 0.9, ("start", False): 4.5, ("stop", True): 0.45, ("stop", False): 1.2,
               ("burst", True): 0.5, ("burst", False): 0.5, ("boot", True): 0.3, ("boot", False): 0.3}  # fmt: skip
WORKLOADS = ("start", "stop", "burst", "boot")


@section
def kill_section(
    work: Path,
    cycles: int = 200,
    seed: int = 1,
    rerun_every: int = 10,
    age: int = 6000,
    fast_speed: float = 100.0,
    weights: tuple[float, ...] = (3, 3, 3, 1),
    plan: list[str] | None = None,
    until: str = "",
    tls: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Section:
    """``cycles`` kill -9 cycles on one state dir; see the module's docstring.

    The workload of each cycle is drawn with ``weights`` (start, stop, burst, boot), or taken
    from ``plan`` (then ``cycles`` is its length). The CLI re-runs come every ``rerun_every``
    cycles and after the last (0: never). ``until``: stop after the first failure of that kind.
    """
    if plan is not None:
        if unknown := sorted(set(plan) - set(WORKLOADS)):
            raise ValueError(f"unknown workload(s) {', '.join(unknown)}; known: {', '.join(WORKLOADS)}")
        cycles = len(plan)
    sec = Section("kill", ("inconsistent", "lost_settings", "failed_reruns", "restart_failures"))
    t0 = time.monotonic()
    rng = random.Random(seed)
    state = work / "kill-state"
    srv = serve(state, speed=0, http=not tls)
    make_settings(srv)
    description = "soak: before the first cycle"
    srv.proxy(LOG_PATH).editLogService({"description": description})
    aged = time.monotonic()
    entries = age_log(srv, age) if age else visible_log_entries(srv)
    sec.figures["log before the cycles"] = (
        f"{entries} entries shown by logservice1 ({time.monotonic() - aged:.1f}s to age)"
    )
    moments: Counter[str] = Counter()
    restart_times: list[float] = []
    peak = hwm_mb(srv.proc.pid) if srv.proc else 0.0
    reruns = 0
    speed = 0.0

    def restart(next_speed: float) -> ServerProcess | None:
        t = time.monotonic()
        try:
            fresh = serve(state, speed=next_speed, http=not tls)
        except RuntimeError as e:
            sec.fail("restart_failures", f"cycle {i}: {e}")
            return None
        restart_times.append(time.monotonic() - t)
        return fresh

    seen: list[str] = []  # the inconsistencies the last check found
    inconsistent_checks = 0

    def check(label: str, server: ServerProcess) -> None:
        """One failure per inconsistency that a kill made (one that lasts is counted once)."""
        nonlocal seen, inconsistent_checks
        sec.cases += 1
        problems = check_cluster(server)
        inconsistent_checks += bool(problems)
        new = [p for p in problems if p not in seen]
        if new:
            sec.fail("inconsistent", f"cycle {i} after {label}: " + "; ".join(new))
        seen = problems
        lost = check_settings(server, description, login=rerun or i == cycles - 1)
        if lost:
            sec.fail("lost_settings", f"cycle {i} after {label}: " + "; ".join(lost))

    def rerun_cli(srv: ServerProcess) -> ServerProcess:
        """`exaop cluster start`, then `stop`: each must exit 0 and leave what it says it did."""
        srv.proxy(f"{CLUSTER}/simulation").advanceClock(1000)  # let every transition under way end
        for action in ("start", "stop"):
            done = exaop_cli(srv, action, "--simulated-clock")
            if done.code != 0:
                sec.fail("failed_reruns", f"cycle {i}: exaop cluster {action} exit {done.code}: {done.err}")
                return srv  # a failed start leaves nothing for stop to show; a failed stop leaves it running
            if action == "start" and (wrong := not_as_left(srv, up=True)):
                sec.fail("failed_reruns", f"cycle {i}: exaop cluster start exit 0, but {'; '.join(wrong)}")
                return srv
        try:
            srv.wait_exit(15)  # a stop ends with the license server
        except subprocess.TimeoutExpired:
            sec.fail("failed_reruns", f"cycle {i}: exaop cluster stop exit 0, but EXAoperation still runs")
            return srv
        fresh = restart(0.0)  # the license server on again, its clock still: as the stop left the cluster
        if fresh is None:
            raise RuntimeError(f"cycle {i}: the server does not start again after a stop")
        if wrong := not_as_left(fresh, up=False):
            sec.fail("failed_reruns", f"cycle {i}: exaop cluster stop exit 0, but {'; '.join(wrong)}")
        return fresh

    for i in range(cycles):
        rerun = rerun_every > 0 and ((i + 1) % rerun_every == 0 or i == cycles - 1)
        description = f"soak: cycle {i}"
        srv.proxy(LOG_PATH).editLogService({"description": description})  # acknowledged: must survive
        kind = plan[i] if plan is not None else rng.choices(WORKLOADS, weights)[0]
        w = Workload(kind)
        delay = rng.uniform(0, KILL_WINDOW[(kind, speed == 0)])
        if kind in ("start", "stop"):
            w.spawn(lambda srv=srv, w=w, s=speed: run_procedure(srv, w, s))
        elif kind == "burst":
            run_burst(srv, w, speed, rng)
        if kind == "boot":  # the kill lands in the server's own start
            srv.kill9()
            booting = server(state, speed, http=not tls)
            starter = threading.Thread(target=start_quietly, args=(booting,), daemon=True)
            starter.start()
            end = time.monotonic() + 10
            while booting.proc is None and time.monotonic() < end:
                time.sleep(0.001)
            time.sleep(delay)
            w.moment = "server boot" if not booting.url else "server up"
            if booting.proc is not None:
                booting.kill9()
            starter.join(30)
        else:
            time.sleep(delay)
            if w.done and kind != "burst":
                w.moment += " / idle"
            if srv.proc is not None and srv.proc.poll() is None:
                peak = max(peak, hwm_mb(srv.proc.pid))
            else:
                w.moment += " / server had exited"
            srv.kill9()
        moments[w.moment] += 1
        if not w.stop():
            raise RuntimeError(f"cycle {i}: the {kind} workload did not end after the kill")
        speed = 0.0 if rerun or rng.random() < 0.5 else fast_speed
        fresh = restart(speed) or restart(speed)
        if fresh is None:
            raise RuntimeError(f"cycle {i}: the server does not start again after a kill; see restart_failures")
        srv = fresh
        check(f"kill during {w.moment}", srv)
        if rerun:
            reruns += 1
            srv = rerun_cli(srv)
            check("the re-runs", srv)
        if progress and (i + 1) % 10 == 0:
            progress(f"kill: {i + 1}/{cycles} cycles, {sec.failures} failures")
        if until and sec.count(until):
            sec.figures["stopped early"] = f"after cycle {i}: the first {until} failure"
            break
    if srv.proc is not None:
        peak = max(peak, hwm_mb(srv.proc.pid))
    sec.figures["checks after restarts"] = f"{sec.cases}, {inconsistent_checks} of them saw an inconsistency"
    sec.figures["kills by moment"] = ", ".join(f"{k} {v}" for k, v in sorted(moments.items()))
    sec.figures["re-runs (start + stop)"] = reruns
    sec.figures["restart to listening"] = (f"p50 {ms(restart_times, 0.5)}, p99 {ms(restart_times, 0.99)}, "
                                           f"max {ms(restart_times, 1.0)}")  # fmt: skip
    sec.figures["peak server RSS (VmHWM)"] = f"{peak:.0f} MB"
    srv.stop()
    sec.figures["state dir"] = mb(dir_bytes(state))
    sec.wall = time.monotonic() - t0
    return sec


# -- 2: fuzz ----------------------------------------------------------------------------------------------

#: methods the administrator's fuzz calls leave out: they end EXAoperation (a halt, the master's node
#: off), make it answer 503 for a while, wait for a state on the manual clock, or change the fuzz's
#: own credentials. They are sent with the read-only user's credentials instead (Forbidden).
FUZZ_DENY = frozenset({"haltLicenseServer", "restartEXAoperation", "restartLicenseServer", "startEXAStorage",
                       "stopEXAStorage", "shutdownNode", "rebootNode", "poweroffNode", "addUser", "editUser",
                       "deleteUserById", "deleteUserByLogin", "grantRole", "setDefaultRole"})  # fmt: skip
#: arguments that make sense, per method (others get none, or random ones)
SAMPLE_ARGS: dict[str, list[tuple[Any, ...]]] = {
    "getNodeState": [("n0011",), (12,), ("13",), ("n0010",)],
    "getHardwareInformation": [("n0011",), ("n0012", 4), ("n0013", "x")],
    "startupNode": [("n0011",), ("n0012",), (13,)],
    "methodHelp": [("getNodeState",), ("nope",)],
    "methodSignature": [("getNodeState",), ("startupNode",)],
    "getListValues": [("Nodes",), ("TimeZones",), ("nope",)],
    "logEntriesTagged": [("fuzz",), ("fuzz-2",)],
    "getUserByName": [("admin",), (READER_USER,), ("nobody",)],
    "getUserById": [(1,), ("1",), (99,)],
    "getLoginRole": [("",), ("admin",)],
    "showPluginFunctions": [("Administration.vmware-tools",)],
    "callPlugin": [
        ("Administration.vmware-tools", "n0011", "STATUS"),
        ("Administration.vmware-tools", "n0012", "START"),
    ],
    "getRolesForObject": [("cluster1",), ("db_exa_db1", 1)],
    "advanceClock": [(1,), (30.5,), (300,)],
    "injectFault": [("n0012", "boot_hang"), ("exa_db1", "start_fail"), ("n0013", "crash")],
    "editLogService": [({"description": "fuzz"},), ({"priority": "Notice"},)],
    "editDatabase": [({"database_comment": "fuzz"},)],
    "backupDatabase": [("v0001", 0, "1w")],
    "addLogService": [({"priority": "Warning", "exaclusteros_services": [], "exasolution_systems": []},)],
}
#: methods whose answers are large (every message of the log): asked rarely
RARE = {"logEntries": 0.02}
ODD_NAMES = ["", ".", "..", "a..b", ".getNodeList", "getNodeList.", "system.listMethods", "system.multicall",
             "system.methodHelp", "system.system.listMethods", "__init__", "__class__", "__dict__", "getattr",
             "_private", "storage.getStorageInfo", "db_exa_db1.getDatabaseState", "n0011.getNodeState",
             "logservice1.logEntriesTagged", "simulation.getClock", "users.getProperties", "nope.getNodeList",
             "db_nope.getDatabaseState",
             "getNodeList" * 40, "\u00fc", "\u540d\u524d", "get NodeList", "getNodeList\n", "x" * 300, "a.b.c.d.e.f.g",
             "storage..getStorageInfo", "storage.storage.getStorageInfo", "GETNODELIST", "getnodelist",
             "listMethods.listMethods", "n0010.nodeRunning", "cluster1.getNodeList"]  # fmt: skip
ODD_PATHS = ["/", "/%01", "/cluster1/%0a", "/cluster2", "/cluster1/", "//cluster1", "/cluster1//storage",
             "/cluster1/nope", "/cluster1/db_nope",
             "/cluster1/db_exa_db1/x", "/cluster1/../cluster1", "/cluster1/%2e%2e", "/cluster1?x=1", "/cluster1#f",
             "/CLUSTER1", "/cluster1/n0099", "/cluster1/" + "a" * 500, "/cluster1/storage/storage",
             "/cluster1/simulation/x", "/cluster1/users/admin", "/%00", "/cluster1/%ff", "/cluster1/db_",
             "/cluster1/db_exa_db1/../storage", "/cluster1/n0011/n0011", "/cluster1/logservice99"]  # fmt: skip
TEXTS = ["", "n0011", "n0010", "n0099", "exa_db1", "db_exa_db1", "Nodes", "11", "-1", "1e309", "<&>'\"", "%s%n",
         "../../etc/passwd", "${jndi:ldap://127.0.0.1/x}", "\u00fcml\u00e4ut", "\u540d\u524d", "\U0001f600", " ",
         "\t\n", "a" * 1000, "Administration.vmware-tools", "admin", "crash", "boot_hang", "STATUS", "v0001",
         "1w"]  # fmt: skip
FIELD_NAMES = ["description", "priority", "user_login", "password", "database_name", "nodes_list", "nodes_number",
               "clients_port_number", "data_volume", "database_comment", "memory_usage", "exaclusteros_services",
               "exasolution_systems", "default_interval", "remote_syslog_protocol", "name", "", "x" * 100]  # fmt: skip
ODD_VALUES = ["<value><int>abc</int></value>", "<value><foo>1</foo></value>", "<value><int></int></value>",
              "<value><struct><member><value><int>1</int></value></member></struct></value>",
              "<value><array></array></value>", "<value><array><data><int>1</int></data></array></value>",
              "<value><double>abc</double></value>", "<value><double>nan</double></value>",
              "<value><double>-inf</double></value>", "<value><double>1e999</double></value>",
              "<value><boolean>2</boolean></value>", "<value><boolean>true</boolean></value>",
              "<value><dateTime.iso8601>yesterday</dateTime.iso8601></value>", "<value><base64>!!!</base64></value>",
              "<value><i8>99999999999999999999999</i8></value>", "<value><int>99999999999999999999</int></value>",
              "<value><int>-0</int></value>", "<value><int> 7 </int></value>",
              "<value><string><b>x</b></string></value>", "<value></value>", "<value><nil>x</nil></value>",
              "<value><ex:nil/></value>",
              "<value><string>a</string><string>b</string></value>", "<value><int>1</int>tail</value>",
              "<value><struct><member><name>a</name></member></struct></value>"]  # fmt: skip
ENCODINGS = ("utf-16", "utf-16-nodecl", "latin-1", "utf-8-declared-latin-1-bytes", "bom", "utf-32", "unknown",
             "ascii-with-umlaut", "xml-1.1", "xml-2.0")  # fmt: skip


@dataclass
class FuzzCase:
    category: str
    path: str
    method: str
    body: bytes
    headers: dict[str, str]
    creds: str  # admin, reader, none, malformed, wrong
    auth_ok: bool

    def label(self) -> str:
        return f"{self.category} {self.path[:60]} {self.method[:60]!r} ({self.creds}) body {self.body[:80]!r}"


class FuzzGen:
    """Seeded XML-RPC requests, good and bad; ``methods`` maps each real path to its methods."""

    def __init__(self, rng: random.Random, methods: dict[str, list[str]], max_wrong: int) -> None:
        self.r = rng
        self.methods = methods
        self.paths = sorted(methods)
        self.wrong_left = max_wrong

    # values, as XML

    def text(self) -> str:
        r = self.r
        if r.random() < 0.7:
            return r.choice(TEXTS)
        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789_-. \u00e9\u4e2d"
        return "".join(r.choice(alphabet) for _ in range(r.randint(0, 40)))

    def value(self, depth: int = 0) -> str:
        r = self.r
        kind = r.choice(("string", "bare", "int", "big", "double", "bool", "nil", "base64", "date", "array", "struct"))
        if kind in ("array", "struct") and depth >= 3:
            kind = "string"
        if kind == "string":
            return f"<value><string>{escape(self.text())}</string></value>"
        if kind == "bare":
            return f"<value>{escape(self.text())}</value>"
        if kind == "int":
            n = r.choice((0, 1, -1, 10, 11, 12, 2**31 - 1, -(2**31), r.randint(-1000, 1000)))
            tag = r.choice(("int", "i4"))
            return f"<value><{tag}>{n}</{tag}></value>"
        if kind == "big":
            tag = r.choice(("int", "i8"))
            return f"<value><{tag}>{r.choice((2**31, 2**40, -(2**63), 10**30))}</{tag}></value>"
        if kind == "double":
            return f"<value><double>{r.choice(('0.5', '-1.5', '1e308', '30.25', '1e-300', '86400'))}</double></value>"
        if kind == "bool":
            return f"<value><boolean>{r.choice('01')}</boolean></value>"
        if kind == "nil":
            return "<value><nil/></value>"
        if kind == "base64":
            raw = bytes(r.randrange(256) for _ in range(r.randint(0, 24)))
            return f"<value><base64>{base64.b64encode(raw).decode()}</base64></value>"
        if kind == "date":
            return "<value><dateTime.iso8601>20240229T23:59:59</dateTime.iso8601></value>"
        if kind == "array":
            items = "".join(self.value(depth + 1) for _ in range(r.randint(0, 4)))
            return f"<value><array><data>{items}</data></array></value>"
        members = "".join(f"<member><name>{escape(r.choice(FIELD_NAMES))}</name>{self.value(depth + 1)}</member>"
                          for _ in range(r.randint(0, 4)))  # fmt: skip
        return f"<value><struct>{members}</struct></value>"

    # calls

    @staticmethod
    def body(method: str, params: list[str], prolog: str = "<?xml version='1.0'?>") -> str:
        inner = "".join(f"<param>{p}</param>" for p in params)
        return f"{prolog}<methodCall><methodName>{escape(method)}</methodName><params>{inner}</params></methodCall>"

    def method_of(self, path: str) -> str:
        while True:
            name = self.r.choice(self.methods[path])
            if self.r.random() < RARE.get(name, 1.0):
                return name

    def sample(self, method: str) -> list[str]:
        args = self.r.choice(SAMPLE_ARGS.get(method, [()]))
        return [xmlrpc.client.dumps((a,), allow_none=True).split("<param>\n")[1].split("</param>")[0] for a in args]

    def real_call(self) -> tuple[str, str, list[str]]:
        path = self.r.choice(self.paths)
        method = self.method_of(path)
        return path, method, self.sample(method)

    def mutate(self, data: bytes) -> bytes:
        r = self.r
        how = r.randrange(9)
        if how == 0:
            return data[: r.randrange(len(data) + 1)]
        if how == 1:
            out = bytearray(data)
            for _ in range(r.randint(1, 4)):
                out[r.randrange(len(out))] = r.randrange(256)
            return bytes(out)
        if how == 2:
            return bytes(r.randrange(256) for _ in range(r.randint(0, 200)))
        if how == 3:
            at = r.randrange(len(data) + 1)
            junk = r.choice((b"<", b">", b"&", b"]]>", b"<x>", b"</params>", b"&#0;", b"&nope;", b"<!-- -->",
                             b"<?pi x?>", b"<![CDATA[x]]>", b"\x00", b"\xff\xfe"))  # fmt: skip
            return data[:at] + junk + data[at:]
        return r.choice((
            b"<methodResponse><params/></methodResponse>",
            b"<methodCall/>",
            b"<methodCall><methodName></methodName></methodCall>",
            b"<methodCall><methodName>getNodeList</methodName><methodName>x</methodName></methodCall>",
            b"<methodCall><methodName>getNodeList</methodName></methodCall><extra/>",
            b"<methodCall><methodName><![CDATA[getNodeList]]></methodName></methodCall>",
            b"<methodCall><methodName>getNodeList</methodName><params><param></param></params></methodCall>",
            b"<!DOCTYPE methodCall><methodCall><methodName>getNodeList</methodName></methodCall>",
            b"<methodCall><methodName>getNodeList</methodName><params><value/></params></methodCall>",
            b"<methodCall><methodName>getNode&#0;List</methodName></methodCall>",
            b"<methodCall><methodName>getNodeList",
        ))  # fmt: skip

    def encode(self, text: str) -> bytes:
        """A call in an unusual encoding (some valid, some not)."""
        how = self.r.choice(ENCODINGS)
        bare = text.split("?>", 1)[1]
        if how == "utf-16":
            return ('<?xml version="1.0" encoding="UTF-16"?>' + bare).encode("utf-16")
        if how == "utf-16-nodecl":
            return bare.encode("utf-16")
        if how == "latin-1":
            return ('<?xml version="1.0" encoding="ISO-8859-1"?>' + bare).encode("latin-1", "replace")
        if how == "utf-8-declared-latin-1-bytes":
            return ('<?xml version="1.0" encoding="UTF-8"?>' + bare + "<!-- \u00e9 -->").encode("latin-1", "replace")
        if how == "bom":
            return b"\xef\xbb\xbf" + text.encode()
        if how == "utf-32":
            return ('<?xml version="1.0" encoding="UTF-32"?>' + bare).encode("utf-32")
        if how == "unknown":
            return ('<?xml version="1.0" encoding="x-no-such-encoding"?>' + bare).encode()
        if how == "ascii-with-umlaut":
            return ('<?xml version="1.0" encoding="US-ASCII"?>' + bare + "<!-- \u00fc -->").encode()
        return (f'<?xml version="{"1.1" if how == "xml-1.1" else "2.0"}"?>' + bare).encode()

    def credentials(self, method: str) -> tuple[str, dict[str, str], bool]:
        r = self.r
        kind = r.choices(("admin", "reader", "none", "malformed", "wrong"), (85, 7, 3, 4, 1))[0]
        if kind == "wrong":
            if self.wrong_left <= 0:
                kind = "none"
            else:
                self.wrong_left -= 1
        if kind == "admin" and method.rsplit(".", 1)[-1] in FUZZ_DENY:
            kind = "reader"
        auth = {
            "admin": ADMIN_AUTH,
            "reader": basic(READER_USER, READER_PASSWORD),
            "malformed": r.choice(("Basic !!!", "Bearer abc", "Basic " + base64.b64encode(b"no-colon").decode(),
                                   "Basic " + base64.b64encode(b"\xff\xfe:x").decode(), "basic", "Digest x=y",
                                   "Basic " + base64.b64encode(b"admin:" + ADMIN_PASSWORD.encode())[:-2].decode())),
            "wrong": r.choice((basic("admin", "wrong-password"), basic("nobody", "x"), basic("", ""))),
            "none": "",
        }[kind]  # fmt: skip
        headers = {"Content-Type": r.choice(("text/xml",) * 8 + ("application/xml", "text/plain"))}
        if auth:
            headers["Authorization"] = auth
        return kind, headers, kind in ("admin", "reader")

    def next(self) -> FuzzCase:
        r = self.r
        category = r.choices(("valid", "random_args", "odd_name", "odd_path", "odd_types", "broken", "encoding"),
                             (35, 20, 10, 5, 5, 15, 10))[0]  # fmt: skip
        path, method, params = self.real_call()
        if category == "random_args":
            params = [self.value() for _ in range(r.randint(0, 4))]
        elif category == "odd_name":
            method = r.choice(ODD_NAMES)
            params = [self.value() for _ in range(r.randint(0, 2))]
        elif category == "odd_path":
            path = r.choice(ODD_PATHS)
        elif category == "odd_types":
            params = [r.choice(ODD_VALUES) for _ in range(r.randint(1, 3))]
        text = self.body(method, params)
        if category == "broken":
            data = self.mutate(text.encode())
        elif category == "encoding":
            data = self.encode(text)
        else:
            data = text.encode()
        creds, headers, ok = self.credentials(method)
        return FuzzCase(category, path, method, data, headers, creds, ok)


def fuzz_methods(srv: ServerProcess) -> dict[str, list[str]]:
    """Every object path of the cluster and the methods it offers."""
    c = srv.proxy()
    paths = [CLUSTER] + [f"{CLUSTER}/{name}" for name in c.listObjects()]
    return {p: list(srv.proxy(p).listMethods()) for p in paths}


def judge(sec: Section, case: FuzzCase, status: int, data: bytes) -> None:
    """What a fuzz answer must be: well-formed XML-RPC for a 200, 401 only for bad credentials."""
    if status >= 500:
        sec.fail("5xx", f"HTTP {status} for {case.label()}: {data[:200]!r}")
    elif status == 200:
        ok, fault = well_formed(data)
        if not ok:
            sec.fail("malformed", f"{case.label()}: {data[:200]!r}")
        elif fault.startswith("InternalError"):
            sec.fail("internal_faults", f"{case.label()}: {fault}")
        if not case.auth_ok:
            sec.fail("auth_bypass", f"answered without valid credentials: {case.label()}")
    elif status not in (401, 429) or case.auth_ok:  # 429: the address failed to log in too often
        sec.fail("unexpected_status", f"HTTP {status} for {case.label()}: {data[:200]!r}")


class Target:
    """The server a section talks to; replaced (and the crash counted) when it dies."""

    def __init__(self, srv: ServerProcess, sec: Section, restart: Callable[[], ServerProcess]) -> None:
        self.srv, self.sec, self._restart = srv, sec, restart
        self.servers = [srv]
        self._lock = threading.Lock()

    def crashed(self, seen: ServerProcess) -> bool:
        """After a dropped connection: if the server ``seen`` exited, count it and start another."""
        with self._lock:
            if seen is not self.srv:
                return True  # another thread already restarted it
            if seen.proc is None or seen.proc.poll() is None:
                return False
            tail = "\n".join(seen.output[-8:])
            self.sec.fail("crashes", f"exit {seen.proc.returncode}: {tail}")
            self.srv = self._restart()
            self.servers.append(self.srv)
            return True


@section
def fuzz_section(
    work: Path, requests: int = 100_000, seed: int = 1, threads: int = 4, progress: Callable[[str], None] | None = None
) -> Section:
    """``requests`` seeded fuzz requests from ``threads`` keep-alive clients; see the module's docstring."""
    sec = Section("fuzz", ("5xx", "dropped", "crashes", "malformed", "internal_faults", "auth_bypass",
                           "unexpected_status", "server_traceback"))  # fmt: skip
    t0 = time.monotonic()
    state = work / "fuzz-state"
    srv = serve(state)
    srv.proxy().addUser({"user_login": READER_USER, "password": READER_PASSWORD})
    methods = fuzz_methods(srv)
    target = Target(srv, sec, lambda: serve(state))
    statuses: Counter[int] = Counter()
    categories: Counter[str] = Counter()
    latencies: list[float] = []
    done = [0]
    lock = threading.Lock()
    max_wrong = max(2, requests // 1000)  # each costs the server an argon2 check (about 0.1-0.3 s)

    def worker(tid: int, count: int) -> None:
        gen = FuzzGen(random.Random(f"{seed}-{tid}"), methods, max_wrong // threads + 1)
        seen = target.srv
        conn = Conn(seen.port, timeout=30)
        mine: list[float] = []
        st: Counter[int] = Counter()
        cats: Counter[str] = Counter()
        for k in range(count):
            case = gen.next()
            cats[case.category] += 1
            t = time.perf_counter()
            try:
                status, data = conn.post(case.path, case.body, case.headers)
            except DROPS as e:
                sec.fail("dropped", f"{type(e).__name__}: {e} on {case.label()}")
                if target.crashed(seen):
                    seen = target.srv
                    conn = Conn(seen.port, timeout=30)
                continue
            mine.append(time.perf_counter() - t)
            st[status] += 1
            judge(sec, case, status, data)
            if progress and tid == 0 and (k + 1) % 5000 == 0:
                progress(f"fuzz: thread 0 at {k + 1}/{count}")
        conn.close()
        with lock:
            latencies.extend(mine)
            statuses.update(st)
            categories.update(cats)
            done[0] += count

    c0, p0, w0 = cpu_seconds(srv.proc.pid), time.process_time(), time.monotonic()
    workers = [threading.Thread(target=worker, args=(i, requests // threads + (i < requests % threads)))
               for i in range(threads)]  # fmt: skip
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    wall = time.monotonic() - w0
    last = target.srv
    alive = last.proc is not None and last.proc.poll() is None
    server_cpu = cpu_seconds(last.proc.pid) - c0 if alive and len(target.servers) == 1 and last.proc else float("nan")
    sec.cases = done[0]
    sec.figures["answers by status"] = ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
    sec.figures["requests by kind"] = ", ".join(f"{k} {v}" for k, v in sorted(categories.items()))
    sec.figures["latency"] = f"p50 {ms(latencies, 0.5)}, p99 {ms(latencies, 0.99)}, max {ms(latencies, 1.0)}"
    client_cpu = time.process_time() - p0
    sec.figures["rate"] = (f"{done[0] / wall:.0f} req/s with {threads} client threads; CPU over the run: server "
                           f"{server_cpu / wall:.0%} of a core, client {client_cpu / wall:.0%}")  # fmt: skip
    if alive and last.proc:
        sec.figures["peak server RSS (VmHWM)"] = f"{hwm_mb(last.proc.pid):.0f} MB"
        last.stop()
    for s in target.servers:
        server_errors(s, sec)
    sec.figures["state dir"] = mb(dir_bytes(state))
    sec.wall = time.monotonic() - t0
    return sec


# -- 3: hostile input -------------------------------------------------------------------------------------

CALL = call_body("getDatabaseList")


def billion_laughs() -> bytes:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    ]  # fmt: skip
    return (f'<?xml version="1.0"?><!DOCTYPE lolz [{"".join(entities)}]>'
            "<methodCall><methodName>&lol9;</methodName></methodCall>").encode()  # fmt: skip


def quadratic_blowup() -> bytes:
    """One 100 kB entity used 9 times (under 1 MiB; 90 MB expanded): no DTD, no entity bombs."""
    return (b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "' + b"a" * 100_000 + b'">]><methodCall>'
            b"<methodName>getNodeState</methodName><params><param><value>" + b"&a;" * 9 +
            b"</value></param></params></methodCall>")  # fmt: skip


EXTERNAL_ENTITY = b"""<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<methodCall><methodName>getNodeState</methodName><params><param><value>&x;</value></param></params></methodCall>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?><!DOCTYPE m SYSTEM "http://127.0.0.1:9/evil.dtd">
<methodCall><methodName>getNodeList</methodName></methodCall>"""
PARAMETER_ENTITY = b"""<?xml version="1.0"?><!DOCTYPE m [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>
<methodCall><methodName>getNodeList</methodName></methodCall>"""


def deep(levels: int, kind: str = "array") -> bytes:
    """getNodeState(value nested ``levels`` deep): arrays or structs (under 1 MiB)."""
    if kind == "array":
        open_, close = b"<value><array><data>", b"</data></array></value>"
    else:
        open_, close = b"<value><struct><member><name>a</name>", b"</member></struct></value>"
    value = open_ * levels + b"<value><int>1</int></value>" + close * levels
    return b"<?xml version='1.0'?><methodCall><methodName>getNodeState</methodName><params><param>" + value + (
        b"</param></params></methodCall>")  # fmt: skip


def wide(count: int) -> bytes:
    """getNodeState([1, 1, ...]) with ``count`` values (about 1 MiB)."""
    return (b"<?xml version='1.0'?><methodCall><methodName>getNodeState</methodName><params><param><value><array>"
            b"<data>" + b"<value><int>1</int></value>" * count + b"</data></array></value></param></params>"
            b"</methodCall>")  # fmt: skip


def chunked(body: bytes, size: int = 65536) -> list[bytes]:
    head = raw_request(headers=[b"Transfer-Encoding: chunked"])
    return [head] + [b"%x\r\n" % len(body[i : i + size]) + body[i : i + size] + b"\r\n"
                     for i in range(0, len(body), size)] + [b"0\r\n\r\n"]  # fmt: skip


@dataclass
class Hostile:
    name: str
    group: str  # xml, protocol, headers, logins
    expect: str  # fault_or_4xx: a fault or 4xx (or closed); refused: 4xx or closed; answered: anything but 5xx
    parts: Callable[[], bytes | list[bytes]]
    repeat: int = 1


def hostile_cases(login_mb: float, login_repeat: int, names: int) -> list[Hostile]:
    mib = 1 << 20
    big_name = basic("u" * int(login_mb * 1e6), "x")
    return [
        Hostile("billion laughs", "xml", "fault_or_4xx", lambda: raw_request(body=billion_laughs())),
        Hostile("quadratic blowup", "xml", "fault_or_4xx", lambda: raw_request(body=quadratic_blowup())),
        Hostile("external entity", "xml", "fault_or_4xx", lambda: raw_request(body=EXTERNAL_ENTITY)),
        Hostile("external DTD", "xml", "fault_or_4xx", lambda: raw_request(body=EXTERNAL_DTD)),
        Hostile("parameter entity", "xml", "fault_or_4xx", lambda: raw_request(body=PARAMETER_ENTITY)),
        Hostile("deep arrays (24k levels)", "xml", "fault_or_4xx", lambda: raw_request(body=deep(24_000))),
        Hostile("deep structs (16k levels)", "xml", "fault_or_4xx", lambda: raw_request(body=deep(16_000, "struct"))),
        Hostile("1 MiB of values", "xml", "fault_or_4xx", lambda: raw_request(body=wide(36_000))),
        Hostile("body over 1 MiB", "xml", "fault_or_4xx", lambda: raw_request(body=b" " * (mib + 1))),
        Hostile("Content-Length 1 TB, no body", "xml", "fault_or_4xx", lambda: raw_request(length=10**12)),
        Hostile("4 MiB chunked body", "xml", "fault_or_4xx", lambda: chunked(b" " * (4 * mib))),
        Hostile(
            "Content-Length not a number",
            "protocol",
            "answered",
            lambda: raw_request(body=CALL, headers=[b"Content-Length: abc"]),
        ),
        Hostile(
            "Content-Length and chunked",
            "protocol",
            "answered",
            lambda: raw_request(body=CALL, headers=[b"Transfer-Encoding: chunked"]),
        ),
        Hostile("NUL in a header", "protocol", "answered", lambda: raw_request(body=CALL, headers=[b"X-A: a\x00b"])),
        Hostile("HTTP/0.9 request", "protocol", "answered", lambda: b"POST /cluster1\r\n\r\n"),
        Hostile("bare LF line ends", "protocol", "answered", lambda: raw_request(body=CALL).replace(b"\r\n", b"\n")),
        Hostile("absolute URI", "protocol", "answered", lambda: raw_request("http://127.0.0.1/cluster1", CALL)),
        Hostile(
            "8 MB header value",
            "headers",
            "refused",
            lambda: raw_request(body=CALL, headers=[b"X-Pad: " + b"a" * 8_000_000]),
        ),
        Hostile(
            "20,000 headers",
            "headers",
            "refused",
            lambda: raw_request(body=CALL, headers=[b"X-H-%d: v" % i for i in range(20_000)]),
        ),
        Hostile("8 MB request line", "headers", "refused", lambda: raw_request("/cluster1/" + "a" * 8_000_000, CALL)),
        Hostile(
            f"{login_mb:g} MB user name (failed login)",
            "logins",
            "refused",
            lambda: raw_request(body=CALL, auth=big_name),
            login_repeat,
        ),
        Hostile(
            "4 kB user names (failed logins)",
            "logins",
            "refused",
            lambda: raw_request(body=CALL, auth=basic(f"{random.random()}" + "u" * 4000, "x")),
            names,
        ),
    ]


def rejected(expect: str, ans: RawAnswer) -> bool:
    if ans.status is not None and ans.status >= 500:
        return False
    if expect == "answered":
        return True
    if ans.status is None or 400 <= ans.status < 500:
        return True
    return expect == "fault_or_4xx" and bool(ans.fault())


@section
def hostile_section(
    work: Path, login_mb: float = 8, login_repeat: int = 50, names: int = 50, parallel_logins: int = 2
) -> Section:
    """Each hostile request on a new connection; per group RSS and state dir before/after."""
    sec = Section("hostile", ("xml_not_rejected", "headers_not_rejected", "logins_not_rejected", "5xx", "crashes",
                              "server_traceback"))  # fmt: skip
    t0 = time.monotonic()
    state = work / "hostile-state"
    target = Target(serve(state), sec, lambda: serve(state))
    cases = hostile_cases(login_mb, login_repeat, names)
    for group in ("xml", "protocol", "headers", "logins"):
        srv = target.srv
        assert srv.proc is not None
        pid = srv.proc.pid
        tag = f"hostile-{group}"
        if group == "logins":  # a monitor's tag, read up to now: what do the failed logins add to its next answer?
            while srv.proxy(LOG_PATH).logEntriesTagged(tag)[2]:
                pass
        rss0, dir0 = rss_mb(pid), dir_bytes(state)
        with RssSampler(pid) as sampler:
            for case in (c for c in cases if c.group == group):
                sec.cases += case.repeat
                with ThreadPool(parallel_logins if case.repeat > 1 else 1) as pool:
                    answers = pool.map(lambda _, c=case, port=srv.port: exchange(port, c.parts()), range(case.repeat))
                for ans in answers:
                    if ans.status is not None and ans.status >= 500:
                        sec.fail("5xx", f"{case.name}: {ans.describe()}")
                    elif not rejected(case.expect, ans):
                        sec.fail(f"{group}_not_rejected", f"{case.name}: {ans.describe()}")
                counts = Counter(a.describe().split(",")[0] for a in answers)
                sec.figures[f"{group}: {case.name}"] = "; ".join(f"{k}" + (f" x{v}" if v > 1 else "")
                                                                  for k, v in counts.items())  # fmt: skip
                if target.crashed(srv):
                    srv = target.srv
                    assert srv.proc is not None
                    pid = srv.proc.pid
        Conn(srv.port).call(CLUSTER, "getDatabaseList")  # the next call saves what is pending
        rss1, dir1 = rss_mb(pid), dir_bytes(state)
        sec.figures[f"{group}: server RSS"] = f"before {rss0:.0f} MB, after {rss1:.0f} MB, peak {sampler.peak:.0f} MB"
        sec.figures[f"{group}: state dir"] = f"before {mb(dir0)}, after {mb(dir1)}"
        sec.values.update({f"{group}.rss_growth_mb": rss1 - rss0, f"{group}.rss_peak_growth_mb": sampler.peak - rss0,
                           f"{group}.dir_growth_bytes": dir1 - dir0})  # fmt: skip
        if group == "logins":
            ans = exchange(srv.port, raw_request(LOG_PATH, call_body("logEntriesTagged", tag)))
            sec.figures["logins: next logEntriesTagged answer"] = f"{mb(ans.size)} in {ans.seconds:.1f}s"
            sec.values["logins.log_answer_bytes"] = ans.size
    last = target.srv
    if last.proc is not None:
        sec.figures["peak server RSS (VmHWM)"] = f"{hwm_mb(last.proc.pid):.0f} MB"
        last.stop()
    for s in target.servers:
        server_errors(s, sec)
    sec.wall = time.monotonic() - t0
    return sec


# -- 4: slow clients ------------------------------------------------------------------------------------

SLOW_MODES = ("part of a request line", "part of the headers", "headers and part of a body", "nothing")


def slow_start(mode: str) -> bytes:
    """What a half-open request sends before it goes quiet."""
    if mode == "part of a request line":
        return b"POST /cluster1 HTT"
    if mode == "part of the headers":
        return b"POST /cluster1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + ADMIN_AUTH.encode() + b"\r\nX-Slow: "
    if mode == "headers and part of a body":
        return raw_request(length=4096) + CALL[:10]
    return b""


def raise_fd_limit() -> int:
    """The soft limit of open files, raised to the hard one (servers started later inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Poller(threading.Thread):
    """A client with valid credentials calling getDatabaseState every ``every`` seconds on one
    keep-alive connection (made before anything else happens)."""

    def __init__(self, port: int, sec: Section, every: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.port, self.sec, self.every = port, sec, every
        self.latencies: list[float] = []
        self.conn = Conn(port, timeout=10)
        self.conn.call(DB_PATH, "getDatabaseState")
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(self.every):
            t = time.perf_counter()
            try:
                self.conn.call(DB_PATH, "getDatabaseState")
            except Exception as e:  # noqa: BLE001 - every way a call can fail counts
                self.sec.fail("poller_errors", f"{type(e).__name__}: {e}")
                continue
            self.latencies.append(time.perf_counter() - t)


@section
def slow_section(
    work: Path, sockets: int = 5000, hold: float = 30.0, trickle_every: float = 1.0, timeouts: float | None = None
) -> Section:
    """``sockets`` half-open requests held ``hold`` seconds; a poller and fresh admin connections meanwhile.
    ``timeouts``: the server's header and body timeouts (default: the server's own, 10 s and 20 s)."""
    sec = Section("slow", ("poller_errors", "admin_failures", "flood_refused", "crashes", "server_traceback"))
    t0 = time.monotonic()
    limit = raise_fd_limit()
    count = max(1, min(sockets, limit - 200))
    if count < sockets:
        sec.figures["note"] = f"{count} sockets, not {sockets}: the open files limit is {limit}"
    state = work / "slow-state"
    extra = ["--header-timeout", f"{timeouts:g}", "--body-timeout", f"{timeouts:g}"] if timeouts else []
    srv = serve(state, extra=extra)
    assert srv.proc is not None
    pid = srv.proc.pid
    poller = Poller(srv.port, sec)
    poller.start()
    sel = selectors.DefaultSelector()
    opened: dict[int, tuple[socket.socket, str, float]] = {}
    closed_after: dict[str, list[float]] = {m: [] for m in SLOW_MODES}
    answers: Counter[str] = Counter()
    admin: list[str] = []

    def probe() -> None:
        t = time.perf_counter()
        try:
            Conn(srv.port, timeout=10).call(DB_PATH, "getDatabaseState")
            admin.append(f"{(time.perf_counter() - t) * 1000:.0f} ms")
        except Exception as e:  # noqa: BLE001 - every way a call can fail counts
            sec.fail("admin_failures", f"a fresh connection during the flood: {type(e).__name__}: {e}")
            admin.append("failed")

    def gone(i: int, data: bytes) -> None:
        s, mode, since = opened.pop(i)
        sel.unregister(s)
        s.close()
        closed_after[mode].append(time.monotonic() - since)
        if data.startswith(b"HTTP/"):
            answers[data.split(b"\r\n", 1)[0].decode(errors="replace")] += 1

    with RssSampler(pid) as sampler:
        for i in range(count):
            mode = SLOW_MODES[i % len(SLOW_MODES)]
            try:
                s = socket.create_connection((HOST, srv.port), timeout=5)
                s.sendall(slow_start(mode))
            except OSError as e:
                sec.fail("flood_refused", f"socket {i}: {type(e).__name__}: {e}")
                continue
            s.setblocking(False)
            opened[i] = (s, mode, time.monotonic())
            sel.register(s, selectors.EVENT_READ, i)
        flooded = time.monotonic()
        sec.cases = count
        sec.figures["flood"] = f"{len(opened)} sockets open after {flooded - t0:.1f}s; server fds {open_fds(pid)}"
        probe()
        next_trickle, probed = flooded + trickle_every, False
        while (now := time.monotonic()) < flooded + hold and opened:
            for key, _ in sel.select(0.1):
                i = key.data
                try:
                    data = opened[i][0].recv(65536)
                except OSError:
                    data = b""
                gone(i, data)
            if now >= next_trickle:  # every tenth header-sender adds one byte to its header
                next_trickle += trickle_every
                for i, (s, _, _) in list(opened.items()):
                    if i % 40 == 1:
                        try:
                            s.send(b"a")
                        except OSError:
                            gone(i, b"")
            if not probed and now >= flooded + hold / 2:
                probed = True
                probe()
        held = time.monotonic() - flooded
        sec.figures["server fds at the end of the hold"] = open_fds(pid)
        for s, _, _ in opened.values():
            s.close()
        sel.close()
    poller.halt.set()
    poller.join(15)
    alive = srv.proc.poll() is None
    if not alive:
        sec.fail("crashes", f"exit {srv.proc.returncode}: " + "\n".join(srv.output[-8:]))
    closed = sum(len(v) for v in closed_after.values())
    sec.figures["closed by the server"] = f"{closed} of {count} within {held:.1f}s" + "".join(
        f"; {mode}: {len(v)}" + (f" (p50 {percentile(v, 0.5):.1f}s, max {max(v):.1f}s)" if v else "")
        for mode, v in closed_after.items())  # fmt: skip
    sec.figures["answers to the flood"] = ", ".join(f"{k} x{v}" for k, v in answers.items()) or "none"
    sec.figures["still open after the hold"] = f"{len(opened)} (held {held:.1f}s)"
    sec.figures["poller (getDatabaseState, keep-alive)"] = (f"{len(poller.latencies)} calls, "
        f"{sec.count('poller_errors')} errors, p50 {ms(poller.latencies, 0.5)}, p99 {ms(poller.latencies, 0.99)}, "
        f"max {ms(poller.latencies, 1.0)}")  # fmt: skip
    sec.figures["admin's fresh connections"] = ", ".join(admin)
    sec.figures["server RSS"] = f"peak {sampler.peak:.0f} MB" + (f", VmHWM {hwm_mb(pid):.0f} MB" if alive else "")
    sec.values.update({"flood.opened": count - sec.count("flood_refused"), "flood.closed": closed,
                       "flood.still_open": len(opened), "poller.calls": len(poller.latencies)})  # fmt: skip
    srv.stop()
    server_errors(srv, sec)
    sec.wall = time.monotonic() - t0
    return sec


# -- 5: pollers -------------------------------------------------------------------------------------------


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
    return status, await reader.readexactly(int(m.group(1)) if m else 0)


@dataclass
class PollStats:
    latencies: list[float] = field(default_factory=list)
    lag: list[float] = field(default_factory=list)  # how late the client's own event loop woke up
    first: list[float] = field(default_factory=list)  # each poller's first call
    connected: int = 0


async def _poll(
    i: int, port: int, end: float, interval: float, rng: random.Random, stats: PollStats, sec: Section
) -> None:
    """One poller: its own keep-alive connection and tag; a call every ``interval`` seconds."""
    loop = asyncio.get_running_loop()
    calls = [raw_request(CLUSTER, call_body("getNodeState", n)) for n in DB_NODES] + [
        raw_request(DB_PATH, call_body("getDatabaseState")),
        raw_request(CLUSTER, call_body("getServiceState")),
        raw_request(LOG_PATH, call_body("logEntriesTagged", f"poller-{i}")),
    ]
    reader, writer = await asyncio.open_connection(HOST, port)
    t = time.perf_counter()
    writer.write(calls[-1])  # the first call also checks the password (argon2, once for all): not timed
    status, _ = await _answer(reader)
    if status != 200:
        sec.fail("errors", f"poller {i}: first call HTTP {status}")
    stats.first.append(time.perf_counter() - t)
    stats.connected += 1
    at = loop.time() + rng.uniform(0, interval)
    while at < end:
        await asyncio.sleep(max(0.0, at - loop.time()))
        request = rng.choice(calls)
        t = time.perf_counter()
        try:
            writer.write(request)
            status, body = await _answer(reader)
        except (OSError, asyncio.IncompleteReadError, ValueError) as e:
            sec.fail("errors", f"poller {i}: {type(e).__name__}: {e}")
            writer.close()
            reader, writer = await asyncio.open_connection(HOST, port)
        else:
            stats.latencies.append(time.perf_counter() - t)
            ok, fault = well_formed(body)
            if status != 200 or not ok or fault:
                sec.fail("errors", f"poller {i}: HTTP {status} {fault or body[:200]!r}")
        at = max(at + interval, loop.time())
    writer.close()


async def _watch_lag(end: float, stats: PollStats, every: float = 0.01) -> None:
    loop = asyncio.get_running_loop()
    while loop.time() < end:
        t = loop.time()
        await asyncio.sleep(every)
        stats.lag.append(loop.time() - t - every)


@section
def pollers_section(
    work: Path, pollers: int = 200, duration: float = 60.0, interval: float = 0.1, seed: int = 1,
    speed: float | None = None,
) -> Section:  # fmt: skip
    """``pollers`` keep-alive pollers for ``duration`` s while `exaop cluster start` runs; see the docstring."""
    import uvloop

    sec = Section("pollers", ("errors", "start_failed", "crashes", "server_traceback"))
    t0 = time.monotonic()
    speed = speed or max(10.0, 900.0 / duration)  # a cold start (~430 simulated s) in under half the window
    state = work / "pollers-state"
    srv = serve(state, speed=speed)
    assert srv.proc is not None
    pid = srv.proc.pid
    raise_fd_limit()
    rng = random.Random(seed)
    stats = PollStats()
    start: list[CliRun] = []

    async def main() -> None:
        end = asyncio.get_running_loop().time() + duration
        seeds = [rng.random() for _ in range(pollers)]
        await asyncio.gather(_watch_lag(end, stats),
                             *(_poll(i, srv.port, end, interval, random.Random(s), stats, sec)
                               for i, s in enumerate(seeds)))  # fmt: skip

    starter = threading.Thread(target=lambda: start.append(exaop_cli(srv, "start", "--clock-speed", f"{speed:g}")))
    c0, p0 = cpu_seconds(pid), time.process_time()
    with RssSampler(pid) as sampler:
        starter.start()
        w0 = time.monotonic()
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(main())
        wall = time.monotonic() - w0
        server_cpu, client_cpu = cpu_seconds(pid) - c0, time.process_time() - p0
        starter.join(max(60.0, duration * 2))
    if srv.proc.poll() is not None:
        sec.fail("crashes", f"exit {srv.proc.returncode}: " + "\n".join(srv.output[-8:]))
    sec.cases = len(stats.latencies) + sec.count("errors")
    if not start:
        sec.fail("start_failed", "exaop cluster start did not end")
    elif start[0].code != 0:
        sec.fail("start_failed", f"exaop cluster start exit {start[0].code}: {start[0].err}")
    lat = stats.latencies
    sec.figures["calls"] = (f"{len(lat)} answered in {wall:.1f}s: {len(lat) / wall:.0f} calls/s "
                            f"(offered {pollers / interval:.0f}/s by {stats.connected} connected pollers)")  # fmt: skip
    sec.figures["latency"] = f"p50 {ms(lat, 0.5)}, p99 {ms(lat, 0.99)}, max {ms(lat, 1.0)}"
    sec.figures["first call of each poller (login check)"] = f"p50 {ms(stats.first, 0.5)}, max {ms(stats.first, 1.0)}"
    sec.figures["exaop cluster start"] = (f"exit {start[0].code} after {start[0].seconds:.1f}s (clock x{speed:g})"
                                          if start else "did not end")  # fmt: skip
    sec.figures["who was busy"] = (f"server {server_cpu / wall:.0%} of a core, this client {client_cpu / wall:.0%} "
                                   f"(the CLI apart); client event-loop lag p99 {ms(stats.lag, 0.99)}")  # fmt: skip
    sec.figures["peak server RSS"] = f"{sampler.peak:.0f} MB sampled" + (
        f", VmHWM {hwm_mb(pid):.0f} MB" if srv.proc.poll() is None else "")  # fmt: skip
    sec.values.update({"calls": len(lat), "p99_ms": percentile(lat, 0.99) * 1000 if lat else float("nan")})
    srv.stop()
    server_errors(srv, sec)
    sec.wall = time.monotonic() - t0
    return sec


# -- the run ----------------------------------------------------------------------------------------------

SECTIONS = ("kill", "fuzz", "hostile", "slow", "pollers")


def run_section(name: str, args: argparse.Namespace, work: Path) -> Section:
    def progress(text: str) -> None:
        print(f"   ... {text}", file=sys.stderr, flush=True)

    if name == "kill":
        return kill_section(work, args.cycles, args.seed, args.rerun_every, args.age_log, args.fast_speed,
                            tls=args.kill_tls, progress=progress)  # fmt: skip
    if name == "fuzz":
        return fuzz_section(work, args.requests, args.seed, args.threads, progress=progress)
    if name == "hostile":
        return hostile_section(work, args.login_mb, args.login_repeat, args.names)
    if name == "slow":
        return slow_section(work, args.sockets, args.hold)
    return pollers_section(work, args.pollers, args.duration, args.interval, args.seed)


QUICK = {"cycles": 20, "requests": 10_000, "login_repeat": 10, "names": 20, "sockets": 1000, "hold": 5.0,
         "duration": 10.0}  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--only", default=",".join(SECTIONS), help=f"sections, comma-separated (default {','.join(SECTIONS)})"
    )
    ap.add_argument("--quick", action="store_true", help="sizes for a few minutes: " +
                    ", ".join(f"{k.replace('_', '-')} {v:g}" for k, v in QUICK.items()))  # fmt: skip
    ap.add_argument("--seed", type=int, default=1, help="seed of every random choice (default 1)")
    ap.add_argument("--keep", action="store_true", help="keep the state dirs (printed at the end)")
    k = ap.add_argument_group("kill")
    k.add_argument("--cycles", type=int, default=200, help="kill cycles (default 200)")
    k.add_argument("--rerun-every", type=int, default=10, help="CLI start+stop every N cycles and after the last "
                   "(default 10; 0: never)")  # fmt: skip
    k.add_argument("--age-log", type=int, default=6000, help="log entries before the first cycle (default 6000)")
    k.add_argument("--fast-speed", type=float, default=100.0, help="the fast clock's speed (default 100)")
    k.add_argument("--kill-tls", action="store_true", help="HTTPS for the kill section (default: plain HTTP)")
    f = ap.add_argument_group("fuzz")
    f.add_argument("--requests", type=int, default=100_000, help="fuzz requests (default 100,000)")
    f.add_argument("--threads", type=int, default=4, help="fuzz client threads (default 4)")
    h = ap.add_argument_group("hostile")
    h.add_argument("--login-mb", type=float, default=8.0, help="size of the huge user name in MB (default 8)")
    h.add_argument("--login-repeat", type=int, default=50, help="failed logins with it (default 50)")
    h.add_argument("--names", type=int, default=50, help="failed logins with 4 kB user names (default 50)")
    s = ap.add_argument_group("slow")
    s.add_argument("--sockets", type=int, default=5000, help="half-open requests (default 5,000; within the fd limit)")
    s.add_argument("--hold", type=float, default=20.0, help="seconds the flood is held (default 20)")
    p = ap.add_argument_group("pollers")
    p.add_argument("--pollers", type=int, default=200, help="concurrent pollers (default 200)")
    p.add_argument("--duration", type=float, default=60.0, help="seconds they poll (default 60)")
    p.add_argument("--interval", type=float, default=0.1, help="seconds between a poller's calls (default 0.1)")
    argv = sys.argv[1:]
    args = ap.parse_args(argv)
    if args.quick:  # sizes not given explicitly take their quick values
        given = {a.split("=")[0].lstrip("-").replace("-", "_") for a in argv if a.startswith("--")}
        for key, value in QUICK.items():
            if key not in given:
                setattr(args, key, type(getattr(args, key))(value))
    chosen = [x.strip() for x in args.only.split(",") if x.strip()]
    unknown = [x for x in chosen if x not in SECTIONS]
    if unknown:
        ap.error(f"unknown section(s) {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
    work = Path(tempfile.mkdtemp(prefix="exaop-soak-"))
    print(f"exaop soak: seed {args.seed}, {os.cpu_count()} cores, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; state dirs in {work}", flush=True)  # fmt: skip
    results: list[Section] = []
    broken = []
    try:
        for name in chosen:
            print(f"-- {name} ...", file=sys.stderr, flush=True)
            try:
                sec = run_section(name, args, work)
            except Exception:  # noqa: BLE001 - the harness broke: say where, run the other sections
                broken.append(name)
                print(f"== {name}: the harness broke:\n{traceback.format_exc()}", flush=True)
                continue
            results.append(sec)
            print(sec.report(), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print(f"{'section':<8} {'cases':>8} {'failures':>9}  by kind")
    for sec in results:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(sec.counts.items())) or "-"
        print(f"{sec.name:<8} {sec.cases:>8} {sec.failures:>9}  {kinds}")
    for name in broken:
        print(f"{name:<8} {'-':>8} {'-':>9}  the harness broke (see above)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
