"""Folders and files that hold personal data or keys: created private (0700 / 0600), kept private.

Creation never has a window in which a file is readable by others: folders are made with mode 0700
and files opened with 0600 and O_EXCL (a umask can only narrow these). SQLite creates its -wal and
-shm files with the database file's own permissions, so a 0600 database keeps them 0600 too;
companions left wider by an older version are tightened.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def open_to_others(path: Path) -> bool:
    """Whether the group or other users have any access."""
    return bool(mode_of(path) & 0o077)


def make_private_dir(path: Path) -> None:
    """Create `path` and any missing parents with mode 0700. A folder that exists is left as it is."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        folder.mkdir(mode=PRIVATE_DIR, exist_ok=True)


def create_private_file(path: Path) -> bool:
    """Create `path` empty with mode 0600; False when it already exists (then it is not touched)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def write_private_file(path: Path, text: str) -> None:
    """Write a new file with mode 0600 from the first byte; raises FileExistsError if it exists."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)


def tighten(path: Path, mode: int = PRIVATE_FILE) -> bool:
    """chmod a file of this user's that is open wider than `mode`; True when it was changed.

    A file of another user's is left alone (chmod would fail, and it is not ours to change).
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        return False
    if not stat.S_IMODE(info.st_mode) & ~mode or info.st_uid != os.geteuid():
        return False
    path.chmod(mode)
    return True


def private_sqlite_file(path: Path) -> None:
    """Before SQLite opens `path`: its folder exists (0700 when made here), the file is 0600.

    An empty file is a valid empty SQLite database.
    """
    make_private_dir(path.parent)
    if not create_private_file(path):
        tighten(path)
    for suffix in SQLITE_COMPANIONS:
        tighten(path.with_name(path.name + suffix))
