"""Backing up and restoring the SQLite store while the site runs.

SQLite's online backup API copies the database page by page under its own locking, so the copy
is one consistent moment of the store even while web nodes and syncs write to it (a plain
file copy of a database in WAL mode can miss the pages still in the WAL). A restore copies the
other way into a new file and renames it over the store, so a failed restore leaves the
store as it was. PostgreSQL stores are backed up with ``pg_dump``.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

PAGES_PER_STEP = 4096


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why."""


def backup(store: Path, target: Path, progress: Callable[[int, int], None] | None = None) -> int:
    """Copy the store at ``store`` to ``target`` (a new file); returns its size in bytes."""
    if not store.exists():
        raise BackupError(f"there is no store at {store}")
    if target.exists():
        raise BackupError(f"{target} exists already: choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        _copy(store, partial, progress)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target.stat().st_size


def restore(source: Path, store: Path, progress: Callable[[int, int], None] | None = None) -> None:
    """Replace the store at ``store`` with the backup ``source`` (checked to be a paperfeed
    store first)."""
    if not source.exists():
        raise BackupError(f"there is no backup at {source}")
    _check(source)
    store.parent.mkdir(parents=True, exist_ok=True)
    partial = store.with_name(store.name + ".restoring")
    try:
        _copy(source, partial, progress)
        for suffix in ("-wal", "-shm"):  # the old store's journal must not replay onto the new one
            Path(f"{store}{suffix}").unlink(missing_ok=True)
        os.replace(partial, store)
    finally:
        partial.unlink(missing_ok=True)


def _copy(source: Path, target: Path, progress: Callable[[int, int], None] | None) -> None:
    def step(status: int, remaining: int, total: int) -> None:
        if progress is not None:
            progress(total - remaining, total)

    # (``closing``: a connection's own context manager commits, it does not close)
    with (
        closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as reader,
        closing(sqlite3.connect(target)) as writer,
    ):
        reader.backup(writer, pages=PAGES_PER_STEP, progress=step)


def _check(source: Path) -> None:
    try:
        with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as db:
            tables = {
                row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if not {"alembic_version", "papers"} <= tables:
                raise BackupError(f"{source} is an SQLite file but not a paperfeed store")
            if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError(f"{source} is damaged (SQLite's quick_check failed)")
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{source} is not an SQLite database ({error})") from None
