"""Why a procedure stopped, and the exit code each reason has."""

from __future__ import annotations

import signal

from exaop.client import AuthError, CannotConnect, ClientError, Moved, ServerFault, Unsupported


class OpsError(Exception):
    exit_code = 1
    label = "error"


class ConfigError(OpsError):
    """Bad usage or configuration, including a connection that can never work as configured."""

    exit_code = 2
    label = "usage"


class AuthFailed(OpsError):
    exit_code = 3
    label = "authentication"


class Refused(OpsError):
    """A check before acting said no (master elsewhere, database busy...)."""

    exit_code = 4
    label = "refused"


class WaitTimeout(OpsError):
    exit_code = 5
    label = "timeout"


class Failed(OpsError):
    """The server refused or failed an action (a fault), or an object failed on its own."""

    exit_code = 6
    label = "server fault"


class NoAnswer(OpsError):
    exit_code = 7
    label = "unreachable"


class Interrupted(OpsError):
    """The run was stopped by a signal: SIGINT (Ctrl-C) exits 130, SIGTERM 143."""

    label = "interrupted"

    def __init__(self, signum: int = signal.SIGINT) -> None:
        self.signum = int(signum)
        self.exit_code = 128 + self.signum
        super().__init__(f"interrupted by {signal.Signals(self.signum).name}")


class SignalReceived(KeyboardInterrupt):
    """Raised in the main thread by the CLI's handler of SIGINT and SIGTERM."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def interrupted(e: KeyboardInterrupt) -> Interrupted:
    return Interrupted(getattr(e, "signum", signal.SIGINT))


# `exaop cluster status`: how the cluster is
HEALTHY, DEGRADED, DOWN = 0, 8, 9

EXIT_CODES = {
    0: "done: the cluster is in the state asked for (status: healthy)",
    ConfigError.exit_code: "bad usage or configuration, or a URL or certificate that cannot work (untrusted "
    "certificate, https to a plain-HTTP server or the reverse, a host name that does not resolve)",
    AuthFailed.exit_code: "authentication failed (wrong user or password) or the user may not do this",
    Refused.exit_code: "a check refused to go on (e.g. the master is not on the license server, a database is busy)",
    WaitTimeout.exit_code: "a wait expired; the message names what it waited for and what it saw last",
    Failed.exit_code: "the server refused or failed an action (a fault), e.g. a database that failed to start",
    NoAnswer.exit_code: "EXAoperation did not answer until the phase's deadline",
    DEGRADED: "status: degraded (part of the cluster is not up: a node, a service, a database)",
    DOWN: "status: down (no database accepts connections, or EXAStorage is not online)",
    128 + signal.SIGINT: "stopped by SIGINT (Ctrl-C)",
    128 + signal.SIGTERM: "stopped by SIGTERM",
}


def as_ops_error(e: ClientError, phase: str = "") -> OpsError:
    """A client error that ends a run, as the run's reason (``phase`` prefixes the message)."""
    where = f"{phase}: " if phase else ""
    if isinstance(e, AuthError):
        return AuthFailed(f"{where}{e}")
    if isinstance(e, CannotConnect | Unsupported):
        return ConfigError(f"{where}{e}")
    if isinstance(e, Moved):  # a redirect the backend does not follow (EXAoperation's)
        return Failed(f"{where}{e}")
    if isinstance(e, ServerFault):
        if e.forbidden:
            return AuthFailed(f"{where}{e.method} was refused: {e.text}; the user needs a role that allows it "
                              "(Administrator on the cluster)")  # fmt: skip
        return Failed(f"{where}{e.method} refused: {e.text}")
    return NoAnswer(f"{where}{e}")
