"""Why a procedure stopped, and the exit code each reason has."""

from __future__ import annotations


class OpsError(Exception):
    exit_code = 1
    label = "error"


class ConfigError(OpsError):
    """Bad usage or configuration."""

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


EXIT_CODES = {
    0: "done: the cluster is in the state asked for",
    ConfigError.exit_code: "bad usage or configuration",
    AuthFailed.exit_code: "authentication failed (wrong user or password)",
    Refused.exit_code: "a check refused to go on (e.g. the master is not on the license server, a database is busy)",
    WaitTimeout.exit_code: "a wait expired; the message names what it waited for and what it saw last",
    Failed.exit_code: "the server refused or failed an action (a fault), e.g. a database that failed to start",
    NoAnswer.exit_code: "EXAoperation could not be reached",
}
