"""XML-RPC throughput of `exaop serve` against the stdlib server and the HTTP stack's ceiling.

One run measures requests/second and p50/p99 latency of an authenticated
``getDatabaseState()`` on ``/cluster1/db_exa_db1`` at 1, 16 and 64 concurrent keep-alive
clients, with load from ``wrk --latency`` (a Lua script POSTs the XML-RPC body with a Basic
Authorization header). Every server runs pinned to one core (``taskset -c 0``), wrk to the
other (``taskset -c 1``), all on 127.0.0.1. Servers:

- ``exaop``: ``exaop serve --http --speed 0`` (manual clock: nothing changes during the run);
- ``stdlib-1.0``: ``xmlrpc.server.SimpleXMLRPCServer`` + ``ThreadingMixIn`` as shipped
  (HTTP/1.0: a new connection per request), with a cheap check of a fixed Authorization header;
- ``stdlib-1.1``: the same with ``protocol_version = 'HTTP/1.1'`` (keep-alive);
- ``ceiling``: uvicorn + uvloop + httptools (our HTTP stack) with a raw ASGI callable answering
  a fixed, precomputed XML-RPC response: the targets' yardstick;
- ``ceiling-direct`` (for information): the same stack with uvicorn's protocol answering the
  fixed response itself, without an ASGI task. exaop answers calls that way (a connection
  answers a logged-in client's call itself, see ``httpguard.DirectCalls``), so it can pass
  ``ceiling``; this is what that path could reach with no work at all.

Targets: at 64 clients, exaop does at least 0.6 of the ceiling's req/s measured in the same
run, with p99 under 10 ms — with the same body every time (``exaop``, what polling clients
send) and with a different body on every request (``exaop-varied``: the same call, its
whitespace spelling out a counter, so no cache of parsed bodies helps).

The large-log point (``--log-point``, on by default) serves a 1,000-node cluster whose log
holds over 8,000 entries and measures ``logEntries()`` (the newest 5,000) and
``logEntriesTagged(tag)`` with a new tag on every call (the oldest 5,000) at 1 and 4
clients: target p99 under 50 ms for a page of 5,000 entries.

    .venv/bin/python bench/rpc_throughput.py [--duration 6] [--warmup 1] [--check]

The stdlib and ceiling servers are this same file: ``--serve stdlib10|stdlib11|ceiling --port P``.
"""

from __future__ import annotations

import argparse
import base64
import os
import platform
import queue
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import xmlrpc.client
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
PATH = "/cluster1/db_exa_db1"
METHOD = "getDatabaseState"
ANSWER = "setup"
CLIENTS = (1, 16, 64)
TARGET_RATIO = 0.6
TARGET_P99_MS = 10.0
BENCH_USER = "admin"
#: credentials the stdlib servers accept (a fixed header, compared cheaply)
STDLIB_PASSWORD = "bench-password"
REQUEST_BODY = xmlrpc.client.dumps((), METHOD).encode()
RESPONSE_BODY = xmlrpc.client.dumps((ANSWER,), methodresponse=True, allow_none=True).encode()


