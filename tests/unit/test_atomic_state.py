"""A node's state and its machine's power are saved in one transaction.

A crash (here: the connection dropped without a clean close) between two saves must never
leave a state dir where a node's record and its simulated machine's power disagree.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from exaop.engine.runtime import Runtime
from exaop.store import SCHEMA_VERSION, Store

T0 = 1_000_000.0


def crash(rt: Runtime) -> None:
    """The process dies: nothing more is written, the connection (and the lock) go."""
    assert rt.store is not None
    rt.store.close()
    rt.store = None


def power_and_state(state_dir: Path, node: str) -> tuple[str, str]:
    rt = Runtime.open(state_dir, speed=0, start=T0).runtime
    try:
        return rt.cluster.nodes[node].state, rt.cluster.driver(rt.cluster.nodes[node]).power_state(node)
    finally:
        rt.close()


def refuse_saves(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Store, *args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Store, "save", refuse)


def test_a_refused_save_writes_neither_the_node_nor_its_power(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    rt = Runtime.open(tmp_path, speed=0, admin_password="secret", start=T0).runtime
    rt.cluster.nodes["n0011"].startup()  # the machine is powered on, the node is booting
    refuse_saves(monkeypatch)
    with pytest.raises(sqlite3.OperationalError):
        rt.commit()
    crash(rt)
    monkeypatch.undo()
    assert power_and_state(tmp_path, "n0011") == ("off", "off")


def test_the_next_commit_saves_the_kept_power_change_with_the_node(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    rt = Runtime.open(tmp_path, speed=0, admin_password="secret", start=T0).runtime
    rt.cluster.nodes["n0011"].startup()
    refuse_saves(monkeypatch)
    with pytest.raises(sqlite3.OperationalError):
        rt.commit()
    monkeypatch.undo()
    rt.commit()  # nothing new: what the refused save held is written now, machines included
    crash(rt)
    assert power_and_state(tmp_path, "n0011") == ("booting", "on")


def test_an_injected_power_fail_alone_is_saved(tmp_path: Path) -> None:
    """A change of the simulated machines only (no node record changes) is a change too."""
    rt = Runtime.open(tmp_path, speed=0, admin_password="secret", start=T0).runtime
    rt.cluster.inject_fault("n0012", "power_fail")
    rt.commit()
    crash(rt)
    rt = Runtime.open(tmp_path, speed=0, start=T0).runtime
    assert rt.cluster.drivers["simulated"].refusing() == {"n0012"}
    rt.close()


def test_a_version_1_state_dir_keeps_its_machines(tmp_path: Path) -> None:
    """Schema 1 had the driver create and commit sim_hardware itself; version 2 keeps those rows."""
    rt = Runtime.open(tmp_path, speed=0, admin_password="secret", start=T0).runtime
    rt.cluster.nodes["n0011"].startup()
    rt.commit()
    rt.close()
    conn = sqlite3.connect(tmp_path / "exaop.sqlite")
    with conn:
        conn.execute("UPDATE meta SET value='1' WHERE key='schema_version'")
    conn.close()

    assert power_and_state(tmp_path, "n0011") == ("booting", "on")
    conn = sqlite3.connect(tmp_path / "exaop.sqlite")
    assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    conn.close()
    assert SCHEMA_VERSION == 2


def test_a_start_repairs_a_node_that_disagrees_with_its_power_and_says_so(tmp_path: Path) -> None:
    rt = Runtime.open(tmp_path, speed=0, admin_password="secret", start=T0).runtime
    rt.cluster.nodes["n0011"].startup()
    rt.commit()
    assert rt.store is not None
    rt.store.save([], [], [], {}, machines=[("n0011", False, False)])  # the power lost behind the model's back
    crash(rt)
    opened = Runtime.open(tmp_path, speed=0, start=T0)
    try:
        assert opened.notes == ["repaired: n0011 was booting but is powered off: it is off now"]
        assert opened.runtime.cluster.nodes["n0011"].state == "off"
    finally:
        opened.runtime.close()
    again = Runtime.open(tmp_path, speed=0, start=T0)  # the repair was saved: nothing more to say
    assert again.notes == []
    again.runtime.close()
