"""One look at the whole cluster: nodes, services, storage, databases, the master; and how
healthy that is, for monitors (the exit code) and people (the problems, in words)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from exaop.client import ClientError, ExaClient
from exaop.ops.clock import ToolClock
from exaop.ops.config import Options
from exaop.ops.errors import DEGRADED, DOWN, HEALTHY, as_ops_error
from exaop.ops.events import EventSink
from exaop.ops.observe import RUNNING, db_state, node_statuses, service_states
from exaop.ops.run import Run

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
    problems += [f"service {name} is {state}" for name, state in s.services.items() if state != "OK"]
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
    client: ExaClient,
    opts: Options,
    clock: ToolClock | None = None,
    on_event: EventSink | None = None,
) -> ClusterStatus:
    """Look at the cluster; while EXAoperation does not answer, retry until the ``status``
    timeout (reported through ``on_event`` as ``outage`` events)."""
    run = Run("status", client, opts, clock, on_event)
    try:
        run.await_answer("status")  # e.g. EXAoperation restarting
        nodes = [str(n) for n in run.read("", "getNodeList")]
        statuses = node_statuses(run, nodes + [ls for ls in opts.license_servers if ls not in nodes])
        services = service_states(run)
        dbs = []
        for name in run.read("", "getDatabaseList"):
            s = db_state(run, name)
            conn = str(run.read(f"/db_{name}", "getDatabaseConnectionString") or "") or None
            dbs.append(DatabaseStatus(name, s.state, s.operation if s.busy else None, s.connectible, conn))
        status = ClusterStatus(
            url=client.base,
            dialect=client.dialect,
            master=run.retrying(client.master),
            license_servers={ls: statuses[ls] for ls in opts.license_servers if ls in statuses},
            nodes={n: statuses[n] for n in nodes},
            services=services,
            storage_online=services.get("Storaged") == "OK",
            databases=dbs,
        )
    except ClientError as e:
        raise as_ops_error(e) from None
    finally:
        run.pool.shutdown(wait=False, cancel_futures=True)
    assess(status)
    return status
