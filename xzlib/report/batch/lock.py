"""One build per output folder: an ``flock`` on ``<out>/.xz-build.lock`` held for the whole build."""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import socket
import sys
from pathlib import Path

__all__ = ["BuildLock", "LOCK", "clean_stale"]

#: Lock file name, in the output folder.
LOCK = ".xz-build.lock"


def _usage(message: str) -> Exception:
    from ...errors import UsageError

    return UsageError(message)


class BuildLock:
    """Exclusive lock on an output folder, held for the whole build.

    The lock belongs to the process (``flock``), so a killed build never leaves a stale
    lock; the file names the holder (pid, host, start time) for the refusal message.

    Parameters
    ----------
    out : path
        Output folder (created if needed).
    wait : bool
        Wait for the other build instead of refusing.

    Raises
    ------
    UsageError
        On entry, when another build holds the lock and ``wait`` is false.
    """

    def __init__(self, out: str | os.PathLike, *, wait: bool = False) -> None:
        self.path = Path(out) / LOCK
        self.wait = wait
        self._fd: int | None = None

    def __enter__(self) -> BuildLock:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._holder(fd)
            if not self.wait:
                os.close(fd)
                raise _usage(
                    f"another xz build ({holder}) is writing to {self.path.parent}; "
                    "wait for it to finish, pass --wait, or choose another --out"
                ) from None
            sys.stderr.write(
                f"xz build: waiting for the build ({holder}) writing to {self.path.parent}...\n"
            )
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        started = _dt.datetime.now().astimezone().isoformat(timespec="seconds")
        info = {"pid": os.getpid(), "host": socket.gethostname(), "started_at": started}
        os.pwrite(fd, json.dumps(info).encode(), 0)
        self._fd = fd
        return self

    @staticmethod
    def _holder(fd: int) -> str:
        try:
            info = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
            return f"pid {info['pid']} on {info['host']}, started {info['started_at']}"
        except (ValueError, KeyError, OSError):
            return "unknown process"

    def __exit__(self, *exc) -> None:
        import fcntl

        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def clean_stale(out: Path, *folders: str) -> None:
    """Remove temporary files a killed build left in ``out`` and its ``folders`` (hold the lock)."""
    for folder in (Path(out), *(Path(out) / f for f in folders)):
        if folder.is_dir():
            for path in folder.glob(".*.tmp"):
                with contextlib.suppress(OSError):
                    path.unlink()
