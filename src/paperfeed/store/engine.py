"""Engines for the store: SQLite (the embedded default) and PostgreSQL, from one URL.

SQLite runs in WAL mode so readers never wait for the writer, with foreign keys enforced and a
busy timeout. Writes go through :func:`write_transaction`, which on SQLite starts with
``BEGIN IMMEDIATE``: concurrent writers then queue on the lock at the start instead of failing
half-way with "database is locked" when a read transaction tries to upgrade.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry

_WRITE_OPTION = "paperfeed_write"


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs that name no driver (``postgresql://...``)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


CONNECT_TIMEOUT = 2  # seconds, PostgreSQL
#: Connections a process keeps open, and how many more it may open at a peak (so a node needs
#: up to 40 of PostgreSQL's ``max_connections``; docs/deploy.md).
POOL_SIZE = 20
MAX_OVERFLOW = 20
#: A pooled PostgreSQL connection idle for longer than this is pinged before it is handed out.
IDLE_PING_SECONDS = 1.0


def make_engine(url: str) -> Engine:
    """An engine for ``url``; for SQLite the database's folder is created if missing."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(
            f"unsupported database {parsed.drivername!r}: use sqlite:/// or postgresql://"
        )
    # A stopped or unreachable server fails a request in seconds, not minutes.
    # The pool keeps as many connections as a busy node uses at once: with SQLAlchemy's default
    # (5), every connection beyond was opened and closed per request, a new server process
    # each time, which cost a loaded node more than its queries. Last in, first out: a busy
    # node reuses a few warm connections, and the rest stay idle (and are pinged, below).
    # Plain connections read in autocommit: each statement sees the latest commits either way
    # (READ COMMITTED), and a page saves the BEGIN and ROLLBACK round trips psycopg would
    # add around its queries. Writes go through :func:`write_transaction`, which is atomic.
    engine = create_engine(
        url, pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW, pool_use_lifo=True,
        connect_args={"connect_timeout": CONNECT_TIMEOUT}, isolation_level="AUTOCOMMIT",
    )  # fmt: skip
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Connections the server dropped (a restart, an idle timeout) are noticed at checkout and
    replaced, so the pool recovers by itself when the server is back.

    Why not SQLAlchemy's ``pool_pre_ping``: it pings at every checkout, a round trip per
    request, and most pages make only one or two queries. A connection used a moment ago is
    known to work; and when the server goes away under a busy node, the first failed query
    makes SQLAlchemy invalidate every connection opened before it (the request answers 503).
    """
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        returned = record.info.get("returned_at")  # (None on a new connection: just opened)
        if returned is None or time.monotonic() - returned < IDLE_PING_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                # The pool replaces the connection with a new one and checks out again.
                raise DisconnectionError(str(error)) from error
            raise


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # The same pool as PostgreSQL's: beyond SQLAlchemy's default of 5, each concurrent request
    # opened a connection of its own, with an empty page cache, and closed it after.
    engine = create_engine(
        url, pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW, connect_args={"timeout": 30}
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself, so we can choose IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB: imports touch many index pages
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def outage_reason(error: DBAPIError) -> str:
    """The driver's own first line of why the store did not answer ("connection refused"),
    for a one-line message: SQLAlchemy's text adds the statement and a link."""
    return str(error.orig or error).strip().splitlines()[0][:200]


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection inside a write transaction, committed on success, rolled back on error.

    The only way to write atomically: plain connections to PostgreSQL are in autocommit."""
    options: dict[str, Any] = {_WRITE_OPTION: True}
    if not is_sqlite(engine):
        options["isolation_level"] = "READ COMMITTED"
    with engine.connect().execution_options(**options) as conn, conn.begin():
        yield conn
