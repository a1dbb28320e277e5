"""Cold start and full stop: the lifecycle tool against the seed article's snippets.

For clusters of 4, 100 and 1,000 database nodes, each with 1 and with 10 databases, this
prints the simulated duration of a cold start and of a full stop divided by the critical
path, and the number of XML-RPC calls made, for

- the tool (``exaop.ops``) on a manual-clock server (``exaop serve --speed 0``) with
  ``SimulationClock``: its sleeps move the server's clock, so RPC time costs no simulated
  time and the ratio measures the procedure itself;
- the tool driving the same server's ConfD face (``ConfdBackend``: jobs instead of
  EXAoperation's calls, no log feed, no plugins), on the manual clock as well; its stop is
  done when ConfD's ``node_state`` reads every node ``offline`` (the node has left the
  cluster; ConfD does not show its machine's power going off), so its stop ratio can be
  below 1;
- the tool on a running clock (``--speed SPEED``, ``ScaledClock``), like for like with
- the seed article's snippets, run as a procedure (startup steps 1-5, with the article's
  advice between steps 2 and 3: follow logservice1 until every node logged 'Boot process
  finished'; shutdown steps 1-3). They busy-loop without sleeping, so they need a running
  clock, and their call count and ratio depend on SPEED.

The critical path is computed from the durations the server actually drew (every duration
has jitter), read back from logservice1 after the run (the license server switched on
again on a manual clock, so shutdowns still under way end): start = slowest node boot +
storage start + slowest database start (start + connect); stop = slowest database stop +
storage stop + slowest node shutdown. Durations are simulated time: the tool's phases
(its stop until the database nodes are off: shutting the license server down ends
EXAoperation at once, and the critical path leaves it out too); for the seed getClock
before and after, and for its stop the moment the last node was off (it never waits).

SPEED (default 60, a simulated minute per second) keeps the whole run near 5 minutes on
two cores. The seed's busy loops make about as many calls per *real* second whatever the
speed, so its call count for the waits scales with 1/SPEED: on a real cluster (speed 1)
they would be about 60 times those printed here; its calls once per node do not change.
Its ratio includes its sequential calls (at x60 one millisecond of RPC is 0.06 s).

The generated profile: one Data volume over all nodes; databases ``db01``..``db10`` on
ports 8563.., each on *all* nodes with one reserve node (like the built-in profile), all
shown in logservice1; the vmware-tools plugin of the article's step 5 (the tool runs the
same plugin step: restart it on n0010, then start it wherever it is not running).

Targets (issue 3): ratio <= 1.05 at every size; the tool's calls <= 1/10 of the seed's.
Below each table, a note says why a target was missed (calls by method, phases).

    .venv/bin/python bench/lifecycle.py [--quick] [--speed 60]

Every server is a subprocess on 127.0.0.1; the seed's snippets run in a child process
(``--seed-child``) that is killed at its deadline, since their loops have no timeout.
"""

from __future__ import annotations

import argparse
import calendar
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import xmlrpc.client
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.integration import seed_snippets as seed  # noqa: E402
from tests.serverproc import ADMIN_PASSWORD, TLS, ServerProcess  # noqa: E402

from exaop.client import ExaClient  # noqa: E402
from exaop.client.backend import Backend  # noqa: E402
from exaop.client.confd import ConfdBackend  # noqa: E402
from exaop.client.exaoperation import ExaOperationBackend  # noqa: E402
from exaop.ops.clock import ScaledClock, SimulationClock, ToolClock  # noqa: E402
from exaop.ops.config import Options, PluginStep  # noqa: E402
from exaop.ops.run import Summary  # noqa: E402
from exaop.ops.start import start_cluster  # noqa: E402
from exaop.ops.stop import stop_cluster  # noqa: E402

SIZES = ((4, 1), (4, 10), (100, 1), (100, 10), (1000, 1), (1000, 10))
QUICK_SIZES = ((4, 1), (4, 10), (100, 1), (100, 10))
DEFAULT_SPEED = 60.0
SCALED_TOOL_MAX_NODES = 1000  # the tool on the running clock too, up to this size
TARGET_RATIO = 1.05
TARGET_CALLS = 0.1
PLUGIN = "Administration.vmware-tools"
LICENSE_SERVER = "n0010"
FIRST_NODE = 11

