"""Replace a file all at once: a crash leaves either the old file or the new one, never half;
hold a file for one process at a time; and read a file that must be a plain, bounded one."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from reconciler.i18n import N_

TEMP_SUFFIX = ".tmp"
# mkstemp's random part: 8 of [a-z0-9_] (tempfile's own alphabet).
_TEMP_NAME = r"\.[a-z0-9_]{8}" + re.escape(TEMP_SUFFIX)


@contextlib.contextmanager
def atomic_write(path: Path) -> Iterator[TextIO]:
    """Write to a temp file beside `path`, fsync it, rename it over `path`, fsync the folder.

    The temp file is created 0600 by mkstemp, so what it holds (password hashes) is
    never readable by others, even for a moment.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def try_lock(path: Path) -> TextIO | None:
    """An exclusive lock on `path`'s `.lock` file beside it, held until the returned file is closed;
    None when another process holds it (the caller says who that is likely to be)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = open(path.with_name(path.name + ".lock"), "w")  # noqa: SIM115 - held until the caller closes it
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        return None
    return lock


def remove_stale_temps(path: Path) -> list[Path]:
    """Remove the temp copies of `path` that an interrupted `atomic_write` left beside it (a killed
    process never reaches its clean-up); returns what was removed.

    Call it only while holding `try_lock(path)`: then no other writer is between mkstemp and
    rename. Only our own names (`<name>.<8 random>.tmp`), only plain files owned by this user, are
    removed; nothing else in the folder is touched.
    """
    pattern = re.compile(re.escape(path.name) + _TEMP_NAME)
    removed = []
    try:
        names = os.listdir(path.parent)
    except OSError:
        return []
    for name in names:
        candidate = path.parent / name
        if not pattern.fullmatch(name):
            continue
        try:
            info = os.lstat(candidate)
            if stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid():
                os.unlink(candidate)
                removed.append(candidate)
        except OSError:
            continue
    return removed


class NotAPlainFile(OSError):
    """The path is a FIFO, a device, a socket or a folder: reading it could block or never end."""

    def __init__(self, what: str) -> None:
        super().__init__(f"not a plain file but {what}")
        self.what = what


class FileTooLarge(OSError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"{size / 1024 / 1024:.1f} MiB, over the {limit // 1024 // 1024} MiB limit")
        self.size, self.limit = size, limit


# What a path is instead of a plain file, as messages say it (translated where said: `_(error.what)`).
_KINDS = ((stat.S_ISDIR, N_("a folder")), (stat.S_ISFIFO, N_("a FIFO (named pipe)")), (stat.S_ISSOCK, N_("a socket")),
          (stat.S_ISCHR, N_("a character device")), (stat.S_ISBLK, N_("a block device")))


def _what(mode: int) -> str:
    return next((what for test, what in _KINDS if test(mode)), N_("not a regular file"))


def read_plain_file(path: str | Path, limit: int, *, listed_regular: bool = False) -> bytes:
    """The bytes of `path`, which must be a regular file of at most `limit` bytes.

    A FIFO would block `read` forever and /dev/zero never ends, so the kind is checked before
    opening (a socket cannot even be opened) and again on the open file (it may have been swapped),
    which is opened without blocking; the read stops one byte past the limit, whatever the size
    said, and ends after one read where the size said was the whole file. `listed_regular`: the
    caller's folder listing already says a regular file, not a link, is there (os.scandir knows
    without a call), so the check before opening is not made again (100,000 people's files: a stat
    each); the open file is still checked. Raises NotAPlainFile, FileTooLarge or another OSError.
    """
    if not listed_regular:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise NotAPlainFile(_what(info.st_mode))
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotAPlainFile(_what(info.st_mode))
        if info.st_size > limit:
            raise FileTooLarge(info.st_size, limit)
        # One read where the size said is the whole file (every file of org/, most often): asked for a
        # byte more, a file that grew since is read on, as one that gave less (shrunk, a short read).
        first = os.read(fd, info.st_size + 1)
        if len(first) == info.st_size:
            return first
        chunks, total = [first], len(first)
        if total > limit:
            raise FileTooLarge(total, limit)
        while chunk := os.read(fd, min(1 << 20, limit + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise FileTooLarge(total, limit)
        return b"".join(chunks)
    finally:
        os.close(fd)
