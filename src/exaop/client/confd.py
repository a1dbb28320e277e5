"""The lifecycle procedures' backend for ConfD (Exasol 7.1 and later): jobs over XML-RPC.

Transport: HTTPS with basic auth to ``https://host:PORT`` (20003 on Exasol 8, 443 on 7.1; no
path, or ``/rpc2``), through the same :class:`ExaClient` as EXAoperation (so the same TLS
checks, retries and fast failures). A node that is not the master answers 302: the client
follows it to the master once per call and stays there.

Every look is ``job_exec(name, {'params': {...}})``; a result whose ``result_code`` is not 0
is raised as :class:`ServerFault` with the job's name, code and ``result_desc``, so the
phases treat a refused job like a refused EXAoperation call. Actions that take time
(``infra_instances_start``, ``infra_instances_stop``/``nodes_terminate``, ``db_start``,
``db_stop``) are started with ``job_start`` and looked at once with ``job_info``: a job
refused at once (a node whose power fails, a database that cannot start now) fails the
action there; otherwise the phases follow the cluster's state (``node_state``,
``st_volume_info``, ``db_info``) on their own clock and deadlines, as on EXAoperation, and a
database that falls back to ``setup`` is explained by its ``db_start`` job's ``result_desc``.
(A blocking ``job_wait`` would wait real seconds while a simulated cluster's clock may only
move when the tool sleeps; following the state works on every clock.)

Mapping (the phases' words on the left):

=====================  ================================================================
nodes, their status    ``node_list`` ids ``'11'`` <-> ``n0011``; ``node_state``: ``online`` is
                       running, any other state (``offline``, ``suspended``) is off
power on               ``infra_instances_start`` {nids} where the deployment has it (in
                       ``job_list``); else the nodes must be up already
shut down, power off   ``infra_instances_stop`` {nids}, else ``nodes_terminate`` {nids}
storage                ``st_volume_info`` {vid: 'all_volumes'}: online when no volume is
                       ``OFFLINE``, settled when every one is ``ONLINE``; it starts and
                       stops with the nodes' services (no job of its own)
databases              ``db_list``; ``db_info``: state (``startup``/``shutdown`` are
                       starting/stopping), ``operation``, ``connectible``, ``connection string``
start, stop            ``db_start`` {db_name}, ``db_stop`` {db_name[, force]}
master                 ``GET /master?info_type=name``
=====================  ================================================================
"""

from __future__ import annotations

import re
import threading
from typing import Any

from exaop.client.backend import RUNNING, Actions, DbState, OverClient, StorageView
from exaop.client.client import ExaClient, Moved, ServerFault, Unreachable, Unsupported

#: ConfD's database states -> the phases'
DB_STATES = {"startup": "starting", "shutdown": "stopping"}
ONLINE = "online"
VOLUME_OK, VOLUME_DOWN = "ONLINE", "OFFLINE"
MAX_REDIRECTS = 3


def node_name(nid: Any) -> str:
    """ConfD's node id ('11', 11) as the phases name it: n0011."""
    return f"n{int(nid):04d}"


def node_id(name: str) -> int:
    m = re.fullmatch(r"n(\d{4})", name)
    if not m:
        raise ValueError(f"{name!r} is not a node name like n0011")
    return int(m.group(1))


class JobFailed(ServerFault):
    """A ConfD job ended with a result_code other than 0."""


