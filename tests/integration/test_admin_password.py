"""admin's password: set only when a state dir is created (flag, file or environment), reset
with `exaop admin reset-password` while no server holds the state dir.

Real `exaop serve` / `exaop admin` subprocesses.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from xmlrpc.client import ProtocolError

import pytest

from tests.serverproc import ADMIN_PASSWORD, ServerProcess

NODES = ["n0011", "n0012", "n0013", "n0014"]
NO_ENV = {"EXAOP_ADMIN_PASSWORD": None}


def refused(srv: ServerProcess, password: str) -> bool:
    try:
        srv.proxy(password=password).getNodeList()
    except ProtocolError as e:
        return e.errcode == 401
    return False


def notes(srv: ServerProcess) -> list[str]:
    return [line for line in srv.output if line.startswith("exaop serve: note:")]


def exaop(*args: str, env: dict[str, str | None] | None = None, **kwargs) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    environ = {k: v for k, v in os.environ.items() if k != "EXAOP_ADMIN_PASSWORD"}
    for k, v in (env or {}).items():
        if v is not None:
            environ[k] = v
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run(
        [sys.executable, "-m", "exaop.cli", *args], capture_output=True, text=True, timeout=60, env=environ, **kwargs
    )


def test_a_changed_password_survives_a_restart_with_the_flag_still_given(tmp_path: Path) -> None:
    state = tmp_path / "state"
    srv = ServerProcess(state, env=NO_ENV).start()
    assert notes(srv) == []  # a new state dir: the flag is used, nothing to say
    assert srv.proxy().editUser("admin", {"password": "changed-pw"}) == ["password"]
    srv.stop()

    srv = ServerProcess(state, env=NO_ENV).start()  # --admin-password admin-secret again
    try:
        assert srv.proxy(password="changed-pw").getNodeList() == NODES
        assert refused(srv, ADMIN_PASSWORD)
        said = notes(srv)
        assert len(said) == 1, srv.output
        assert "--admin-password is ignored" in said[0]
        assert f"exaop admin reset-password --state-dir {state}" in said[0]
        assert ADMIN_PASSWORD not in "\n".join(srv.output)
    finally:
        srv.stop()


def test_the_environment_sets_it_on_creation_only(tmp_path: Path) -> None:
    state = tmp_path / "state"
    srv = ServerProcess(state, admin_password=None, env={"EXAOP_ADMIN_PASSWORD": "from-the-env"}).start()
    assert srv.proxy(password="from-the-env").getNodeList() == NODES
    assert notes(srv) == []
    srv.stop()
    srv = ServerProcess(state, admin_password=None, env={"EXAOP_ADMIN_PASSWORD": "another-one"}).start()
    try:
        assert srv.proxy(password="from-the-env").getNodeList() == NODES
        assert refused(srv, "another-one")
        said = notes(srv)
        assert len(said) == 1 and "EXAOP_ADMIN_PASSWORD is ignored" in said[0], srv.output
    finally:
        srv.stop()


def test_password_file_first_line(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("from the file\nsecond line is not the password\n")
    srv = ServerProcess(tmp_path / "state", admin_password=None, env=NO_ENV,
                        extra=["--admin-password-file", str(secret)]).start()  # fmt: skip
    try:
        assert srv.proxy(password="from the file").getNodeList() == NODES
        assert notes(srv) == []
    finally:
        srv.stop()


@pytest.mark.parametrize("case", ["missing", "empty", "flag too"])
def test_password_file_refusals(tmp_path: Path, case: str) -> None:
    secret = tmp_path / "secret"
    if case != "missing":
        secret.write_text("\n" if case == "empty" else "from-the-file\n")
    state = tmp_path / "state"
    extra = ["--admin-password", "from-the-flag"] if case == "flag too" else []
    done = exaop("serve", "--port", "0", "--state-dir", str(state), "--speed", "0",
                 "--admin-password-file", str(secret), *extra)  # fmt: skip
    assert done.returncode == 2, done
    assert "Traceback" not in done.stderr
    expected = {"missing": f"cannot read password file {secret}", "empty": f"password file {secret} is empty",
                "flag too": "not allowed with argument"}[case]  # fmt: skip
    assert expected in done.stderr
    assert not state.exists()  # refused before anything was made


def test_reset_password_refused_while_a_server_holds_the_state_dir(tmp_path: Path) -> None:
    state = tmp_path / "state"
    secret = tmp_path / "secret"
    secret.write_text("brand-new-pw\n")
    srv = ServerProcess(state, env=NO_ENV).start()
    try:
        done = exaop("admin", "reset-password", "--state-dir", str(state), "--password-file", str(secret))
        assert done.returncode == 2, done
        assert f"state dir {state} is in use by another exaop process (pid {srv.proc.pid})" in done.stderr
        assert refused(srv, "brand-new-pw")
    finally:
        srv.stop()

    done = exaop("admin", "reset-password", "--state-dir", str(state), "--password-file", str(secret))
    assert done.returncode == 0, done
    assert "brand-new-pw" not in done.stdout + done.stderr
    srv = ServerProcess(state, admin_password=None, env=NO_ENV).start()
    try:
        assert srv.proxy(password="brand-new-pw").getNodeList() == NODES
        assert refused(srv, ADMIN_PASSWORD)
        entries = srv.proxy("/cluster1/logservice1", password="brand-new-pw").logEntries()[2]
        assert any("password of user admin was reset" in e["message"] for e in entries)
    finally:
        srv.stop()


def test_reset_password_from_the_environment_and_its_refusals(tmp_path: Path) -> None:
    state = tmp_path / "state"
    ServerProcess(state, env=NO_ENV).start().stop()
    args = ("admin", "reset-password", "--state-dir", str(state))

    nothing = exaop(*args)  # no file, no variable, no terminal to ask on
    assert nothing.returncode == 2 and "--password-file" in nothing.stderr, nothing
    short = exaop(*args, env={"EXAOP_ADMIN_PASSWORD": "abc"})
    assert short.returncode == 2 and "at least 4 characters" in short.stderr, short
    nowhere = exaop("admin", "reset-password", "--state-dir", str(tmp_path / "none"),
                    env={"EXAOP_ADMIN_PASSWORD": "from-the-env"})  # fmt: skip
    assert nowhere.returncode == 2 and "holds no cluster" in nowhere.stderr, nowhere
    assert not (tmp_path / "none").exists()

    done = exaop(*args, env={"EXAOP_ADMIN_PASSWORD": "from-the-env"})
    assert done.returncode == 0, done
    srv = ServerProcess(state, admin_password=None, env=NO_ENV).start()
    try:
        assert srv.proxy(password="from-the-env").getNodeList() == NODES
    finally:
        srv.stop()


def test_reset_password_asks_on_a_terminal(tmp_path: Path) -> None:
    state = tmp_path / "state"
    ServerProcess(state, env=NO_ENV).start().stop()
    master, slave = pty.openpty()
    environ = {k: v for k, v in os.environ.items() if k != "EXAOP_ADMIN_PASSWORD"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "exaop.cli", "admin", "reset-password", "--state-dir", str(state)],
        stdin=slave, stdout=slave, stderr=slave, env=environ, start_new_session=True,
    )  # fmt: skip
    os.close(slave)
    seen = b""

    def read_until(text: bytes) -> None:
        nonlocal seen
        end = time.monotonic() + 30
        while text not in seen:
            assert time.monotonic() < end, seen
            ready, _, _ = select.select([master], [], [], 1)
            if ready:
                seen += os.read(master, 1024)

    read_until(b"New password for admin: ")
    os.write(master, b"typed-pw\n")
    read_until(b"Again: ")
    os.write(master, b"typed-pw\n")
    assert proc.wait(60) == 0, seen
    os.close(master)
    assert b"typed-pw" not in seen  # not echoed
    srv = ServerProcess(state, admin_password=None, env=NO_ENV).start()
    try:
        assert srv.proxy(password="typed-pw").getNodeList() == NODES
    finally:
        srv.stop()
