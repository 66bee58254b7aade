"""Fixtures shared by every test: a fresh store on SQLite and on a real PostgreSQL.

``make test`` starts PostgreSQL and sets PAPERFEED_TEST_POSTGRES_URL; each test gets a database
of its own (created here, dropped after), so tests never see each other's papers.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from paperfeed.search.embedder import MiniLMEmbedder
from paperfeed.store.engine import make_engine
from paperfeed.store.migrate import upgrade

FIXTURES = Path(__file__).parent / "fixtures"


def postgres_admin_url() -> str:
    url = os.environ.get("PAPERFEED_TEST_POSTGRES_URL")
    if not url:
        pytest.fail(
            "PAPERFEED_TEST_POSTGRES_URL is not set: run the tests with `make test`, which starts "
            "a throw-away PostgreSQL (or wrap pytest in scripts/with-postgres)."
        )
    return url


@contextmanager
def new_postgres_database() -> Iterator[str]:
    """A URL to a new, empty PostgreSQL database, dropped when the block ends."""
    admin = postgres_admin_url()
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test."""
    with new_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty store, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'paperfeed.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An initialised (migrated) store on each database."""
    store = make_engine(db_url)
    upgrade(store)
    yield store
    store.dispose()


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory's ``models`` folder with the real model exported to ONNX, once per
    test session (copy it into a node's data directory to spare that node the export)."""
    folder = tmp_path_factory.mktemp("models")
    MiniLMEmbedder(folder)
    return folder


@pytest.fixture(scope="session")
def minilm(model_dir: Path) -> MiniLMEmbedder:
    """The real model (its ONNX export made once per session), on one thread: with two, the
    int8 kernels' sums come out in a varying order, and close rankings with them."""
    return MiniLMEmbedder(model_dir, threads=1)
