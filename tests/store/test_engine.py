"""Engines: SQLite pragmas, URL handling, and writers that queue instead of failing."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from paperfeed.models import Organization
from paperfeed.store.engine import make_engine, normalise_url, write_transaction
from paperfeed.store.migrate import upgrade


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'p.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert (tmp_path / "nested" / "dir" / "p.db").exists()


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    with pytest.raises(Exception, match=r"(?i)foreign key"), write_transaction(engine) as conn:
        conn.execute(
            text("INSERT INTO paper_categories (paper_id, category) VALUES ('nope', 'cs.LG')")
        )


def test_concurrent_read_then_write_transactions_queue_instead_of_failing(tmp_path: Path) -> None:
    """With a deferred BEGIN, the second of two read-then-write transactions fails at once with
    'database is locked'; BEGIN IMMEDIATE makes it wait for the first."""
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    upgrade(engine)
    failures: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            with write_transaction(engine) as conn:
                count = conn.scalar(select(func.count()).select_from(Organization))
                time.sleep(0.2)
                conn.execute(
                    Organization.__table__.insert().values(slug=f"org-{n}-{count}", name=f"Org {n}")
                )
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Organization)) == 4


def test_urls() -> None:
    assert normalise_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalise_url("postgres://h/db") == "postgresql+psycopg://h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"
    with pytest.raises(ValueError, match="unsupported database 'mysql'"):
        make_engine("mysql://h/db")