DURATIONS = {  # value, jitter (simulated seconds): every duration varies, as on real hardware
    "node_boot": (240, 30),
    "node_shutdown": (40, 10),
    "storage_start": (45, 5),
    "storage_stop": (15, 3),
    "database_start": (100, 10),
    "database_connect": (5, 1),
    "database_stop": (40, 5),
    "database_force_stop": (5, 0),
    "database_backup": (600, 0),
    "exaoperation_restart": (20, 0),
}


# -- the cluster ------------------------------------------------------------------------------


def db_names(dbs: int) -> list[str]:
    return [f"db{i:02d}" for i in range(1, dbs + 1)]


def node_names(nodes: int) -> list[str]:
    return [f"n{FIRST_NODE + i:04d}" for i in range(nodes)]


def profile_toml(nodes: int, dbs: int) -> str:
    names = node_names(nodes)
    all_nodes = json.dumps(names)
    lines = [
        "[cluster]",
        'name = "cluster1"',
        f'description = "bench: {nodes} nodes, {dbs} database(s)"',
        'private_network = "10.50.0.0/16"',
        f'exaoperation_nodes = ["{LICENSE_SERVER}"]',
        "",
        "[durations]",
        *(f"{k} = {{ value = {v}, jitter = {j} }}" for k, (v, j) in DURATIONS.items()),
        "",
        "[[license_servers]]",
        f'name = "{LICENSE_SERVER}"',
        "",
        "[nodes]",
        f"count = {nodes}",
        f"first = {FIRST_NODE}",
        "",
        "[[volumes]]",
        'id = "v0000"',
        'type = "Data"',
        f"size_gib = {max(1024, 64 * nodes)}",
        f"redundancy = {2 if nodes > 1 else 1}",
        f"nodes = {all_nodes}",
    ]
    for i, name in enumerate(db_names(dbs)):
        lines += [
            "",
            "[[databases]]",
            f'name = "{name}"',
            f"port = {8563 + i}",
            f"nodes = {all_nodes}",
            f"active = {max(1, nodes - 1)}",
            'volume = "v0000"',
            "memory_gib = 64",
            "created = true",
        ]
    lines += [
        "",
        "[[logservices]]",
        'name = "logservice1"',
        'priority = "Information"',
        'services = ["EXAoperation", "DWAd", "Lockd", "Load", "Storage", "Authentication"]',
        f"databases = {json.dumps(db_names(dbs))}",
        "",
        "[[plugins]]",
        f'name = "{PLUGIN}"',
        'daemon = "vmtoolsd"',
    ]
    return "\n".join(lines) + "\n"


# -- reading back what the server drew --------------------------------------------------------


def parse_strtime(text: str) -> float:
    whole, _, frac = text.partition(".")
    return calendar.timegm(time.strptime(whole, "%Y-%m-%d %H:%M:%S")) + int(frac or 0) / 1000


def read_log(srv: ServerProcess) -> list[tuple[float, str, str]]:
    """Every message of logservice1 since the cluster was created: (time, node, message)."""
    svc = srv.proxy("/cluster1/logservice1")
    tag = f"bench-{uuid.uuid4().hex[:8]}"
    out: list[tuple[float, str, str]] = []
    for _ in range(1000):
        batch = svc.logEntriesTagged(tag)[2]
        if not batch:
            return out
        out += [(parse_strtime(e["strtime"]), e["node"], e["message"]) for e in batch]
    raise RuntimeError("logservice1 kept answering")


@dataclass
class Drawn:
    """The slowest durations the server drew, and the critical paths they make."""

    boot: float
    storage_start: float
    db_start: float  # start + connect
    db_stop: float
    storage_stop: float
    shutdown: float
    nodes_off_at: float  # when the last database node was powered off

    @property
    def start(self) -> float:
        return self.boot + self.storage_start + self.db_start

    @property
    def stop(self) -> float:
        return self.db_stop + self.storage_stop + self.shutdown


