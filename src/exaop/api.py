"""The lifecycle procedures for scripts: ``from exaop import start_cluster, ...``.

Example (the README's, which a test runs)::

    from exaop import build_options, connect, start_cluster

    # EXAOP_URL, EXAOP_USER and EXAOP_PASSWORD from the environment; flags as a dict
    opts = build_options({}, {"ca_file": "state/tls/ca.pem"})
    summary = start_cluster(connect(opts), opts, on_event=lambda e: print(e.kind, e.phase, e.message))
    raise SystemExit(summary.exit_code)

A run ends with a ``done`` event and a :class:`Summary` whatever ended it: its
``exit_code`` is the CLI's (130 after Ctrl-C, which the procedure catches). ``connect``
gives the backend of the interface at the URL (EXAoperation's or ConfD's; ``Options.api``
chooses); the procedures also take a backend made directly, or an :class:`ExaClient`.
"""

from exaop.client import AuthError, CannotConnect, ExaClient, NotAllowed, RetryPolicy, ServerFault, Unreachable
from exaop.client.backend import Backend
from exaop.client.confd import ConfdBackend
from exaop.client.exaoperation import ExaOperationBackend
from exaop.ops.clock import RealClock, ScaledClock, SimulationClock
from exaop.ops.config import Options, PluginStep, build_options, load_file
from exaop.ops.errors import (
    EXIT_CODES,
    AuthFailed,
    ConfigError,
    Failed,
    Interrupted,
    NoAnswer,
    OpsError,
    Refused,
    WaitTimeout,
)
from exaop.ops.events import KINDS, SCHEMA, Event
from exaop.ops.logs import read_logs
from exaop.ops.run import Summary, connect
from exaop.ops.start import start_cluster
from exaop.ops.status import ClusterStatus, cluster_status
from exaop.ops.stop import stop_cluster

__all__ = [
    "EXIT_CODES", "KINDS", "SCHEMA", "AuthError", "AuthFailed", "Backend", "CannotConnect", "ClusterStatus",
    "ConfdBackend", "ConfigError", "Event", "ExaClient", "ExaOperationBackend", "Failed", "Interrupted", "NoAnswer",
    "NotAllowed", "OpsError", "Options", "PluginStep",
    "RealClock", "Refused", "RetryPolicy", "ScaledClock", "ServerFault", "SimulationClock", "Summary", "Unreachable",
    "WaitTimeout", "build_options", "cluster_status", "connect", "load_file", "read_logs", "start_cluster",
    "stop_cluster",
]  # fmt: skip
