"""A typed client for any EXAoperation XML-RPC interface (ours or real)."""

from exaop.client.client import (
    AuthError,
    CannotConnect,
    ClientError,
    ExaClient,
    NotAllowed,
    RetryPolicy,
    ServerFault,
    Unreachable,
    tls_context,
)

__all__ = [
    "AuthError", "CannotConnect", "ClientError", "ExaClient", "NotAllowed", "RetryPolicy", "ServerFault",
    "Unreachable", "tls_context",
]  # fmt: skip