def basic(login: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


# -- the servers under test (run as `--serve KIND --port P`) ---------------------------------


def serve_stdlib(port: int, keep_alive: bool) -> None:
    import socketserver
    from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer

    expected = basic(BENCH_USER, STDLIB_PASSWORD)

    class Handler(SimpleXMLRPCRequestHandler):
        rpc_paths = (PATH,)

        def parse_request(self) -> bool:
            if not super().parse_request():
                return False
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="bench"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                self.close_connection = True
                return False
            return True

    if keep_alive:
        Handler.protocol_version = "HTTP/1.1"

    class Server(socketserver.ThreadingMixIn, SimpleXMLRPCServer):
        daemon_threads = True

    server = Server((HOST, port), requestHandler=Handler, logRequests=False, allow_none=True)
    server.register_function(lambda: ANSWER, METHOD)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    print(f"ready on {HOST}:{port}", flush=True)
    with server:
        server.serve_forever()


def serve_ceiling(port: int, direct: bool = False) -> None:
    import uvicorn
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    headers = [(b"content-type", b"text/xml; charset=utf-8"), (b"content-length", str(len(RESPONSE_BODY)).encode())]
    start = {"type": "http.response.start", "status": 200, "headers": headers}
    body = {"type": "http.response.body", "body": RESPONSE_BODY}

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return
        more = True
        while more:  # read the request body, as any real handler must
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            more = message.get("more_body", False)
        await send(start)
        await send(body)

    answer = b"".join((b"HTTP/1.1 200 OK\r\n", *(n + b": " + v + b"\r\n" for n, v in headers), b"\r\n", RESPONSE_BODY))

    class Direct(HttpToolsProtocol):  # the request is read as usual; the connection answers it
        def on_headers_complete(self) -> None:
            pass

        def on_body(self, body: bytes) -> None:
            pass

        def on_message_complete(self) -> None:
            self.transport.write(answer)

    config = uvicorn.Config(
        app,
        host=HOST,
        port=port,
        http=Direct if direct else "httptools",
        loop="uvloop",
        lifespan="off",
        access_log=False,
        log_level="warning",
        timeout_keep_alive=30,
    )
    server = uvicorn.Server(config)
    real_startup = server.startup

    async def startup(sockets=None):  # type: ignore[no-untyped-def]
        await real_startup(sockets)
        print(f"ready on {HOST}:{port}", flush=True)

    server.startup = startup  # type: ignore[method-assign]
    server.run()


# -- running servers and wrk ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class Proc:
    """A server subprocess; ``ready`` waits for its readiness line on stdout."""

    def __init__(self, argv: list[str], log: Path) -> None:
        self.log = log
        self._err = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self._err, text=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.p.stdout is not None
        for line in self.p.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def ready(self, pattern: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            if m := re.search(pattern, line):
                return m.group(0)
        self.stop()
        tail = self.log.read_text(errors="replace")[-2000:]
        raise SystemExit(f"server {self.p.args} did not report readiness ({pattern!r}); stderr:\n{tail}")

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)
        self._err.close()


@dataclass
class Result:
    server: str
    clients: int
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: str  # socket errors / non-2xx, empty when none


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not m:
        raise ValueError(f"cannot read wrk time {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_wrk(server: str, clients: int, out: str) -> Result:
    def grab(pattern: str) -> str:
        m = re.search(pattern, out, re.MULTILINE)
        if not m:
            raise SystemExit(f"cannot parse wrk output ({pattern!r}):\n{out}")
        return m.group(1)

    errors = []
    if m := re.search(r"Socket errors: (.*)$", out, re.MULTILINE):
        errors.append("socket errors: " + m.group(1))
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors.append(f"non-2xx: {m.group(1)}")
    return Result(
        server,
        clients,
        rps=float(grab(r"^Requests/sec:\s+([\d.]+)")),
        p50_ms=_ms(grab(r"^\s+50%\s+(\S+)")),
        p99_ms=_ms(grab(r"^\s+99%\s+(\S+)")),
        requests=int(grab(r"^\s+(\d+) requests in")),
        errors="; ".join(errors),
    )


def lua_script(authorization: str, body: bytes = REQUEST_BODY, vary: str = "") -> str:
    """wrk's script for one XML-RPC call: the same body every time, or a new one on every
    request. ``vary="whitespace"``: the call's whitespace spells out a counter (2^20
    distinct bodies of one length, the same call), so no cache of parsed bodies can help;
    ``vary="counter"``: ``%d`` in the body becomes the counter (a new log tag each call)."""
    text = body.decode().replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    script = (
        'wrk.method = "POST"\n'
        f'wrk.body = "{text}"\n'
        'wrk.headers["Content-Type"] = "text/xml"\n'
        f'wrk.headers["Authorization"] = "{authorization}"\n'
    )
    if not vary:
        return script
    if vary == "whitespace":
        head, tail = text.split("<methodName>", 1)
        tail = "<methodName>" + tail
        made = (
            "  local n, ws = counter, {}\n"
            "  for i = 1, 20 do\n"
            '    if n % 2 == 1 then ws[i] = "\\n" else ws[i] = " " end\n'
            "    n = math.floor(n / 2)\n"
            "  end\n"
            "  local made = table.concat(ws)\n"
        )
    else:
        head, tail = text.split("%d", 1)
        made = "  local made = counter\n"
    return script + (
        "counter = 0\n"
        "request = function()\n"
        "  counter = counter + 1\n"
        f"{made}"
        f'  return wrk.format(nil, nil, nil, "{head}" .. made .. "{tail}")\n'
        "end\n"
    )


def run_wrk(wrk_cpu: str, script: Path, url: str, clients: int, seconds: float) -> str:
    argv = ["taskset", "-c", wrk_cpu, "wrk", "-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s",
            "--timeout", "10s", "--latency", "-s", str(script), url]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stderr}{done.stdout}")
    return done.stdout


def check_answers(url: str, authorization: str, auth_checked: bool) -> None:
    """One real call must answer 'setup'; without credentials it must be refused with 401."""

    def post(headers: dict[str, str]) -> tuple[int, bytes]:
        req = urllib.request.Request(url, REQUEST_BODY, {"Content-Type": "text/xml", **headers}, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    status, body = post({"Authorization": authorization})
    if status != 200 or xmlrpc.client.loads(body)[0] != (ANSWER,):
        raise SystemExit(f"{url}: unexpected answer {status} {body[:300]!r}")
    if auth_checked:
        status, _ = post({})
        if status != 401:
            raise SystemExit(f"{url}: a call without credentials got {status}, not 401")


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    print("wrk not found: installing Debian's wrk (apt-get update; apt-get install -y wrk)", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "update"], check=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "install", "-y", "wrk"], check=True, env=env)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is still missing after apt-get install")


