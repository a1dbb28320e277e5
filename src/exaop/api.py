"""The lifecycle procedures for scripts: ``from exaop import start_cluster, ...``.

Example::

    from exaop import ExaClient, Options, start_cluster

    opts = Options(url="https://license-server/cluster1", user="admin", password=secret)
    client = ExaClient(opts.url, opts.user, opts.password)
    summary = start_cluster(client, opts, on_event=lambda e: print(e.phase, e.message))
    if not summary.ok:
        raise SystemExit(summary.exit_code)
"""

from exaop.client import AuthError, ExaClient, RetryPolicy, ServerFault, Unreachable
from exaop.ops.clock import RealClock, ScaledClock, SimulationClock
from exaop.ops.config import Options, PluginStep, build_options, load_file
from exaop.ops.errors import EXIT_CODES, AuthFailed, ConfigError, Failed, NoAnswer, OpsError, Refused, WaitTimeout
from exaop.ops.events import Event
from exaop.ops.run import Summary
from exaop.ops.start import start_cluster
from exaop.ops.status import ClusterStatus, cluster_status
from exaop.ops.stop import stop_cluster

__all__ = [
    "EXIT_CODES", "AuthError", "AuthFailed", "ClusterStatus", "ConfigError", "Event", "ExaClient", "Failed",
    "NoAnswer", "OpsError", "Options", "PluginStep", "RealClock", "Refused", "RetryPolicy", "ScaledClock",
    "ServerFault", "SimulationClock", "Summary", "Unreachable", "WaitTimeout", "build_options", "cluster_status",
    "load_file", "start_cluster", "stop_cluster",
]  # fmt: skip
