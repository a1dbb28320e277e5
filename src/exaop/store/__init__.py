"""Lasting state: SQLite in WAL mode, one transaction per change."""

from exaop.store.sqlite import SCHEMA_VERSION, Store, StoreError

__all__ = ["SCHEMA_VERSION", "Store", "StoreError"]
