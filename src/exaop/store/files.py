"""The state dir is private: password hashes and the TLS key live there.

Directories are 0700 and files 0600 whatever the umask: new files are created with
that mode (never readable by others, not even briefly) and whatever an older exaop or a
loose umask left is tightened each time the state dir is opened.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def _chmod(path: Path, mode: int, st: os.stat_result) -> None:
    if stat.S_IMODE(st.st_mode) != mode:
        os.chmod(path, mode)


def private_dir(path: Path) -> None:
    """Create ``path`` (and its missing parents) if needed; the dir itself ends up 0700."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _chmod(path, DIR_MODE, path.stat())


def tighten(root: Path) -> None:
    """Make ``root`` and every dir below it 0700 and every file 0600 (symlinks are left alone)."""
    private_dir(root)
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        for name in [*dirnames, *filenames]:
            path = base / name
            st = path.lstat()
            if stat.S_ISDIR(st.st_mode):
                _chmod(path, DIR_MODE, st)
            elif stat.S_ISREG(st.st_mode):
                _chmod(path, FILE_MODE, st)


def create_private(path: Path) -> None:
    """Make sure ``path`` exists as a 0600 file (an existing one keeps its content).

    SQLite gives its ``-wal`` and ``-shm`` files the database file's mode, so creating
    the database file this way before SQLite opens it keeps those private too.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != FILE_MODE:
            os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step (a reader sees the old or the new file), mode 0600."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
