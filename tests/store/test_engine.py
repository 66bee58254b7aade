"""Engines: SQLite pragmas, URL handling, and writers that queue instead of failing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from paperfeed.models import Organization
from paperfeed.store import engine as engine_module
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


def _terminate(url: str, pid: int) -> None:
    """End one server process from outside, as a restart or an idle timeout would."""
    # Autocommit: inside one transaction pg_stat_activity is a snapshot taken at its first
    # read, so a backend still exiting at that moment would be seen forever (a hang under load).
    with psycopg.connect(
        make_url(url).set(drivername="postgresql").render_as_string(False), autocommit=True
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        deadline = time.monotonic() + 30
        while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
            assert time.monotonic() < deadline, f"backend {pid} did not exit"
            time.sleep(0.02)


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


def _server_pid(engine: Engine) -> int:
    """The PostgreSQL process behind the connection the pool hands out next."""
    with engine.connect() as conn:
        return int(conn.scalar(text("SELECT pg_backend_pid()")) or 0)


def test_an_idle_connection_the_server_dropped_is_replaced_at_checkout(
    pg_engine: Engine, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "IDLE_PING_SECONDS", 0.2)
    dropped = _server_pid(pg_engine)
    _terminate(postgres_url, dropped)
    time.sleep(0.3)  # idle longer than the ping interval: pinged, found dead, replaced

    assert _server_pid(pg_engine) not in (0, dropped)


def test_a_connection_used_a_moment_ago_is_not_pinged_and_a_drop_fails_one_request(
    pg_engine: Engine, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No round trip for a ping on a busy node; if the server went away meanwhile, the failed
    query invalidates the pool, and the next request gets a new connection."""
    monkeypatch.setattr(engine_module, "IDLE_PING_SECONDS", 60.0)
    dropped = _server_pid(pg_engine)
    _terminate(postgres_url, dropped)

    with pytest.raises(OperationalError), pg_engine.connect() as conn:
        conn.scalar(text("SELECT 1"))

    assert _server_pid(pg_engine) not in (0, dropped)