def drawn_from_log(entries: list[tuple[float, str, str]], nodes: list[str], dbs: list[str]) -> Drawn:
    wanted, dbset = set(nodes), set(dbs)
    marks: dict[str, dict[str, float]] = {}

    def mark(kind: str, key: str, t: float) -> None:
        marks.setdefault(kind, {})[key] = t

    for t, node, msg in entries:
        words = msg.split()
        if node in wanted and msg == f"Node {node} is booting":
            mark("boot0", node, t)
        elif node in wanted and msg.startswith("Boot process finished after"):
            mark("boot1", node, t)
        elif node in wanted and msg == f"Node {node} is shutting down":
            mark("off0", node, t)
        elif node in wanted and msg == f"Node {node} is powered off":
            mark("off1", node, t)
        elif msg.startswith("EXAStorage is starting on"):
            mark("st0", "", t)
        elif msg == "EXAStorage is online":
            mark("st1", "", t)
        elif msg == "EXAStorage is stopping":
            mark("sts0", "", t)
        elif msg == "EXAStorage stopped":
            mark("sts1", "", t)
        elif len(words) > 2 and words[0] == "Database" and words[1] in dbset:
            rest = " ".join(words[2:])
            kind = {"is shutting down": "dbs0", "is shut down": "dbs1"}.get(rest)
            if rest.startswith("is starting on"):
                kind = "db0"
            elif rest.startswith("is accepting connections"):
                kind = "db1"
            if kind:
                mark(kind, words[1], t)

    def slowest(begin: str, end: str, keys: set[str] | None = None) -> float:
        b, e = marks.get(begin, {}), marks.get(end, {})
        expect = keys if keys is not None else {""}
        missing = sorted((expect - set(b)) | (expect - set(e)))
        if missing:
            raise RuntimeError(f"the log lacks {begin}/{end} for {', '.join(missing[:5]) or 'storage'}")
        return max(e[k] - b[k] for k in expect)

    return Drawn(
        boot=slowest("boot0", "boot1", wanted),
        storage_start=slowest("st0", "st1"),
        db_start=slowest("db0", "db1", dbset),
        db_stop=slowest("dbs0", "dbs1", dbset),
        storage_stop=slowest("sts0", "sts1"),
        shutdown=slowest("off0", "off1", wanted),
        nodes_off_at=max(marks["off1"][n] for n in wanted),
    )


def drawn_after_halt(state: Path) -> Drawn:
    """Switch the license server on again (manual clock), let pending shutdowns end, read the log."""
    srv = ServerProcess(state, speed=0).start()
    try:
        srv.proxy("/cluster1/simulation").advanceClock(3600)
        entries = read_log(srv)
        nodes = srv.proxy().getNodeList()
        dbs = srv.proxy().getDatabaseList()
    finally:
        srv.stop()
    return drawn_from_log(entries, nodes, dbs)


# -- the tool ---------------------------------------------------------------------------------


