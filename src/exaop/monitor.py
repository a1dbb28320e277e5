"""Watching the server: what it counts per request, and what it shows a monitoring system.

* :class:`RequestStats` is what a request costs the hot path: a dictionary increment and a
  bucket of a latency histogram (no Prometheus object is touched per request).
* :class:`ClusterCollector` turns those counts and the cluster's state into Prometheus
  metrics when they are scraped (``prometheus_client``'s text format): requests by method
  and result, latency, HTTP refusals, failed logins, connections, nodes by state and power,
  databases by state, operation and connectibility, EXAStorage's state, the age of each
  database's newest backup. Reading the model happens on the event loop's thread, whoever
  scrapes.
* ``/health`` says the process answers; ``/ready`` that the cluster is loaded and
  EXAoperation serves calls (not halting, not restarting).
"""

from __future__ import annotations

import asyncio
import bisect
import concurrent.futures
import json
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

if TYPE_CHECKING:
    from exaop.engine.runtime import Runtime
    from exaop.faces.auth import Authenticator
    from exaop.httpguard import ConnectionBook

#: upper bounds of the latency buckets, seconds
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class RequestStats:
    """Counts kept per request, cheaply; read when metrics are scraped."""

    def __init__(self) -> None:
        self.calls: dict[tuple[str, str], int] = {}  # (method, 'ok' | 'fault') -> count
        self.refusals: dict[int, int] = {}  # HTTP status (401, 413, 429, 503 ...) -> count
        self.buckets = [0] * (len(BUCKETS) + 1)
        self.latency_sum = 0.0

    def call(self, method: str, ok: bool, seconds: float) -> None:
        key = (method, "ok" if ok else "fault")
        self.calls[key] = self.calls.get(key, 0) + 1
        self.buckets[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.latency_sum += seconds

    def refused(self, status: int) -> None:
        self.refusals[status] = self.refusals.get(status, 0) + 1


def _snapshot(runtime: Runtime, stats: RequestStats, auth: Authenticator | None,
              book: ConnectionBook | None) -> dict[str, Any]:  # fmt: skip
    """Everything the metrics show, read at one moment (on the event loop's thread)."""
    c = runtime.cluster
    nodes = []
    for n in c.nodes.values():
        # the machine's power as last known: never a request to a BMC on the loop
        nodes.append((n.name, n.status, n.power, n.license_server))
    dbs = []
    for db in c.databases.values():
        backups = [b for b in getattr(db, "backups", []) if isinstance(b, dict)]
        finished = [float(b.get("finished", b.get("timestamp", 0)) or 0) for b in backups]
        dbs.append((db.name, db.state, db.operation, bool(db.connectible), max(finished) if finished else None))
    guard = auth.guard if auth is not None else None
    return {
        "now": c.now,
        "calls": dict(stats.calls),
        "refusals": dict(stats.refusals),
        "buckets": list(stats.buckets),
        "latency_sum": stats.latency_sum,
        "nodes": nodes,
        "databases": dbs,
        "storage": c.storage.state,
        "failed_logins": guard.failed_total if guard is not None else 0,
        "connections": len(book) if book is not None else 0,
        "evicted": book.evicted if book is not None else 0,
        "timed_out": book.timed_out if book is not None else 0,
        "log_entries": len(c.logbook.entries),
        "halted": runtime.halted,
        "restarting": c.master.restarting,
    }


class ClusterCollector(Collector):
    """The metrics of one control plane, made at each scrape."""

    def __init__(
        self,
        runtime: Runtime,
        stats: RequestStats,
        auth: Authenticator | None = None,
        book: ConnectionBook | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.runtime, self.stats, self.auth, self.book = runtime, stats, auth, book
        self.loop = loop  # the event loop that owns the model; scrapes from other threads hop onto it

    def snapshot(self) -> dict[str, Any]:
        take: Callable[[], dict[str, Any]] = lambda: _snapshot(self.runtime, self.stats, self.auth, self.book)  # noqa: E731
        loop = self.loop
        if loop is None or not loop.is_running() or _on_loop_thread(loop):
            return take()
        done: concurrent.futures.Future[dict[str, Any]] = concurrent.futures.Future()

        def run() -> None:
            try:
                done.set_result(take())
            except BaseException as e:  # handed to the scraping thread
                done.set_exception(e)

        loop.call_soon_threadsafe(run)
        return done.result(timeout=10)

    def collect(self) -> Iterator[Any]:
        s = self.snapshot()
        calls = CounterMetricFamily("exaop_requests", "XML-RPC calls answered, by method and result",
                                    labels=["method", "result"])  # fmt: skip
        for (method, result), n in sorted(s["calls"].items()):
            calls.add_metric([method, result], n)
        yield calls
        refused = CounterMetricFamily("exaop_http_refusals", "Requests refused before any call, by HTTP status",
                                      labels=["status"])  # fmt: skip
        for status, n in sorted(s["refusals"].items()):
            refused.add_metric([str(status)], n)
        yield refused
        cumulative, running = [], 0
        for bound, n in zip([*map(str, BUCKETS), "+Inf"], s["buckets"], strict=True):
            running += n
            cumulative.append((bound, running))
        yield HistogramMetricFamily("exaop_request_duration_seconds", "Time to answer an XML-RPC call",
                                    buckets=cumulative, sum_value=s["latency_sum"])  # fmt: skip
        yield CounterMetricFamily("exaop_failed_logins", "Failed logins (wrong user or password)",
                                  value=s["failed_logins"])  # fmt: skip
        yield GaugeMetricFamily("exaop_connections", "Open connections", value=s["connections"])
        yield CounterMetricFamily("exaop_connections_evicted", "Connections closed to make room for new ones",
                                  value=s["evicted"])  # fmt: skip
        yield CounterMetricFamily("exaop_connections_timed_out", "Connections cut off for being too slow or idle",
                                  value=s["timed_out"])  # fmt: skip
        yield GaugeMetricFamily("exaop_log_entries", "Entries the cluster's log holds", value=s["log_entries"])
        yield GaugeMetricFamily("exaop_ready", "1 while EXAoperation serves calls (not halting or restarting)",
                                value=0 if s["halted"] or s["restarting"] else 1)  # fmt: skip

        by_state: dict[str, int] = {}
        node_up = GaugeMetricFamily("exaop_node_up", "1 while the node is running", labels=["node", "role"])
        node_state = GaugeMetricFamily("exaop_node_state", "1 for the node's state", labels=["node", "state"])
        node_power = GaugeMetricFamily("exaop_node_power_on", "1 while the node's power driver reports it on "
                                       "(unknown: not shown)", labels=["node"])  # fmt: skip
        for name, status, power, license_server in s["nodes"]:
            by_state[status] = by_state.get(status, 0) + 1
            node_up.add_metric([name, "license server" if license_server else "database node"],
                               1 if status == "Running" else 0)  # fmt: skip
            node_state.add_metric([name, status], 1)
            if power in ("on", "off"):
                node_power.add_metric([name], 1 if power == "on" else 0)
        nodes = GaugeMetricFamily("exaop_nodes", "Nodes by state", labels=["state"])
        for status, n in sorted(by_state.items()):
            nodes.add_metric([status], n)
        yield nodes
        yield node_up
        yield node_state
        yield node_power

        db_states: dict[str, int] = {}
        db_state = GaugeMetricFamily("exaop_database_state", "1 for the database's state", labels=["database", "state"])
        db_op = GaugeMetricFamily("exaop_database_operation", "1 for the operation in progress ('None' when idle)",
                                  labels=["database", "operation"])  # fmt: skip
        db_conn = GaugeMetricFamily("exaop_database_connectible", "1 while clients can connect", labels=["database"])
        db_age = GaugeMetricFamily("exaop_database_backup_age_seconds", "Simulated seconds since the newest backup "
                                   "finished (no backup: not shown)", labels=["database"])  # fmt: skip
        for name, state, operation, connectible, last_backup in s["databases"]:
            db_states[state] = db_states.get(state, 0) + 1
            db_state.add_metric([name, state], 1)
            db_op.add_metric([name, operation], 1)
            db_conn.add_metric([name], 1 if connectible else 0)
            if last_backup:
                db_age.add_metric([name], max(0.0, s["now"] - last_backup))
        dbs = GaugeMetricFamily("exaop_databases", "Databases by state", labels=["state"])
        for state, n in sorted(db_states.items()):
            dbs.add_metric([state], n)
        yield dbs
        yield db_state
        yield db_op
        yield db_conn
        yield db_age

        storage = GaugeMetricFamily("exaop_storage_state", "1 for EXAStorage's state", labels=["state"])
        storage.add_metric([s["storage"]], 1)
        yield storage
        yield GaugeMetricFamily("exaop_storage_online", "1 while EXAStorage is online",
                                value=1 if s["storage"] == "online" else 0)  # fmt: skip


def _on_loop_thread(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return threading.current_thread() is threading.main_thread() and not loop.is_running()


def registry_for(collector: ClusterCollector) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (ISO 8601, UTC), level, logger, message, and the
    record's structured fields (``extra=``) where it has them."""

    FIELDS = ("event", "client", "user", "object", "method", "result", "reason", "duration_ms")

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for f in self.FIELDS:
            if hasattr(record, f):
                out[f] = getattr(record, f)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def configure_logging(level: str, fmt: str) -> None:
    """exaop's own log on stderr, at ``level``, as text or JSON lines; uvicorn's at warning."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("exaop").setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uv = logging.getLogger(name)
        uv.handlers[:] = []
        uv.propagate = True
        uv.setLevel(logging.WARNING)
