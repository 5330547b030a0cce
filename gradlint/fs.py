"""File-system questions that neither block nor raise where a plain call would (one place for them).

A FIFO, a device or a folder where a file is expected, an unreadable folder, a symlink loop: asked
here, each is an ordinary answer (OSError for reading, False for the predicates), never a hang.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def read_regular(path: Path | str, limit: int | None = None) -> bytes:
    """A regular file's bytes; OSError for anything else (a FIFO would block, a device never end) and,
    with `limit`, for a file larger than `limit` bytes. Opened non-blocking: a FIFO waits for no writer."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(0, "not a regular file", str(path))
        if limit is None:
            return handle.read()
        if info.st_size > limit:
            raise OSError(0, "file too large", str(path))
        data = handle.read(limit + 1)  # it may have grown since fstat
        if len(data) > limit:
            raise OSError(0, "file too large", str(path))
        return data


def is_file(path: Path) -> bool:
    """Path.is_file, with an unreadable folder (EACCES) or any other OSError answering False."""
    try:
        return path.is_file()
    except OSError:
        return False


def is_dir(path: Path) -> bool:
    """Path.is_dir, with any OSError answering False."""
    try:
        return path.is_dir()
    except OSError:
        return False
