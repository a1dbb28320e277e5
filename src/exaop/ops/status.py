"""One look at the whole cluster: nodes, services, storage, databases, the master."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from exaop.client import ExaClient
from exaop.ops.config import Options
from exaop.ops.errors import OpsError
from exaop.ops.observe import db_state, node_statuses, service_states
from exaop.ops.run import READ_RETRY_SECONDS, Run


@dataclass
class DatabaseStatus:
    name: str
    state: str
    operation: str
    connectible: str
    connection_string: str


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

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def cluster_status(client: ExaClient, opts: Options) -> ClusterStatus:
    run = Run("status", client, opts)
    try:
        client.methods(retry_until=time.monotonic() + READ_RETRY_SECONDS)  # e.g. EXAoperation restarting
        nodes = list(run.read("", "getNodeList"))
        statuses = node_statuses(run, nodes + [ls for ls in opts.license_servers if ls not in nodes])
        services = service_states(run)
        dbs = []
        for name in run.read("", "getDatabaseList"):
            s = db_state(run, name)
            conn = str(run.read(f"/db_{name}", "getDatabaseConnectionString"))
            dbs.append(DatabaseStatus(name, s.state, s.operation, "Yes" if s.connectible else "No", conn))
        return ClusterStatus(
            url=client.base,
            dialect=client.dialect,
            master=client.master(retry_until=time.monotonic() + READ_RETRY_SECONDS),
            license_servers={ls: statuses[ls] for ls in opts.license_servers if ls in statuses},
            nodes={n: statuses[n] for n in nodes},
            services=services,
            storage_online=services.get("Storaged") == "OK",
            databases=dbs,
        )
    except OpsError:
        raise
    finally:
        run.pool.shutdown(wait=False)