def _cpu_times() -> dict[str, tuple[int, int]]:
    """Per core: (idle + iowait jiffies, all jiffies), from /proc/stat."""
    out = {}
    try:
        with open("/proc/stat") as f:
            for line in f:
                if line.startswith("cpu") and line[3].isdigit():
                    name, *fields = line.split()
                    values = [int(v) for v in fields]
                    out[name] = (values[3] + values[4], sum(values))
    except OSError:
        pass
    return out


def wait_quiet(limit: float, cpus: list[str], threshold: float = 0.9) -> str:
    """Wait up to ``limit`` seconds for the cores to be idle (other work skews the figures).

    Returns how idle they were over the last 2 s, e.g. ``cpu0 99% cpu1 97% idle``.
    """
    deadline = time.monotonic() + limit
    while True:
        before = _cpu_times()
        time.sleep(2)
        after = _cpu_times()
        idle = {c: (after[c][0] - before[c][0]) / max(1, after[c][1] - before[c][1]) for c in cpus if c in after}
        text = " ".join(f"{c} {v:.0%}" for c, v in idle.items()) + " idle"
        if all(v >= threshold for v in idle.values()) or time.monotonic() >= deadline:
            return text if all(v >= threshold for v in idle.values()) else text + " (busy: figures skewed)"


def versions() -> str:
    out = [f"python {platform.python_version()}"]
    for mod in ("uvicorn", "uvloop", "httptools"):
        try:
            out.append(f"{mod} {__import__(mod).__version__}")
        except ImportError:
            out.append(f"{mod} missing")
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    out.append((wrk.stdout + wrk.stderr).split("[")[0].strip() or "wrk ?")
    return ", ".join(out)


def measure(args: argparse.Namespace) -> int:
    ensure_wrk()
    if not shutil.which("taskset"):
        raise SystemExit("taskset (util-linux) is needed to pin the server and wrk")
    cores = os.cpu_count() or 1
    if cores < 2:
        print(f"warning: only {cores} core(s); server and wrk will share it", file=sys.stderr)
    me = str(Path(__file__).resolve())
    print(f"versions: {versions()}")
    print(f"pinning: server `taskset -c {args.server_cpu}`, wrk `taskset -c {args.wrk_cpu}` (wrk -t1), "
          f"{cores} cores; load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    print(f"each point: {args.warmup:g} s warm-up, then {args.duration:g} s; POST {PATH} {METHOD}()", flush=True)

    password = secrets.token_urlsafe(12)
    servers = {
        "exaop": basic(BENCH_USER, password),
        "exaop-varied": basic(BENCH_USER, password),
        "ceiling": basic(BENCH_USER, STDLIB_PASSWORD),
        "ceiling-direct": basic(BENCH_USER, STDLIB_PASSWORD),
        "stdlib-1.1": basic(BENCH_USER, STDLIB_PASSWORD),
        "stdlib-1.0": basic(BENCH_USER, STDLIB_PASSWORD),
    }
    chosen = [s for s in servers if s in args.servers]
    pin = ["taskset", "-c", args.server_cpu]
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="exaop-bench-") as tmp:
        tmpdir = Path(tmp)
        for name in chosen:
            port = free_port()
            if name.startswith("exaop"):
                state = str(tmpdir / "state")
                argv = [*pin, sys.executable, "-m", "exaop.cli", "serve", "--http", "--host", HOST, "--port",
                        str(port), "--state-dir", state, "--admin-password", password, "--speed", "0",
                        "--no-confd"]  # fmt: skip
                ready = r"exaop listening on \S+"
            else:
                kind = {"ceiling": "ceiling", "ceiling-direct": "ceiling-direct", "stdlib-1.1": "stdlib11",
                        "stdlib-1.0": "stdlib10"}[name]  # fmt: skip
                argv = [*pin, sys.executable, me, "--serve", kind, "--port", str(port)]
                ready = r"ready on \S+"
            quiet = wait_quiet(args.wait_quiet, [f"cpu{args.server_cpu}", f"cpu{args.wrk_cpu}"])
            print(f"  {name}: before start, {quiet}", flush=True)
            proc = Proc(argv, tmpdir / f"{name}.stderr")
            try:
                proc.ready(ready)
                url = f"http://{HOST}:{port}{PATH}"
                check_answers(url, servers[name], auth_checked=not name.startswith("ceiling"))
                script = tmpdir / f"{name}.lua"
                script.write_text(lua_script(servers[name], vary="whitespace" if name == "exaop-varied" else ""))
                for clients in args.clients:
                    if args.warmup > 0:
                        run_wrk(args.wrk_cpu, script, url, clients, args.warmup)
                    r = parse_wrk(name, clients, run_wrk(args.wrk_cpu, script, url, clients, args.duration))
                    results.append(r)
                    print(f"  {name:<11} {clients:>3} clients: {r.rps:>9.0f} req/s  p50 {r.p50_ms:8.2f} ms  "
                          f"p99 {r.p99_ms:8.2f} ms  {r.errors}", flush=True)  # fmt: skip
                if proc.p.poll() is not None:
                    raise SystemExit(f"{name} died during the run: {proc.log.read_text(errors='replace')[-2000:]}")
            finally:
                proc.stop()
        if args.log_point:
            results += log_point(args, tmpdir, pin, me)
    return report(results, args)


