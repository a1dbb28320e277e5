"""A store that refuses a write loses nothing: the next commit saves the same changes,
log entries deleted included."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from exaop.engine.runtime import Runtime
from exaop.model.logs import delete_logs
from exaop.store import Store


def refuse_first_save(monkeypatch: pytest.MonkeyPatch) -> None:
    """The store's next save fails as a full disk would; the ones after it work."""
    real_save = Store.save
    calls = []

    def refuse_once(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            raise sqlite3.OperationalError("database or disk is full")
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(Store, "save", refuse_once)


def test_a_failed_save_keeps_the_changes_for_the_next_commit(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    rt = Runtime.open(tmp_path, speed=0, admin_password="secret", start=1_000_000.0).runtime
    node = rt.cluster.nodes["n0011"]
    node.startup()
    refuse_first_save(monkeypatch)
    with pytest.raises(sqlite3.OperationalError):
        rt.commit()
    rt.commit()  # nothing new changed: the kept changes are saved now
    rt.close()
    again = Runtime.open(tmp_path, speed=0, start=1_000_000.0).runtime
    assert again.cluster.nodes["n0011"].state == "booting"
    assert any("n0011 is booting" in e.message for e in again.cluster.logbook.entries)
    again.close()


def log_ids(state: Path) -> list[int]:
    with sqlite3.connect(state / Store.FILE) as conn:
        return [r[0] for r in conn.execute("SELECT id FROM log ORDER BY id")]


def test_a_failed_save_keeps_the_log_deletions_for_the_next_commit(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    rt = Runtime.open(tmp_path, speed=0, admin_password="secret", start=1_000_000.0).runtime
    c = rt.cluster
    for i in range(20):
        c.log("Load", "", "Information", f"filler {i}")
    rt.commit()
    delete_logs(c, False, [], "", "", by="admin")
    refuse_first_save(monkeypatch)
    with pytest.raises(sqlite3.OperationalError):
        rt.commit()
    assert len(log_ids(tmp_path)) > 20  # nothing half done
    rt.commit()
    assert log_ids(tmp_path) == [e.id for e in c.logbook.entries] == [c.logbook.last_id]
    rt.close()
