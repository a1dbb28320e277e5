"""Why a state dir cannot be used."""

from __future__ import annotations


class StoreError(RuntimeError):
    """The state dir cannot be used (unreadable, or written by a newer exaop)."""


class StateDirBusy(StoreError):
    """Another process holds the state dir (one `exaop serve`, or an admin command, at a time)."""