LOG_NODES = 1000
LOG_TARGET_P99_MS = 50.0


def log_point(args: argparse.Namespace, tmpdir: Path, pin: list[str], me: str) -> list[Result]:
    """logEntries / logEntriesTagged pages of 5,000 entries on a 1,000-node cluster."""
    sys.path.insert(0, str(Path(me).parent))
    from lifecycle import profile_toml  # the lifecycle bench's cluster of any size

    profile = tmpdir / "logs.toml"
    profile.write_text(profile_toml(LOG_NODES, 1))
    password = secrets.token_urlsafe(12)
    port = free_port()
    argv = [*pin, sys.executable, "-m", "exaop.cli", "serve", "--http", "--host", HOST, "--port", str(port),
            "--state-dir", str(tmpdir / "state-logs"), "--admin-password", password, "--speed", "0",
            "--profile", str(profile), "--no-confd"]  # fmt: skip
    quiet = wait_quiet(args.wait_quiet, [f"cpu{args.server_cpu}", f"cpu{args.wrk_cpu}"])
    print(f"  large log: {LOG_NODES} nodes; before start, {quiet}", flush=True)
    proc = Proc(argv, tmpdir / "logs.stderr")
    results = []
    try:
        proc.ready(r"exaop listening on \S+")
        base = f"http://{BENCH_USER}:{password}@{HOST}:{port}/cluster1"
        cluster = xmlrpc.client.ServerProxy(base)
        sim = xmlrpc.client.ServerProxy(base + "/simulation")
        nodes = cluster.getNodeList()
        t0 = time.monotonic()
        for _ in range(2):  # each cycle logs four lines per node: booting, booted, shutting down, off
            for n in nodes:
                cluster.startupNode(n)
            sim.advanceClock(600)
            for n in nodes:
                cluster.shutdownNode(n)
            sim.advanceClock(600)
        logs = xmlrpc.client.ServerProxy(base + "/logservice1")
        page = len(logs.logEntries()[2])
        print(
            f"  large log: {8 * len(nodes)} node messages logged in {time.monotonic() - t0:.1f} s; "
            f"a logEntries page holds {page} entries",
            flush=True,
        )
        auth = basic(BENCH_USER, password)
        url = f"http://{HOST}:{port}/cluster1/logservice1"
        calls = {
            "logEntries": lua_script(auth, xmlrpc.client.dumps((), "logEntries").encode()),
            "logEntriesTagged": lua_script(auth, xmlrpc.client.dumps(("bench-%d",), "logEntriesTagged").encode(),
                                           vary="counter"),
        }  # fmt: skip
        for name, text in calls.items():
            script = tmpdir / f"{name}.lua"
            script.write_text(text)
            for clients in (1, 4):
                if args.warmup > 0:
                    run_wrk(args.wrk_cpu, script, url, clients, args.warmup)
                r = parse_wrk(name, clients, run_wrk(args.wrk_cpu, script, url, clients, args.duration))
                results.append(r)
                print(f"  {name:<16} {clients:>3} clients: {r.rps:>7.0f} pages/s  p50 {r.p50_ms:8.2f} ms  "
                      f"p99 {r.p99_ms:8.2f} ms  {r.errors}", flush=True)  # fmt: skip
    finally:
        proc.stop()
    return results