class CountingClient(ExaClient):
    """ExaClient that also counts calls per method (Summary.calls stays the figure reported)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.by_method: Counter[str] = Counter()

    def call(self, path: str, method: str, *args: Any, **kwargs: Any) -> Any:
        with self._lock:  # a ConfD job by its name
            self.by_method[str(args[0]) if method in ("job_exec", "job_start") and args else method] += 1
        return super().call(path, method, *args, **kwargs)


@dataclass
class Result:
    """One procedure pair (start, stop) of one contender on one cluster."""

    start_seconds: float = 0.0
    stop_seconds: float = 0.0
    start_calls: int = 0
    stop_calls: int = 0
    drawn: Drawn | None = None
    wall: float = 0.0
    start_methods: Counter[str] = field(default_factory=Counter)
    stop_methods: Counter[str] = field(default_factory=Counter)
    phases: str = ""  # the tool's phases in simulated seconds, for a look at a missed target

    @property
    def start_ratio(self) -> float:
        return self.start_seconds / self.drawn.start if self.drawn else float("nan")

    @property
    def stop_ratio(self) -> float:
        return self.stop_seconds / self.drawn.stop if self.drawn else float("nan")


def new_server(work: Path, label: str, nodes: int, dbs: int, speed: float) -> ServerProcess:
    state = work / label
    profile = work / f"{label}.toml"
    profile.write_text(profile_toml(nodes, dbs))
    return ServerProcess(state, speed=speed, extra=["--profile", str(profile)]).start(timeout=60)


def run_tool(work: Path, nodes: int, dbs: int, speed: float, confd: bool = False) -> Result:
    """speed 0: manual clock with SimulationClock; else --speed with ScaledClock. ``confd``:
    through the server's ConfD face."""
    label = f"tool-{'confd-' if confd else ''}{'sim' if speed == 0 else f'x{speed:g}'}-{nodes}-{dbs}"
    res = Result()
    w0 = time.monotonic()
    srv = new_server(work, label, nodes, dbs, speed)
    try:
        ca = str(srv.state_dir / "tls" / "ca.pem")
        url = srv.confd_url if confd else srv.url
        opts = Options(url=url, user="admin", password=ADMIN_PASSWORD, ca_file=ca, api="confd" if confd else None)
        if not confd:  # ConfD has no plugins
            opts.plugins = [PluginStep(PLUGIN, restart_on=[LICENSE_SERVER])]  # the article's step 5
        client = CountingClient(url, "admin", ADMIN_PASSWORD, ca_file=ca, timeout=120,
                                default_path="" if confd else "/cluster1")  # fmt: skip
        backend: Backend = ConfdBackend(client) if confd else ExaOperationBackend(client)
        clock: ToolClock
        if speed == 0:
            clock = SimulationClock(ExaClient(srv.url, "admin", ADMIN_PASSWORD, ca_file=ca))
        else:
            clock = ScaledClock(speed)
        summaries: list[Summary] = []
        for procedure in (start_cluster, stop_cluster):
            before = Counter(client.by_method)
            summary = procedure(backend, opts, clock)
            if not summary.ok:
                raise RuntimeError(f"{summary.procedure} failed: {summary.error}")
            summaries.append(summary)
            methods = client.by_method - before
            if summary.procedure == "start":
                res.start_methods = methods
            else:
                res.stop_methods = methods
        start, stop = summaries
        res.start_seconds = sum(p.clock_seconds for p in start.phases)
        # the stop is done once the database nodes are off; shutting the license server down
        # ends EXAoperation at once (and the critical path leaves it out as well)
        res.stop_seconds = sum(p.clock_seconds for p in stop.phases if p.name != "license_servers")
        res.start_calls, res.stop_calls = start.calls, stop.calls
        res.phases = " ".join(f"{p.name} {p.clock_seconds:.1f}" for p in (*start.phases, *stop.phases))
        if not confd:  # EXAoperation ended with its license server; ConfD leaves it on
            srv.wait_exit(30)
    finally:
        srv.stop()
    res.drawn = drawn_after_halt(srv.state_dir)
    res.wall = time.monotonic() - w0
    return res


# -- the seed's snippets, in a child process ----------------------------------------------------


def run_seed(work: Path, nodes: int, dbs: int, speed: float, deadline: float) -> Result:
    label = f"seed-x{speed:g}-{nodes}-{dbs}"
    res = Result()
    w0 = time.monotonic()
    srv = new_server(work, label, nodes, dbs, speed)
    try:
        cmd = [sys.executable, __file__, "--seed-child", "--base", srv.base(), "--deadline", str(deadline)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=deadline + 15)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"the seed's procedure did not finish within {deadline:.0f}s") from None
        if proc.returncode != 0:
            raise RuntimeError(f"the seed's procedure failed: {proc.stderr.strip()[-600:]}")
        report = json.loads(proc.stdout.strip().splitlines()[-1])
        srv.wait_exit(30)
    finally:
        srv.stop()
    res.drawn = drawn_after_halt(srv.state_dir)
    res.start_seconds = report["start_t1"] - report["start_t0"]
    res.stop_seconds = res.drawn.nodes_off_at - report["stop_t0"]  # the snippets never wait for it
    res.start_calls, res.stop_calls = report["start_calls"], report["stop_calls"]
    res.start_methods, res.stop_methods = Counter(report["start_methods"]), Counter(report["stop_methods"])
    res.phases = "steps ending at " + report["steps"]
    res.wall = time.monotonic() - w0
    return res


