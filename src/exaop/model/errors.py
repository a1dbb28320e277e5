"""Domain errors. The wire turns them into EXAoperation faults in one place (faces/exaoperation/faults.py)."""


class DomainError(Exception):
    """Base of every error the model raises on purpose; ``reason`` is meant for a person."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UsageError(DomainError):
    """The request is understood but the current state or the arguments do not allow it."""


class NotFound(DomainError):
    """No object of that name exists."""


class Forbidden(DomainError):
    """The caller's role does not allow the operation."""


class Unavailable(DomainError):
    """EXAoperation itself is not answering (restarting, halting)."""
