"""Locks that make one node, of however many, run a background job (sync, digests) at a time.

On PostgreSQL: a session-level advisory lock held on a dedicated connection for the job's
duration (it goes away by itself if the process dies). On SQLite, where every process is on one
machine: an ``flock`` on a file beside the database, which the kernel also releases on death.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock``."""
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


@contextmanager
def job_lock(engine: Engine, name: str) -> Iterator[bool]:
    """Yields True if this process holds the job's lock until the block ends, False if another
    process holds it (the caller then skips the job)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            held = bool(
                conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": lock_key(name)})
            )
            conn.commit()
            try:
                yield held
            finally:
                if held:
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": lock_key(name)})
                    conn.commit()
        return
    database = engine.url.database
    folder = Path(database).resolve().parent if database and database != ":memory:" else Path.cwd()
    path = folder / f".paperfeed-{name}.lock"
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)
