"""One look at the whole cluster: nodes, services, storage, databases, the master; and how
healthy that is, for monitors (the exit code) and people (the problems, in words)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from exaop.client import ClientError, ExaClient
from exaop.client.backend import RUNNING, Backend
from exaop.ops.clock import ToolClock
from exaop.ops.config import Options
from exaop.ops.errors import DEGRADED, DOWN, HEALTHY, as_ops_error
from exaop.ops.events import EventSink
from exaop.ops.observe import db_state, node_statuses, storage_view
from exaop.ops.run import Run, as_backend

HEALTH = {HEALTHY: "healthy", DEGRADED: "degraded", DOWN: "down"}


@dataclass
class DatabaseStatus:
    name: str
    state: str
    operation: str | None  # None: no operation under way
    connectible: bool
    connection_string: str | None


@dataclass
class ClusterStatus:
    url: str
    dialect: str
    master: str
    license_servers: dict[str, str] = field(default_factory=dict)
    nodes: dict[str, str] = field(default_factory=dict)
    services: dict[str, str] = field(default_factory=dict)
    storage_online: bool = False
    databases: list[DatabaseStatus] = field(default_factory=list)
    health: str = "healthy"  # healthy, degraded or down: see assess()
    api: str = "exaoperation"  # the interface asked: exaoperation or confd (services are then volumes)
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def exit_code(self) -> int:
        return {name: code for code, name in HEALTH.items()}[self.health]


def assess(s: ClusterStatus) -> None:
    """Fill in ``health`` and ``problems``.

    down: no database accepts connections (or, without databases, EXAStorage is not
    online); degraded: something else is not as it should be (a node not running, a
    service not OK, a database not accepting connections, a license server not running);
    healthy: nothing of that. A database never created (state none) is not counted.
    """
    problems = [f"license server {n} is {state}" for n, state in s.license_servers.items() if state != RUNNING]
    problems += [f"node {n} is {state}" for n, state in s.nodes.items() if state != RUNNING]
    part, ok = ("volume", "ONLINE") if s.api == "confd" else ("service", "OK")
    problems += [f"{part} {name} is {state}" for name, state in s.services.items() if state != ok]
    created = [d for d in s.databases if d.state != "none"]
    for d in created:
        if not d.connectible:
            busy = f" ({d.operation})" if d.operation else ""
            problems.append(f"database {d.name} is {d.state}{busy}, not accepting connections")
    serving = [d for d in created if d.connectible]
    down = not serving if created else not s.storage_online
    s.problems = problems
    s.health = HEALTH[DOWN if down else DEGRADED if problems else HEALTHY]


def cluster_status(
    backend: Backend | ExaClient,
    opts: Options,
    clock: ToolClock | None = None,
    on_event: EventSink | None = None,
) -> ClusterStatus:
    """Look at the cluster; while it does not answer, retry until the ``status`` timeout
    (reported through ``on_event`` as ``outage`` events)."""
    run = Run("status", as_backend(backend), opts, clock, on_event)
    b = run.backend
    try:
        run.await_answer("status")  # e.g. EXAoperation restarting
        b = run.backend  # known once it answered
        nodes = run.read(b.nodes)
        servers = [ls for ls in opts.license_servers if ls not in nodes] if b.license_servers else []
        statuses = node_statuses(run, nodes + servers)
        storage = storage_view(run)
        dbs = []
        for name in run.read(b.databases):
            s = db_state(run, name)
            conn = run.read(b.connection_string, name) or None
            dbs.append(DatabaseStatus(name, s.state, s.operation if s.busy else None, s.connectible, conn))
        status = ClusterStatus(
            url=b.base,
            dialect=b.dialect,
            master=run.read(b.master),
            license_servers={ls: statuses[ls] for ls in opts.license_servers if ls in statuses}
            if b.license_servers
            else {},
            nodes={n: statuses[n] for n in nodes},
            services=storage.parts,
            storage_online=storage.online,
            databases=dbs,
            api=b.api,
        )
    except ClientError as e:
        raise as_ops_error(e) from None
    finally:
        run.pool.shutdown(wait=False, cancel_futures=True)
    assess(status)
    return status
