"""The lifecycle procedures' backend for EXAoperation (Exasol up to 7.0): its object tree
(``/cluster1``, ``/storage``, ``/db_<name>``, ``/<node>``, log services) over :class:`ExaClient`."""

from __future__ import annotations

from typing import Any

from exaop.client.backend import RUNNING, Actions, DbState, OverClient, StorageView
from exaop.client.client import ServerFault, Unreachable

HALTING = "EXAoperation is halting"  # exaop serve's fault once its license server goes down

ACTIONS = Actions(
    power_on="startupNode", shutdown="shutdownNode", power_off="poweroffNode", start_storage="startEXAStorage",
    stop_storage="stopEXAStorage", start_database="startDatabase", stop_database="stopDatabase",
    force_stop_database="forceShutdownDatabase", move_master="restartEXAoperation", plugin="callPlugin",
    halt="shutdownNode",
)  # fmt: skip


class ExaOperationBackend(OverClient):
    api = "exaoperation"
    interface = "EXAoperation"
    actions = ACTIONS
    bulk_node_state = False  # getNodeState is one node's
    node_batch = False  # startupNode & co. take one node
    license_servers = True

    @property
    def dialect(self) -> str:
        return self.client.dialect

    def _call(self, path: str, method: str, *args: Any, timeout: float | None = None) -> Any:
        return self.client.call(path, method, *args, timeout=timeout)

    # -- the cluster and its nodes -----------------------------------------------------------

    def ping(self) -> None:
        self.client.methods(refresh=True)  # a call even when they are known: is it there, which dialect

    def master(self) -> str:
        return self.client.master()

    def move_master(self, node: str) -> Any:
        return self._call("", "restartEXAoperation", node)

    def nodes(self) -> list[str]:
        return [str(n) for n in self._call("", "getNodeList")]

    def node_status(self, node: str) -> str:
        """'Running', 'Booting', ... On servers without getNodeState: the seed's inventory check."""
        if self.client.has("getNodeState"):
            state = self._call("", "getNodeState", node)
            return str(state.get("status", "Unknown")) if isinstance(state, dict) else str(state)
        info = self._call("", "getHardwareInformation", node)
        return RUNNING if "dmidecode" in str(info) else "Unknown"

    def node_statuses(self, nodes: list[str]) -> dict[str, str]:
        return {n: self.node_status(n) for n in nodes}

    # EXAoperation's node actions take one node each (the phases send one per node at once)

    def power_on(self, nodes: list[str]) -> Any:
        return _last([self._call("", "startupNode", n) for n in nodes])

    def shutdown(self, nodes: list[str]) -> Any:
        return _last([self._call("", "shutdownNode", n) for n in nodes])

    def power_off(self, nodes: list[str]) -> Any:
        return _last([self._call(f"/{n}", "poweroffNode") for n in nodes])

    # -- storage -----------------------------------------------------------------------------

    def storage(self) -> StorageView:
        services = {str(name): str(state) for name, state in self._call("", "getServiceState")}
        return StorageView(services, online=services.get("Storaged") == "OK")

    def start_storage(self, ignore: list[str], timeout: float | None = None) -> Any:
        """Answers once EXAStorage is up (or refuses)."""
        return self._call("/storage", "startEXAStorage", *((ignore,) if ignore else ()), timeout=timeout)

    def stop_storage(self, timeout: float | None = None) -> Any:
        return self._call("/storage", "stopEXAStorage", timeout=timeout)

    # -- databases ---------------------------------------------------------------------------

    def databases(self) -> list[str]:
        return [str(n) for n in self._call("", "getDatabaseList")]

    def database(self, name: str) -> DbState:
        path = f"/db_{name}"
        state = str(self._call(path, "getDatabaseState"))
        operation = str(self._call(path, "getDatabaseOperation"))
        conn = state == "running" and self._call(path, "getDatabaseConnectionState") == "Yes"
        return DbState(name, state, operation, conn)

    def database_state(self, name: str) -> str:
        return str(self._call(f"/db_{name}", "getDatabaseState"))

    def connection_string(self, name: str) -> str:
        return str(self._call(f"/db_{name}", "getDatabaseConnectionString") or "")

    def database_errors(self, name: str) -> list[str]:
        try:
            return [str(e) for e in self._call(f"/db_{name}", "getCurrentErrors")]
        except ServerFault:  # not every EXAoperation version has it
            return []

    def start_database(self, name: str) -> Any:
        return self._call(f"/db_{name}", "startDatabase")

    def stop_database(self, name: str, force: bool = False) -> Any:
        return self._call(f"/db_{name}", "forceShutdownDatabase" if force else "stopDatabase")

    # -- log services ------------------------------------------------------------------------

    def log_services(self) -> list[str]:
        services = self._call("", "getAllLogServices")
        names = [svc.get("name") if isinstance(svc, dict) else svc for svc in services or []]
        return [str(n) for n in names if n]

    def log_page(self, service: str, tag: str) -> tuple[str, list[dict[str, Any]]] | None:
        """One page of what ``tag`` has not been given yet: (the server's time, entries)."""
        answer = self._call(f"/{service}", "logEntriesTagged", tag)
        if not (isinstance(answer, list) and len(answer) == 3):
            return None
        return str(answer[1]), [e for e in answer[2] if isinstance(e, dict)]

    def log_systems(self, service: str) -> set[str]:
        """The systems whose messages ``service`` shows (a database's name, 'Storage', ...)."""
        try:
            props = self._call(f"/{service}", "getProperties")
        except ServerFault:
            props = {}
        props = props if isinstance(props, dict) else {}
        return {str(s) for key in ("exaclusteros_services", "exasolution_systems") for s in props.get(key) or []}

    # -- plugins and license servers ---------------------------------------------------------

    def plugins(self) -> set[str] | None:
        """The installed plugins; None when the server cannot list them."""
        return {str(p) for p in self._call("", "getPlugins")} if self.client.has("getPlugins") else None

    def call_plugin(self, plugin: str, node: str, command: str) -> Any:
        return self._call("", "callPlugin", plugin, node, command)

    def halt(self, node: str) -> Any:
        return self._call("", "shutdownNode", node)

    def answering(self) -> bool:
        """Whether EXAoperation still answers (False: gone, or halting for good)."""
        try:
            self._call("", "getNodeList")
        except Unreachable:
            return False
        except ServerFault as e:
            if HALTING not in e.text:
                raise
            return False
        return True


def _last(answers: list[Any]) -> Any:
    return answers[-1] if answers else None
