"""Clients of a cluster's management interface (ours or real): the XML-RPC client, and a backend per
interface for the lifecycle tool (EXAoperation, ConfD) with detection of which one a URL leads to."""

from exaop.client.client import (
    AuthError,
    CannotConnect,
    ClientError,
    ExaClient,
    Moved,
    NotAllowed,
    RetryPolicy,
    ServerFault,
    Unreachable,
    Unsupported,
    tls_context,
)

__all__ = [
    "AuthError", "CannotConnect", "ClientError", "ExaClient", "Moved", "NotAllowed", "RetryPolicy", "ServerFault",
    "Unreachable", "Unsupported", "tls_context",
]  # fmt: skip