def report(results: list[Result], args: argparse.Namespace) -> int:
    by = {(r.server, r.clients): r for r in results}
    print()
    print(f"{'server / call':<16} {'clients':>7} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>9}  notes")
    for r in results:
        note = r.errors
        if (r.server.startswith("exaop") or r.server == "ceiling-direct") and ("ceiling", r.clients) in by:
            top = by[("ceiling", r.clients)].rps
            note = f"{r.rps / top:.2f} x ceiling" + (f"; {note}" if note else "")
        print(f"{r.server:<16} {r.clients:>7} {r.rps:>9.0f} {r.p50_ms:>8.2f} {r.p99_ms:>9.2f}  {note}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    ceiling = by.get(("ceiling", 64))
    judged = [by[(name, 64)] for name in ("exaop", "exaop-varied") if (name, 64) in by]
    passed = True
    if ceiling is None or not judged:
        print("target: the ratio is not judged (needs exaop and ceiling at 64 clients)")
        judged = []
    for ours in judged:
        assert ceiling is not None
        ratio = ours.rps / ceiling.rps
        ok_ratio, ok_p99 = ratio >= TARGET_RATIO, ours.p99_ms < TARGET_P99_MS
        print(f"target at 64 clients: {ours.server}/ceiling = {ours.rps:.0f}/{ceiling.rps:.0f} = {ratio:.2f} "
              f"(>= {TARGET_RATIO}) {'PASS' if ok_ratio else 'MISS'}; "
              f"p99 {ours.p99_ms:.2f} ms (< {TARGET_P99_MS:g} ms) {'PASS' if ok_p99 else 'MISS'}")  # fmt: skip
        passed = passed and ok_ratio and ok_p99 and not ours.errors
    for r in results:
        if r.server.startswith("logEntries"):
            ok = r.p99_ms < LOG_TARGET_P99_MS and not r.errors
            print(f"target, pages of 5,000 entries: {r.server} at {r.clients} client(s) p99 {r.p99_ms:.2f} ms "
                  f"(< {LOG_TARGET_P99_MS:g} ms) {'PASS' if ok else 'MISS'}")  # fmt: skip
            passed = passed and ok
    print(f"overall: {'PASS' if passed else 'MISS'}")
    return 0 if passed or not args.check else 1


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=float, default=6.0, help="seconds measured per point (default 6)")
    p.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds before each point (default 1; 0: none)")
    p.add_argument("--clients", type=lambda s: [int(x) for x in s.split(",")], default=list(CLIENTS),
                   help="concurrent connections, comma-separated (default 1,16,64)")  # fmt: skip
    p.add_argument("--servers", type=lambda s: s.split(","),
                   default=["exaop", "exaop-varied", "ceiling", "ceiling-direct", "stdlib-1.1", "stdlib-1.0"],
                   help="which servers, comma-separated (default exaop,exaop-varied,ceiling,ceiling-direct,"
                   "stdlib-1.1,stdlib-1.0; exaop-varied: exaop with a different body on every request)")  # fmt: skip
    p.add_argument("--server-cpu", default="0", help="core for the server (default 0)")
    p.add_argument("--wrk-cpu", default="1", help="core for wrk (default 1)")
    p.add_argument("--wait-quiet", type=float, default=30.0,
                   help="before each server, wait up to this long for idle cores (default 30 s)")  # fmt: skip
    p.add_argument("--no-log-point", dest="log_point", action="store_false",
                   help="skip the large-log point (logEntries pages on a 1,000-node cluster)")  # fmt: skip
    p.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    p.add_argument("--serve", choices=["stdlib10", "stdlib11", "ceiling", "ceiling-direct"], help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        if args.serve.startswith("ceiling"):
            serve_ceiling(args.port, direct=args.serve == "ceiling-direct")
        else:
            serve_stdlib(args.port, keep_alive=args.serve == "stdlib11")
        return 0
    return measure(args)


if __name__ == "__main__":
    sys.exit(main())