class ConfdBackend(OverClient):
    api = "confd"
    interface = "ConfD"
    bulk_node_state = True  # node_state: every node in one job
    node_batch = True  # a job's nids take every node at once (EXAStorage stops first when they are all of its)
    license_servers = False  # ConfD runs on the database nodes

    def __init__(self, client: ExaClient) -> None:
        super().__init__(client)
        self._jobs: list[str] | None = None
        self._started: dict[tuple[str, str], str] = {}  # (job, target) -> the id of the job this run started
        self._lock = threading.Lock()

    @property
    def dialect(self) -> str:
        return "7.1+"

    @property
    def actions(self) -> Actions:
        jobs = self._jobs

        def having(*names: str) -> str | None:  # the first of the jobs the server has (before asking: the first)
            return next((n for n in names if jobs is None or n in jobs), None)

        infra, stop = having("infra_instances_start"), having("infra_instances_stop", "nodes_terminate")
        return Actions(
            power_on=infra, shutdown=stop, power_off=stop, start_storage=None,
            stop_storage=None, start_database="db_start", stop_database="db_stop", force_stop_database="db_stop force",
            move_master=None, plugin=None, halt=None,
        )  # fmt: skip

    # -- calls -------------------------------------------------------------------------------

    def _rpc(self, method: str, *args: Any) -> Any:
        """A call, following a non-master node's 302 to the master."""
        for _ in range(MAX_REDIRECTS):
            try:
                return self.client.call("", method, *args)
            except Moved as e:
                self.client.move_to(e.location)
        raise Unreachable(f"{self.base}: {method} was redirected more than {MAX_REDIRECTS} times")

    def job(self, name: str, params: dict[str, Any] | None = None) -> Any:
        """``job_exec``: the job's output; a result_code other than 0 raises :class:`JobFailed`."""
        result = self._rpc("job_exec", name, {"params": params or {}})
        return self._output(name, result)

    @staticmethod
    def _output(name: str, result: Any) -> Any:
        if not isinstance(result, dict) or "result_code" not in result:
            raise JobFailed(name, -1, f"{name} answered {result!r}, not a job result")
        if result["result_code"] != 0:
            raise JobFailed(name, int(result["result_code"]), str(result.get("result_desc") or "failed"))
        return result.get("result_output")

    def start_job(self, name: str, params: dict[str, Any], target: str) -> str:
        """``job_start``, then one ``job_info``: a job that failed at once raises :class:`JobFailed`;
        otherwise the answer names the job (it goes on, the state shows when it is done)."""
        job_id = str(self._rpc("job_start", name, {"params": params}))
        with self._lock:
            self._started[(name, target)] = job_id
        info = self._rpc("job_info", {"job_id": job_id})
        if isinstance(info, dict) and info.get("finished"):
            self._output(name, info.get("result"))
            return f"job {job_id} {info.get('stage', 'finished')}"
        return f"job {job_id} {info.get('stage', 'started') if isinstance(info, dict) else 'started'}"

    def _failure(self, name: str, target: str) -> str | None:
        """Why the job this run started for ``target`` failed (None: none, or it did not fail)."""
        with self._lock:
            job_id = self._started.get((name, target))
        if job_id is None:
            return None
        info = self._rpc("job_info", {"job_id": job_id})
        result = info.get("result") if isinstance(info, dict) else None
        if isinstance(result, dict) and result.get("result_code", 0) != 0:
            return str(result.get("result_desc") or "failed")
        return None

    # -- the cluster and its nodes -----------------------------------------------------------

    def ping(self) -> None:
        methods = self._rpc("system.listMethods")
        if "job_exec" not in methods:
            raise ServerFault("system.listMethods", 0, f"{self.base} is not ConfD (no job_exec among its methods)")
        self._jobs = [str(j) for j in self._rpc("job_list")]

    def master(self) -> str:
        return self.client.fetch("/master?info_type=name").strip()

    def move_master(self, node: str) -> Any:
        return self.job("master_change", {"nids": [node_id(node)]})

    def nodes(self) -> list[str]:
        return sorted(node_name(n) for n in self.job("node_list"))

    def node_statuses(self, nodes: list[str]) -> dict[str, str]:
        states = self.job("node_state")
        out = {}
        for n in nodes:
            state = str(states.get(str(node_id(n)), "unknown"))
            out[n] = RUNNING if state == ONLINE else state
        return out

    def node_status(self, node: str) -> str:
        return self.node_statuses([node])[node]

    def _nids(self, nodes: list[str]) -> dict[str, Any]:
        return {"nids": [node_id(n) for n in nodes]}

    def power_on(self, nodes: list[str]) -> Any:
        return self.start_job("infra_instances_start", self._nids(nodes), ",".join(nodes))

    def shutdown(self, nodes: list[str]) -> Any:
        return self.start_job(str(self.actions.shutdown), self._nids(nodes), ",".join(nodes))

    power_off = shutdown  # ConfD's stop jobs wait for nothing a boot holds up

    # -- storage -----------------------------------------------------------------------------

    def storage(self) -> StorageView:
        volumes = self.job("st_volume_info", {"vid": "all_volumes"}) or {}
        # a database's temporary volume comes and goes with it: not a part of storage's state
        parts = {str(v.get("name", vid)): str(v.get("state", "?")) for vid, v in sorted(volumes.items())
                 if isinstance(v, dict) and not v.get("owner")}  # fmt: skip
        online = all(state != VOLUME_DOWN for state in parts.values())
        return StorageView(parts, online=online, ok_state=VOLUME_OK)

    def start_storage(self, ignore: list[str], timeout: float | None = None) -> Any:
        raise Unsupported("ConfD starts EXAStorage with the nodes' services (infra_instances_start)")

    def stop_storage(self, timeout: float | None = None) -> Any:
        raise Unsupported("ConfD stops EXAStorage with the nodes' services (infra_instances_stop, nodes_terminate)")

    # -- databases ---------------------------------------------------------------------------

    def databases(self) -> list[str]:
        return [str(n) for n in self.job("db_list")]

    def _info(self, name: str) -> dict[str, Any]:
        info = self.job("db_info", {"db_name": name})
        return info if isinstance(info, dict) else {}

    def database(self, name: str) -> DbState:
        info = self._info(name)
        state = str(info.get("state", "unknown"))
        state = DB_STATES.get(state, state)
        return DbState(name, state, str(info.get("operation", "None")), info.get("connectible") == "Yes")

    def database_state(self, name: str) -> str:
        state = str(self.job("db_state", {"db_name": name}))
        return DB_STATES.get(state, state)

    def connection_string(self, name: str) -> str:
        return str(self._info(name).get("connection string") or "")

    def database_errors(self, name: str) -> list[str]:
        info = str(self._info(name).get("info") or "")  # the database's own errors, as EXAoperation shows them
        why = info or self._failure("db_start", name)
        return [why] if why else []

    def start_database(self, name: str) -> Any:
        return self.start_job("db_start", {"db_name": name}, name)

    def stop_database(self, name: str, force: bool = False) -> Any:
        params: dict[str, Any] = {"db_name": name, **({"force": True} if force else {})}
        return self.start_job("db_stop", params, name)

    # -- what ConfD does not have ------------------------------------------------------------

    def log_services(self) -> list[str]:
        return []  # no log service API: the phases ask the state itself

    def log_page(self, service: str, tag: str) -> tuple[str, list[dict[str, Any]]] | None:
        raise Unsupported(f"ConfD has no log service {service!r}")

    def log_systems(self, service: str) -> set[str]:
        return set()

    def plugins(self) -> set[str] | None:
        return None

    def call_plugin(self, plugin: str, node: str, command: str) -> Any:
        raise Unsupported(f"ConfD has no plugins to call ({plugin} {command} on {node})")

    def halt(self, node: str) -> Any:
        raise Unsupported(f"ConfD has no license server to shut down ({node})")

    def answering(self) -> bool:
        try:
            self._rpc("system.listMethods")
        except Unreachable:
            return False
        return True