class _Counting(xmlrpc.client.SafeTransport):
    calls: Counter[str] = Counter()
    deadline = float("inf")

    def request(self, host: Any, handler: Any, request_body: Any, verbose: bool = False) -> Any:
        if time.monotonic() > _Counting.deadline:
            raise TimeoutError("the seed's procedure ran over its deadline")
        method = xmlrpc.client.loads(request_body)[1] or "?"
        _Counting.calls[method] += 1
        return super().request(host, handler, request_body, verbose)


def _counting_proxy(uri: str, context: Any = None, **kwargs: Any) -> xmlrpc.client.ServerProxy:
    return xmlrpc.client.ServerProxy(uri, transport=_Counting(context=context), **kwargs)


def seed_child(base: str, deadline: float) -> int:
    """Run startup 1-5 and shutdown 1-3 of the article; print one JSON line of figures."""
    _Counting.deadline = time.monotonic() + deadline
    sim = xmlrpc.client.ServerProxy(base + "/cluster1/simulation", context=TLS)  # not counted

    def now() -> float:
        return float(sim.getClock()["now"])

    ns: dict[str, Any] = {"ServerProxy": _counting_proxy, "ctx": TLS}
    out = io.StringIO()

    def run(snippet: str) -> None:
        with contextlib.redirect_stdout(out):
            exec(seed.adapt(snippet, base), ns)  # noqa: S102 - the article's own code

    report: dict[str, Any] = {"start_t0": now()}
    steps: list[str] = []

    def step(label: str, t0: float) -> None:
        steps.append(f"{label} {now() - t0:.1f}")

    t0 = report["start_t0"]
    for label, snippet in (("1", seed.STARTUP_1), ("2-power", seed.STARTUP_2_POWER),
                           ("2-check", seed.STARTUP_2_CHECK), ("2-log", seed.STARTUP_2_LOG)):  # fmt: skip
        run(snippet)
        step(label, t0)
    # the article: follow the log service until every node says 'Boot process finished'
    logservice, pending = ns["logservice"], set(ns["cluster"].getNodeList())
    while pending:
        for entry in logservice.logEntriesTagged("seed-bench")[2]:
            if entry["message"].startswith("Boot process finished after"):
                pending.discard(entry["node"])
    step("2-wait", t0)
    for label, snippet in (("3", seed.STARTUP_3), ("4", seed.STARTUP_4), ("5", seed.STARTUP_5)):
        run(snippet)
        step(label, t0)
    report["start_t1"] = now()
    report["start_methods"] = dict(_Counting.calls)
    report["start_calls"] = sum(_Counting.calls.values())
    started = out.getvalue().count("is accepting connections")
    if started != len(ns["cluster"].getDatabaseList()):
        raise SystemExit(f"only {started} database(s) accepted connections:\n{out.getvalue()[-2000:]}")
    _Counting.calls.clear()

    report["stop_t0"] = t0 = now()
    for label, snippet in (("1", seed.SHUTDOWN_1), ("2", seed.SHUTDOWN_2), ("3", seed.SHUTDOWN_3)):
        if label == "3":
            step("stop 2", t0)  # the last step ends EXAoperation: no clock after it
        elif label == "2":
            step("stop 1", t0)
        run(snippet)
    report["steps"] = " ".join(steps)
    report["stop_methods"] = dict(_Counting.calls)
    report["stop_calls"] = sum(_Counting.calls.values())
    print(json.dumps(report))
    return 0


# -- the report -------------------------------------------------------------------------------


@dataclass
class Case:
    nodes: int
    dbs: int
    sim: Result | None = None
    confd: Result | None = None
    scaled: Result | None = None
    seed: Result | None = None
    errors: list[str] = field(default_factory=list)


def figures(res: Result | None, which: str) -> tuple[float, int] | None:
    if res is None:
        return None
    return (res.start_ratio, res.start_calls) if which == "start" else (res.stop_ratio, res.stop_calls)


