"""One report run per output folder at a time: an exclusive lock on a file in the folder.

``fcntl.flock`` (the standard library; POSIX) on ``<out>/.assesskit-run.lock``, taken
without waiting: a second run on the same folder is refused with a message naming the
folder and the other run's process id. The kernel releases the lock when its holder exits,
however it exits (also after SIGKILL), so a stale lock file never blocks a later run. The
file is removed on release; a run that opened the old file just before the removal notices
that the path now names another file and tries again, so two runs never both hold it.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

from ..exceptions import ReportError

__all__ = ["LOCK_NAME", "RunLock"]

LOCK_NAME = ".assesskit-run.lock"


class RunLock:
    """Exclusive lock on an output folder (a context manager).

    Parameters
    ----------
    out_dir : path
        The run's output folder; created when missing.

    Raises
    ------
    ReportError
        When another run holds the folder (naming it and its pid), or the folder cannot
        be created or written.
    """

    def __init__(self, out_dir: str | os.PathLike) -> None:
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / LOCK_NAME
        self.fd: int | None = None

    def acquire(self) -> RunLock:
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ReportError(f"{self.out_dir}: cannot create the output folder ({exc.strerror})") from None
        for _attempt in range(20):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise ReportError(
                    f"{self.out_dir}: cannot write in the output folder ({exc.strerror})"
                ) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise ReportError(
                        f"{self.path}: cannot lock the output folder ({exc.strerror})"
                    ) from None
                raise ReportError(
                    f"{self.out_dir}: another report run (pid {self._holder()}) is writing to this folder; "
                    "wait for it to finish, or give another --out"
                ) from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self.fd = fd
                self._write_pid()
                return self
            os.close(fd)  # the holder removed the file as we opened it: lock the new one
        raise ReportError(f"{self.path}: cannot lock the output folder (it keeps changing)")

    def _write_pid(self) -> None:
        try:
            os.ftruncate(self.fd, 0)
            os.write(self.fd, f"{os.getpid()}\n".encode())
        except OSError:  # the pid is only for the message of a second run
            pass

    def _holder(self) -> str:
        try:
            text = self.path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return "unknown"
        return text if text.isdigit() else "unknown"

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            self.path.unlink()
        except OSError:
            pass
        try:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
