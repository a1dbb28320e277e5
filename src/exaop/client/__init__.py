"""A typed client for any EXAoperation XML-RPC interface (ours or real)."""

from exaop.client.client import (
    AuthError,
    ExaClient,
    RetryPolicy,
    ServerFault,
    Unreachable,
)

__all__ = ["AuthError", "ExaClient", "RetryPolicy", "ServerFault", "Unreachable"]
