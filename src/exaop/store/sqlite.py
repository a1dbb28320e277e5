"""SQLite persistence of the cluster.

Each model object is one row (kind, key, JSON record); log entries have a table of
their own, and so do the simulated machines (``sim_hardware``: apart from the records of
the nodes, yet saved in the same transaction). Every change the server makes is written
in one transaction, so after a crash the state dir holds the last complete change,
deadlines and the machines' power included.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from exaop.model.logs import LogEntry
from exaop.store.errors import StoreError
from exaop.store.files import create_private, tighten, write_private
from exaop.store.lock import StateDirLock

SECRET_KEY_FILE = "secret.key"
SCHEMA_VERSION = 2
# version -> statements that bring a store from version-1 up to it
MIGRATIONS: dict[int, list[str]] = {
    1: [
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS objects (kind TEXT NOT NULL, key TEXT NOT NULL,"
        " data TEXT NOT NULL, PRIMARY KEY (kind, key))",
        "CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, t REAL NOT NULL, system TEXT NOT NULL,"
        " node TEXT NOT NULL, priority TEXT NOT NULL, message TEXT NOT NULL)",
    ],
    # the simulated machines join the store's transactions; version 1 had the driver create
    # this very table and commit it on its own, so an existing one keeps its rows
    2: [
        "CREATE TABLE IF NOT EXISTS sim_hardware"
        " (node TEXT PRIMARY KEY, powered INTEGER NOT NULL, refuse INTEGER NOT NULL)",
    ],
}


class Store:
    FILE = "exaop.sqlite"

    def __init__(self, state_dir: str | Path) -> None:
        """Hold the state dir (:class:`StateDirBusy` if another process does), make it private, open it."""
        self.dir = Path(state_dir)
        try:
            self.lock = StateDirLock(self.dir)  # first: a refused process writes nothing here
        except OSError as e:
            raise StoreError(f"cannot open state dir {self.dir}: {e}") from e
        try:
            try:
                tighten(self.dir)
                create_private(self.dir / self.FILE)  # before SQLite: its -wal/-shm take this file's mode
                self.conn = sqlite3.connect(self.dir / self.FILE, isolation_level=None, check_same_thread=False)
                self.conn.execute("PRAGMA journal_mode=WAL")
                # every answered change survives a power cut too, at ~0.16 ms a commit (bench/store_commit.py)
                self.conn.execute("PRAGMA synchronous=FULL")
                self.conn.execute("PRAGMA busy_timeout=5000")
            except (OSError, sqlite3.Error) as e:
                raise StoreError(f"cannot open state dir {self.dir}: {e}") from e
            self._migrate()
        except BaseException:
            if getattr(self, "conn", None) is not None:
                self.conn.close()
            self.lock.release()
            raise

    def _migrate(self) -> None:
        conn = self.conn
        conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        current = int(row[0]) if row else 0
        if current > SCHEMA_VERSION:
            raise StoreError(f"state dir {self.dir} was written by a newer exaop (schema {current} > {SCHEMA_VERSION})")
        for version in range(current + 1, SCHEMA_VERSION + 1):
            conn.execute("BEGIN IMMEDIATE")
            for stmt in MIGRATIONS[version]:
                conn.execute(stmt)
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(version),))
            conn.execute("COMMIT")

    # -- reading -------------------------------------------------------------------------

    def meta(self, key: str) -> Any:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    @property
    def initialized(self) -> bool:
        return self.meta("profile") is not None

    def records(self) -> list[tuple[str, str, dict[str, Any]]]:
        return [
            (kind, key, json.loads(data))
            for kind, key, data in self.conn.execute("SELECT kind, key, data FROM objects ORDER BY kind, key")
        ]

    def log_entries(self, last: int) -> list[LogEntry]:
        rows = self.conn.execute(
            "SELECT id, t, system, node, priority, message FROM log ORDER BY id DESC LIMIT ?", (last,)
        ).fetchall()
        return [LogEntry(*r) for r in reversed(rows)]

    def secret_key(self) -> bytes:
        """The key that seals the cluster's stored passwords (``secret.key``, made on first
        use): kept apart from the database, so a copy of the database alone reveals none."""
        path = self.dir / SECRET_KEY_FILE
        try:
            key = path.read_bytes().strip()
        except FileNotFoundError:
            key = base64.urlsafe_b64encode(os.urandom(32))  # a Fernet key
            write_private(path, key)
        return key

    def machines(self) -> list[tuple[str, bool, bool]]:
        """The simulated machines: (node, powered, management card refuses)."""
        rows = self.conn.execute("SELECT node, powered, refuse FROM sim_hardware ORDER BY node")
        return [(node, bool(powered), bool(refuse)) for node, powered, refuse in rows]

    # -- writing -------------------------------------------------------------------------

    def save(
        self,
        changed: list[tuple[str, str, dict[str, Any]]],
        deleted: list[tuple[str, str]],
        log: list[LogEntry],
        meta: dict[str, Any],
        *,
        log_dropped: list[tuple[int, int]] | None = None,
        machines: Iterable[tuple[str, bool, bool]] = (),
    ) -> None:
        """One transaction: objects changed and deleted, new log entries, then the log
        entries the model dropped (inclusive id ranges: retention and deleteLogs), meta, and
        the simulated machines changed with them."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(
                "INSERT OR REPLACE INTO objects (kind, key, data) VALUES (?, ?, ?)",
                [(k, key, json.dumps(rec, separators=(",", ":"))) for k, key, rec in changed],
            )
            conn.executemany("DELETE FROM objects WHERE kind=? AND key=?", deleted)
            conn.executemany(
                "INSERT INTO log (id, t, system, node, priority, message) VALUES (?, ?, ?, ?, ?, ?)",
                [(e.id, e.t, e.system, e.node, e.priority, e.message) for e in log],
            )
            conn.executemany("DELETE FROM log WHERE id BETWEEN ? AND ?", log_dropped or [])
            conn.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [(k, json.dumps(v)) for k, v in meta.items()],
            )
            conn.executemany(
                "INSERT OR REPLACE INTO sim_hardware (node, powered, refuse) VALUES (?, ?, ?)",
                [(node, int(powered), int(refuse)) for node, powered, refuse in machines],
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.conn.close()
        self.lock.release()