def verdict(tool: tuple[float, int] | None, seed: tuple[float, int] | None) -> str:
    if tool is None:
        return "MISS: the tool's run failed"
    misses = []
    if tool[0] > TARGET_RATIO:
        misses.append("ratio")
    if seed is None:
        misses.append("no seed figures")
    elif tool[1] > TARGET_CALLS * seed[1]:
        misses.append("calls")
    return "PASS" if not misses else "MISS: " + ", ".join(misses)


def table(cases: list[Case], which: str, speed: float) -> str:
    x = f"x{speed:g}"
    head = ["nodes", "dbs", "critical path", "tool ratio", "tool calls", "confd ratio", "confd calls",
            f"tool@{x} ratio", f"tool@{x} calls", f"seed@{x} ratio", "seed calls", "calls tool/seed",
            "verdict"]  # fmt: skip
    rows = [head]
    for c in cases:
        tool, scaled, sd = figures(c.sim, which), figures(c.scaled, which), figures(c.seed, which)
        confd = figures(c.confd, which)
        cp = "-"
        if c.sim is not None and c.sim.drawn is not None:
            cp = f"{c.sim.drawn.start if which == 'start' else c.sim.drawn.stop:.1f}s"
        cells = [str(c.nodes), str(c.dbs), cp]
        for f in (tool, confd, scaled, sd):
            cells += ["-", "-"] if f is None else [f"{f[0]:.3f}", str(f[1])]
        cells.append(f"{tool[1] / sd[1]:.3f}" if tool and sd and sd[1] else "-")
        cells.append(verdict(tool, sd))
        rows.append(cells)
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = []
    for i, r in enumerate(rows):
        last = len(r) - 1
        cells = [c.ljust(w) if j == last else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


PER_NODE = ("startupNode", "shutdownNode", "callPlugin")  # the article's steps once per node; no bulk form
LOOKS = ("getNodeState",)  # the tool looks at each node before it acts on it


def notes(cases: list[Case], which: str) -> list[str]:
    """Why a target was missed, from the calls by method and the phases."""
    out = []
    for c in cases:
        label = f"{c.nodes}x{c.dbs}"
        out += [f"{label}: {e}" for e in c.errors if e.startswith(which)]
        tool, sd = figures(c.sim, which), figures(c.seed, which)
        if c.sim is None or tool is None:
            continue
        methods = c.sim.start_methods if which == "start" else c.sim.stop_methods
        if sd is not None and c.seed is not None and tool[1] > TARGET_CALLS * sd[1]:
            seed_methods = c.seed.start_methods if which == "start" else c.seed.stop_methods
            budget = TARGET_CALLS * sd[1]
            shared = {m: min(methods[m], seed_methods[m]) for m in PER_NODE if min(methods[m], seed_methods[m])}
            floor = sum(shared.values())
            looks = sum(methods[m] for m in LOOKS)
            rest = tool[1] - floor - looks
            parts = ", ".join(f"{m} {k}" for m, k in shared.items())
            why = f"the article's per-node steps ({parts}) are {floor} calls"
            why = f"out of reach: {why} already" if floor > budget else why
            why += f"; the tool adds {looks} looks before acting and {rest} polls and other reads"
            out.append(f"{label}: calls: a tenth of the seed's {sd[1]} is {budget:.0f}; {why}")
        if tool[0] > TARGET_RATIO and c.sim.drawn is not None:
            out.append(f"{label}: ratio: {c.sim.phases} against {c.sim.drawn}")
    return out


def top_methods(methods: Counter[str], n: int = 6) -> str:
    return ", ".join(f"{m} {k}" for m, k in methods.most_common(n))


def describe(label: str, res: Result) -> None:
    """One run on stderr: figures, the calls by method, and where the time went."""
    log = sys.stderr
    print(f"   {label}: start {res.start_ratio:.3f} ({res.start_calls} calls), stop {res.stop_ratio:.3f} "
          f"({res.stop_calls} calls); {res.wall:.1f}s wall", file=log)  # fmt: skip
    print(f"      start calls: {top_methods(res.start_methods)}", file=log)
    print(f"      stop calls:  {top_methods(res.stop_methods)}", file=log)
    d = res.drawn
    if d is not None and (res.phases or max(res.start_ratio, res.stop_ratio) > TARGET_RATIO):
        print(f"      drawn: boot {d.boot:.1f} storage {d.storage_start:.1f} databases {d.db_start:.1f} | databases "
              f"{d.db_stop:.1f} storage {d.storage_stop:.1f} shutdown {d.shutdown:.1f}", file=log)  # fmt: skip
        if res.phases:
            print(f"      phases: {res.phases}", file=log)
    log.flush()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="4 and 100 nodes only")
    ap.add_argument("--speed", type=float, default=DEFAULT_SPEED,
                    help=f"clock speed for the seed and the scaled tool (default {DEFAULT_SPEED:g})")  # fmt: skip
    ap.add_argument("--no-seed", action="store_true", help="leave the seed's snippets out")
    ap.add_argument("--no-scaled", action="store_true", help="leave the tool on the running clock out")
    ap.add_argument("--no-confd", action="store_true", help="leave the tool on the ConfD face out")
    ap.add_argument("--sizes", help="e.g. 4x1,100x10 (nodes x databases)")
    ap.add_argument("--seed-child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--base", help=argparse.SUPPRESS)
    ap.add_argument("--deadline", type=float, default=300, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.seed_child:
        return seed_child(args.base, args.deadline)
    sizes: tuple[tuple[int, int], ...] = QUICK_SIZES if args.quick else SIZES
    if args.sizes:
        sizes = tuple(tuple(int(x) for x in s.split("x")) for s in args.sizes.split(","))  # type: ignore[misc]
    work = Path(tempfile.mkdtemp(prefix="exaop-bench-lifecycle-"))
    t0 = time.monotonic()
    cases: list[Case] = []
    try:
        for nodes, dbs in sizes:
            print(f"-- {nodes} nodes, {dbs} database(s)", file=sys.stderr, flush=True)
            case = Case(nodes, dbs)
            cases.append(case)
            runs = [("sim", "tool, manual clock", partial(run_tool, work, nodes, dbs, 0))]
            if not args.no_confd:
                runs.append(("confd", "tool on ConfD, manual clock", partial(run_tool, work, nodes, dbs, 0, True)))
            if nodes <= SCALED_TOOL_MAX_NODES and not args.no_scaled:
                runs.append(("scaled", f"tool, x{args.speed:g}", partial(run_tool, work, nodes, dbs, args.speed)))
            if not args.no_seed:
                runs.append(("seed", f"seed, x{args.speed:g}", partial(run_seed, work, nodes, dbs, args.speed, 240)))
            for attr, label, run in runs:
                try:
                    res = run()
                except Exception as e:  # noqa: BLE001 - reported in the table, the other runs go on
                    case.errors += [f"start: {label} failed: {e}", f"stop: {label} failed: {e}"]
                    print(f"   {label}: FAILED: {e}", file=sys.stderr, flush=True)
                    continue
                setattr(case, attr, res)
                describe(label, res)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    x = f"x{args.speed:g}"
    print()
    print(f"exaop lifecycle bench: {os.cpu_count()} cores, {time.monotonic() - t0:.0f}s wall")
    print("confd: the tool through the same server's ConfD face, manual clock (its critical path: its own run's)")
    print(f"tool: manual clock (--speed 0, SimulationClock: RPC time costs no simulated time); "
          f"tool@{x} and seed: exaop serve --speed {args.speed:g} (ScaledClock for the tool)")  # fmt: skip
    print("ratio = simulated duration / critical path of the same run (durations drawn with jitter, read from "
          "logservice1);")  # fmt: skip
    print(f"targets: ratio <= {TARGET_RATIO} and tool calls <= {TARGET_CALLS:g} x seed calls; the verdict is "
          f"the manual-clock tool's against the seed@{x}; critical path: the manual-clock run's")  # fmt: skip
    for which, title in (("start", "cold start"), ("stop", "full stop")):
        print()
        print(f"{title}:")
        print(table(cases, which, args.speed))
        for line in notes(cases, which):
            print(f"  - {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
