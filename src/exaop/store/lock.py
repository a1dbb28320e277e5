"""One process per state dir: an exclusive ``flock`` on ``exaop.lock`` for the holder's whole life.

The kernel releases the lock when the process ends, even on ``kill -9``, so a crashed
server never leaves a stale lock behind. The holder writes its pid into the file, which
lets a refused process say who holds the dir.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import BinaryIO

from exaop.store.errors import StateDirBusy
from exaop.store.files import DIR_MODE, FILE_MODE


class StateDirLock:
    FILE = "exaop.lock"

    def __init__(self, directory: Path) -> None:
        """Hold ``directory`` (created 0700 if missing) or raise :class:`StateDirBusy`.

        A refused caller writes nothing to the directory: the lock file exists already
        when someone holds it, and it is only written once the lock is ours.
        """
        directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        path = directory / self.FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        f: BinaryIO = os.fdopen(fd, "r+b")  # closed (and the lock released) even if never release()d
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = f.read(32).decode("ascii", "replace").strip()
            f.close()
            by = f" (pid {holder})" if holder.isdigit() else ""
            raise StateDirBusy(
                f"state dir {directory} is in use by another exaop process{by}; one process at a time may hold it"
            ) from None
        except BaseException:
            f.close()
            raise
        f.truncate(0)
        f.write(f"{os.getpid()}\n".encode())
        f.flush()
        self._file: BinaryIO | None = f

    @property
    def held(self) -> bool:
        return self._file is not None

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the last descriptor drops the flock
            self._file = None
