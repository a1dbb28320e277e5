"""Administration of a state dir: admin's password from a file, and its reset while no server runs."""

from __future__ import annotations

from pathlib import Path

from exaop.engine.runtime import Runtime
from exaop.store import Store, StoreError


class PasswordFileError(ValueError):
    """The password file cannot be read, or holds no password."""


def read_password_file(path: str | Path) -> str:
    """The password in ``path``: its first line, without the line break."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise PasswordFileError(f"cannot read password file {path}: {reason}") from e
    lines = text.splitlines()
    if not lines or not lines[0]:
        raise PasswordFileError(f"password file {path} is empty (the password is its first line)")
    return lines[0]


def reset_admin_password(state_dir: str | Path, password: str) -> None:
    """Set admin's password in the cluster of ``state_dir`` and log it in the cluster log.

    Refused (:class:`~exaop.store.StateDirBusy`) while a server holds the state dir, whose
    own copy of the users would overwrite the change; nothing else of the cluster moves.
    """
    directory = Path(state_dir)
    if not (directory / Store.FILE).is_file():  # do not make a state dir by asking for a reset
        raise StoreError(f"state dir {directory} holds no cluster")
    store = Store(directory)
    try:
        if not store.initialized:
            raise StoreError(f"state dir {directory} holds no cluster")
        rt = Runtime.load(store)
        rt.cluster.users.reset_password("admin", password, "with exaop admin reset-password")
        rt.commit()
    finally:
        store.close()
