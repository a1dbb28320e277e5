"""What the lifecycle procedures ask of a cluster, whichever interface manages it.

The phases in ``exaop.ops`` are written once against :class:`Backend`; a backend per
face does the calls: :class:`~exaop.client.exaoperation.ExaOperationBackend`
(EXAoperation's object tree, Exasol up to 7.0) and :class:`~exaop.client.confd.ConfdBackend`
(ConfD's jobs, Exasol 7.1 and later).

The vocabulary is the phases', not a wire's:

* nodes are named ``n0011`` (ConfD's node ids ``'11'`` are mapped); a node's status is
  :data:`RUNNING` when it is up and serves, :data:`BOOTING` or :data:`SHUTTING_DOWN` while it
  changes, anything else is off (in the backend's own words: ``Powered off``, ``offline``…);
* a database is ``setup`` (created, stopped), ``starting``, ``running``, ``stopping`` or
  ``none`` (never created), with its operation (``'None'`` when idle) and whether it
  accepts connections (:class:`DbState`);
* storage is a set of parts with a state each (EXAoperation's services, ConfD's volumes)
  that is online when every part is (:class:`StorageView`).

Each method is one look or one action, and raises the client's errors
(:class:`~exaop.client.client.Unreachable`, :class:`~exaop.client.client.ServerFault`…):
the procedures decide what to retry. ``None`` for an action in :class:`Actions` means the
interface has no such action (a phase then says so and what stands in for it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from exaop.client.client import ExaClient

RUNNING = "Running"
BOOTING = "Booting"
SHUTTING_DOWN = "Shutting down"
TRANSITIONAL = (BOOTING, SHUTTING_DOWN)


def is_offline(status: str) -> bool:
    return status != RUNNING and status not in TRANSITIONAL


@dataclass
class DbState:
    name: str
    state: str  # setup, starting, running, stopping, none
    operation: str  # 'None' when idle
    connectible: bool

    @property
    def busy(self) -> bool:
        return self.operation not in ("None", "", None)


@dataclass
class StorageView:
    """Storage as last asked: ``parts`` (name -> state), ``online`` (it serves), ``settled``
    (every part is as it should be: all services OK, every volume ONLINE)."""

    parts: dict[str, str] = field(default_factory=dict)
    online: bool = False
    ok_state: str = "OK"  # the state of a part that is as it should be

    @property
    def pending(self) -> list[str]:
        return [name for name, state in self.parts.items() if state != self.ok_state]

    @property
    def settled(self) -> bool:
        return self.online and not self.pending


@dataclass(frozen=True)
class Actions:
    """The wire's name of each action (what events and plans show); None: not on this interface."""

    power_on: str | None
    shutdown: str | None
    power_off: str | None
    start_storage: str | None
    stop_storage: str | None
    start_database: str
    stop_database: str
    force_stop_database: str
    move_master: str | None
    plugin: str | None
    halt: str | None  # shut a license server down (EXAoperation ends with it)


class OverClient:
    """What every backend over an :class:`ExaClient` shares: where it calls, how often, cutting calls short."""

    def __init__(self, client: ExaClient) -> None:
        self.client = client

    @property
    def base(self) -> str:
        return self.client.base

    @property
    def calls(self) -> int:
        return self.client.calls

    def abort(self) -> None:
        self.client.abort()


class Backend(Protocol):
    """The operations the lifecycle phases need (see the module's docstring)."""

    api: str  # 'exaoperation' or 'confd'
    interface: str  # how messages name it: 'EXAoperation', 'ConfD'
    actions: Actions
    client: ExaClient
    bulk_node_state: bool  # one call gives every node's status
    node_batch: bool  # one action takes every node (power_on & co. get them all), else one node per action
    license_servers: bool  # the interface runs on license servers outside the database nodes

    @property
    def base(self) -> str: ...

    @property
    def calls(self) -> int: ...

    @property
    def dialect(self) -> str: ...

    def abort(self) -> None: ...

    def ping(self) -> None: ...

    def master(self) -> str: ...

    def move_master(self, node: str) -> Any: ...

    def nodes(self) -> list[str]: ...

    def node_status(self, node: str) -> str: ...

    def node_statuses(self, nodes: list[str]) -> dict[str, str]: ...

    def power_on(self, nodes: list[str]) -> Any: ...

    def shutdown(self, nodes: list[str]) -> Any: ...

    def power_off(self, nodes: list[str]) -> Any: ...

    def storage(self) -> StorageView: ...

    def start_storage(self, ignore: list[str], timeout: float | None = None) -> Any: ...

    def stop_storage(self, timeout: float | None = None) -> Any: ...

    def databases(self) -> list[str]: ...

    def database(self, name: str) -> DbState: ...

    def database_state(self, name: str) -> str: ...

    def connection_string(self, name: str) -> str: ...

    def database_errors(self, name: str) -> list[str]: ...

    def start_database(self, name: str) -> Any: ...

    def stop_database(self, name: str, force: bool = False) -> Any: ...

    def log_services(self) -> list[str]: ...

    def log_page(self, service: str, tag: str) -> tuple[str, list[dict[str, Any]]] | None: ...

    def log_systems(self, service: str) -> set[str]: ...

    def plugins(self) -> set[str] | None: ...

    def call_plugin(self, plugin: str, node: str, command: str) -> Any: ...

    def halt(self, node: str) -> Any: ...

    def answering(self) -> bool: ...
