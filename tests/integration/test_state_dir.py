"""The state dir is private and held by one server: modes whatever the umask, the lock.

Real `exaop serve` subprocesses on a manual clock.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.serverproc import ServerProcess


def modes(root: Path) -> dict[str, int]:
    """Every entry of the state dir (the dir itself as '.') and its permission bits."""
    out = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        out[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return out


def loose(found: dict[str, int], root: Path) -> dict[str, str]:
    """What is not private: dirs must be 0700, everything else 0600."""
    bad = {}
    for name, mode in found.items():
        want = 0o700 if (root / name).is_dir() else 0o600
        if mode != want:
            bad[name] = oct(mode)
    return bad


def test_state_dir_is_private_with_umask_000(tmp_path: Path) -> None:
    state = tmp_path / "state"
    srv = ServerProcess(state, umask=0o000).start()
    try:
        assert srv.proxy().startupNode("n0011") == "OK"  # a change: the WAL is written
        found = modes(state)
        for name in ("exaop.sqlite", "exaop.sqlite-wal", "exaop.sqlite-shm", "tls", "tls/key.pem"):
            assert name in found, sorted(found)
        assert loose(found, state) == {}
    finally:
        srv.stop()


def test_an_existing_loose_state_dir_is_tightened(tmp_path: Path) -> None:
    state = tmp_path / "state"
    srv = ServerProcess(state).start()
    srv.proxy().startupNode("n0011")
    srv.kill9()  # the WAL and shared-memory files stay
    os.chmod(state, 0o755)
    for path in state.rglob("*"):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    assert (state / "exaop.sqlite-wal").exists()

    srv = ServerProcess(state, umask=0o000).start()
    try:
        assert loose(modes(state), state) == {}
        assert srv.proxy().getNodeState("n0011")["status"] == "Booting"
    finally:
        srv.stop()


def serve(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """An `exaop serve` expected to refuse at once."""
    cmd = [sys.executable, "-m", "exaop.cli", "serve", "--host", "127.0.0.1", "--port", "0",
           "--state-dir", str(state), "--speed", "0", "--confd-port", "0", *args]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    """What a writer would change: every entry's size, mtime and mode."""
    stats = {str(p.relative_to(root)): p.stat() for p in root.rglob("*")}
    return {name: (st.st_size, st.st_mtime_ns, st.st_mode) for name, st in stats.items()}


def test_a_second_server_on_the_same_state_dir_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = ServerProcess(state).start()
    try:
        before = snapshot(state)
        done = serve(state, "--admin-password", "another")
        assert done.returncode == 2, done
        assert f"state dir {state} is in use by another exaop process (pid {first.proc.pid})" in done.stderr
        assert "Traceback" not in done.stderr
        assert done.stdout == ""
        assert snapshot(state) == before  # the refused server wrote nothing there
        assert first.proxy().getNodeList()  # and the first one goes on
    finally:
        first.kill9()
    # the kernel released the lock of the killed server: the next one starts
    again = ServerProcess(state).start()
    again.stop()
    assert again.proc.returncode == 0
