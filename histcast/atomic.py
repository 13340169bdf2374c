"""Files written all or nothing, and folders whose contents a manifest vouches for.

`write_bytes(file, data)` writes to a temporary file with a unique name beside `file`, flushes it
to disk (fsync) and renames it over `file`: a reader sees the old file or the new one, never a
part, whatever the moment a process is killed, the disk fills or permissions fail; concurrent
writers each write their own temporary file, and the last rename wins.

A saved model is a folder whose manifest (`config.json`, `ensemble.json`) is written last by
`write_bytes` and names the other files it vouches for by unique names (`unique_name`): until
the manifest's rename, the folder holds the old model; after it, the new one. Files that no
manifest names any more are removed after the rename (`remove`), and leftovers of killed saves
(`TMP_PREFIX` files, unnamed versions) once they are older than `STALE_SECONDS` (`clean`).
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path

TMP_PREFIX = ".tmp-"  # temporary files: never named by a manifest
STALE_SECONDS = 600.0  # leftovers older than this are a killed save's, not a running one's


def unique_name(stem: str, suffix: str = "") -> str:
    """`stem-<time>-<pid>-<random><suffix>`: a name no other save, here or elsewhere, picks."""
    return f"{stem}-{time.time_ns():x}-{os.getpid()}-{uuid.uuid4().hex[:8]}{suffix}"


def write_bytes(file: Path, data: bytes) -> None:
    """Write `data` to `file` atomically: a unique temporary file beside it, fsync, rename, and
    fsync of the folder (so the rename itself survives a power cut where the OS supports it)."""
    file = Path(file)
    tmp = file.with_name(TMP_PREFIX + unique_name(file.name))
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, file)
    except BaseException:  # a full disk, a permission error, Ctrl-C: leave nothing behind
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(file.parent)


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (renames, new files) to disk; a no-op where the OS cannot."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove(path: Path) -> None:
    """Remove a file or a folder tree if it exists (files no manifest names any more)."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def clean(folder: Path, keep: set[str], patterns: tuple[str, ...], now: float | None = None):
    """Remove the entries of `folder` that match `patterns` (globs), are not in `keep` and are
    older than `STALE_SECONDS`: what killed saves left behind, never a save still running."""
    now = time.time() if now is None else now
    for pattern in patterns:
        for entry in Path(folder).glob(pattern):
            try:
                old = now - entry.lstat().st_mtime > STALE_SECONDS
            except FileNotFoundError:
                continue
            if entry.name not in keep and old:
                remove(entry)
