"""Files written whole or not at all: a temporary file beside the target, fsync, rename, fsync of
the folder (the way SQLite and every careful editor do it), so a power cut leaves the old file or
the new one, never half of one.

Imports only the standard library; any module that writes a file the person or the kiosk reads
back (calibrations, reports, CSVs, summaries) writes it through here.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

PRIVATE = 0o600
"""Reports, CSVs and summaries describe people's walks: only their owner reads them."""
SHARED = 0o644
"""Files another user must read (a calibration `beltline calibrate` writes as root for the service)."""


@contextlib.contextmanager
def atomic_writer(path: Path, mode: int = PRIVATE) -> Iterator[IO[str]]:
    """A text handle whose contents replace `path` when the block ends without an exception
    (created with `mode`); on an exception the target is untouched and the temporary file goes.
    A target that exists and is not a regular file (/dev/stdout, a pipe) is written directly."""
    path = Path(path)
    if path.exists() and not stat.S_ISREG(path.stat().st_mode):
        with open(path, "w", newline="", encoding="utf-8") as direct:
            yield direct
        return
    with atomic_path(path, mode) as temporary, open(temporary, "w", newline="", encoding="utf-8") as handle:
        yield handle


@contextlib.contextmanager
def atomic_path(path: Path, mode: int = PRIVATE) -> Iterator[Path]:
    """A temporary path beside `path`, with the same suffix (for writers that pick a format from
    it, as OpenCV's video writer does), that replaces `path` when the block ends without an
    exception; on an exception the target is untouched and the temporary file goes."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    descriptor, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".part{path.suffix}", dir=folder)
    os.close(descriptor)
    try:
        os.chmod(name, mode)
        yield Path(name)
        descriptor = os.open(name, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    sync_folder(folder)


def write_atomically(path: Path, text: str, mode: int = PRIVATE) -> None:
    """`text` as the whole of `path`, atomically (see atomic_writer)."""
    with atomic_writer(path, mode) as handle:
        handle.write(text)


def sync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (a no-op where folders cannot be opened)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def unreadable(path: Path) -> str | None:
    """Why `path` cannot be read as a file, in words for a one-line error ("does not exist", "is a
    folder, not a file", "cannot be read: permission denied"); None when it can."""
    if path.is_dir():
        return "is a folder, not a file"
    if not path.exists():
        return "does not exist"
    if not path.is_file():
        return "is not a regular file"
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError as error:
        return f"cannot be read: {(error.strerror or str(error)).lower()}"
    return None
