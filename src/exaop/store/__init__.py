"""Lasting state: SQLite in WAL mode, one transaction per change, in a private state dir one process holds."""

from exaop.store.errors import StateDirBusy, StoreError
from exaop.store.sqlite import SCHEMA_VERSION, Store

__all__ = ["SCHEMA_VERSION", "StateDirBusy", "Store", "StoreError"]
