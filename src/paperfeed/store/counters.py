"""Budget counters: limits that hold across every node and under parallel requests.

A limit ("10 submissions a day per member", "60 searches a minute per address") is a key, a
budget and a window. :func:`take` spends one unit of a key's budget with a single statement,

    INSERT … ON CONFLICT (key) DO UPDATE SET used = … WHERE <budget left> RETURNING used

run inside the caller's write transaction, so the check and the spending are one atomic step in
the database: two requests can never both see "9 used" and both go on to the 11th. On
PostgreSQL the conflicting row is locked and the ``WHERE`` re-read on its latest version; on
SQLite :func:`~paperfeed.store.engine.write_transaction` starts with ``BEGIN IMMEDIATE``, so
writers queue. A request that is refused gets no row back, and nothing changes.

Why fixed windows (aligned to the Unix epoch, so a daily window turns at 00:00 UTC) rather than
a sliding log or a token bucket: a key is then one row and one statement, with no read in
Python between the check and the write, and the window's end is a pure function of the clock
(so "retry after" needs no query). The price is that a client can spend a full budget just
before a window turns and another just after; for limits against abuse that burst of at most
twice the budget is acceptable. Old windows are reset in place by the next take, and rows of
keys no longer used are removed by :func:`prune`.
"""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import Connection, Engine, case, delete, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from paperfeed.models import BudgetCounter, table_of
from paperfeed.store.engine import write_transaction

counters = table_of(BudgetCounter)

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def window_end(window: dt.timedelta, now: dt.datetime) -> dt.datetime:
    """The end of the fixed window of length ``window`` that ``now`` falls in (UTC)."""
    span = window.total_seconds()
    if span <= 0:
        raise ValueError("a counter's window must be longer than zero")
    elapsed = (now.astimezone(dt.UTC) - _EPOCH).total_seconds()
    return _EPOCH + dt.timedelta(seconds=(math.floor(elapsed / span) + 1) * span)


def seconds_to_wait(window: dt.timedelta, now: dt.datetime) -> int:
    """Whole seconds until the window turns and a refused key has budget again (at least 1),
    for a ``Retry-After`` header."""
    return max(1, math.ceil((window_end(window, now) - now).total_seconds()))


def take(
    conn: Connection,
    key: str,
    limit: int,
    window: dt.timedelta,
    now: dt.datetime,
    amount: int = 1,
) -> bool:
    """Spend ``amount`` of ``key``'s budget of ``limit`` per ``window``; True if it was within
    the budget (and is now spent), False if not (and nothing changed).

    Call it inside the write transaction that does the limited work, so that a rollback of
    the work gives the budget back."""
    if amount > limit or amount <= 0:
        return amount <= 0
    ends = window_end(window, now)
    dialect_insert = sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert
    statement = dialect_insert(counters).values(key=key, window_end=ends, used=amount)
    fresh = counters.c.window_end < statement.excluded.window_end  # the stored window is over
    spent = conn.execute(
        statement.on_conflict_do_update(
            index_elements=[counters.c.key],
            set_={
                "used": case((fresh, amount), else_=counters.c.used + amount),
                "window_end": case(
                    (fresh, statement.excluded.window_end), else_=counters.c.window_end
                ),
            },
            where=or_(fresh, counters.c.used + amount <= limit),
        ).returning(counters.c.used)
    ).first()
    return spent is not None


def used(conn: Connection, key: str, window: dt.timedelta, now: dt.datetime) -> int:
    """How much of ``key``'s budget is spent in the current window: for refusing early, before
    costly work, a request that :func:`take` would refuse anyway (it stays the judge)."""
    spent = conn.scalar(
        select(counters.c.used).where(
            counters.c.key == key, counters.c.window_end >= window_end(window, now)
        )
    )
    return int(spent or 0)


def take_committed(
    engine: Engine, key: str, limit: int, window: dt.timedelta, now: dt.datetime
) -> bool:
    """:func:`take` in a transaction of its own, for a limit that guards no write (a search,
    an export): the unit stays spent whatever the request does next."""
    with write_transaction(engine) as conn:
        return take(conn, key, limit, window, now)


def prune(conn: Connection, now: dt.datetime) -> int:
    """Delete the rows whose window is over (their keys start afresh on the next take anyway);
    returns how many went."""
    return int(
        conn.execute(
            delete(counters).where(counters.c.window_end <= now.astimezone(dt.UTC))
        ).rowcount
    )


#: Seconds between a web node's removals of expired rows (``web/app.py``'s background jobs).
PRUNE_EVERY = 3600.0


def prune_expired(engine: Engine) -> int:
    """:func:`prune` in a transaction of its own, as of now."""
    with write_transaction(engine) as conn:
        return prune(conn, dt.datetime.now(dt.UTC))


def forget(conn: Connection, key: str) -> None:
    """Give ``key`` its whole budget back (a log-in that succeeded clears its attempts)."""
    conn.execute(delete(counters).where(counters.c.key == key))
