"""DATA_DIR, the embedded default's folder: the SQLite database and the generated secret.key.

A folder eblagh creates is 0700. One that already exists open to other users is tightened only when
it is plainly eblagh's own: owned by this user and holding nothing but eblagh's files (as an older
eblagh left it, 0755). Anything else (another user's folder, a home directory, a folder shared with
a backup agent) was set up by someone on purpose: chmod could break their setup, so eblagh warns
with the command to run instead. The files inside are 0600 either way, so what stays visible there
is only that they exist.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from storage.files import PRIVATE_DIR, make_private_dir, mode_of, open_to_others

log = logging.getLogger(__name__)

# What eblagh keeps in DATA_DIR (bot/settings.py, bot/app.py, bot/commands/shell.py).
OWN_ENTRIES = frozenset({"eblagh.db", "eblagh.db-wal", "eblagh.db-shm", "eblagh.db-journal", "secret.key",
                         "cache", "demo"})


def secure_data_dir(path: Path) -> None:
    """Create DATA_DIR with mode 0700, or tighten or warn about an existing one (see above)."""
    if not path.exists():
        make_private_dir(path)
        return
    if not path.is_dir() or not open_to_others(path):
        return
    mode = oct(mode_of(path))
    if path.stat().st_uid == os.geteuid() and set(os.listdir(path)) <= OWN_ENTRIES:
        path.chmod(PRIVATE_DIR)
        log.warning("DATA_DIR %s was open to other users (mode %s); tightened to 0o700", path, mode)
        return
    log.warning("DATA_DIR %s is open to other users (mode %s) and is not only eblagh's, so it is left as it "
                "is; the database and secret.key in it are 0600, but run `chmod 700 %s` to hide them fully",
                path, mode, path)
