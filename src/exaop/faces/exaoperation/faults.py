"""Domain errors become EXAoperation faults here, and only here."""

from __future__ import annotations

import logging

from exaop.model.errors import DomainError, Forbidden, NotFound, Unavailable, UsageError

log = logging.getLogger("exaop.faces.exaoperation")

# fault codes
NOT_FOUND = -1  # Zope's NotFound, as real EXAoperation reports it
USAGE = 1
INTERNAL = 2
FORBIDDEN = 3
BAD_REQUEST = 4
UNAVAILABLE = 5


def fault_for(err: BaseException, method: str) -> tuple[int, str]:
    if isinstance(err, NotFound):
        # scripts match on this exact prefix
        return NOT_FOUND, f"Unexpected Zope exception: NotFound: {err.reason}"
    if isinstance(err, UsageError):
        return USAGE, f"UsageError: {err.reason}"
    if isinstance(err, Forbidden):
        return FORBIDDEN, f"Forbidden: {err.reason}"
    if isinstance(err, Unavailable):
        return UNAVAILABLE, f"Unavailable: {err.reason}"
    if isinstance(err, DomainError):  # pragma: no cover - every subclass is listed above
        return USAGE, f"{type(err).__name__}: {err.reason}"
    log.exception("unexpected error in %s", method, exc_info=err)
    return INTERNAL, f"InternalError: {method} failed unexpectedly ({type(err).__name__}); see the server log"
