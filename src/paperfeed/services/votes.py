"""Upvotes: one per member per paper, and the paper's counter kept exact.

The vote row and the counter change in one transaction: the row's primary key (member,
paper) makes a second vote a no-op, and the counter moves by ``upvotes = upvotes ± 1`` in the
database, never by read-modify-write in Python, so concurrent votes on both SQLite and
PostgreSQL add up exactly.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, Engine, delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from paperfeed.models import Paper, Upvote, table_of
from paperfeed.store.engine import write_transaction
from paperfeed.store.merges import lock_paper

upvotes = table_of(Upvote)
papers = table_of(Paper)


def vote(conn: Connection, user_id: int, paper_id: str, now: dt.datetime) -> int | None:
    """Add the member's vote; the paper's new count, or None if the vote was there already."""
    dialect_insert = sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert
    statement = (
        dialect_insert(upvotes)
        .values(user_id=user_id, paper_id=paper_id, created_at=now)
        .on_conflict_do_nothing()
        .returning(
            upvotes.c.user_id
        )  # a row back only when one was inserted (rowcount is -1 on psycopg)
    )
    if conn.execute(statement).first() is None:
        return None
    return _move(conn, paper_id, +1)


def unvote(conn: Connection, user_id: int, paper_id: str) -> int | None:
    """Remove the member's vote; the paper's new count, or None if there was no vote."""
    removed = conn.execute(
        delete(upvotes).where(upvotes.c.user_id == user_id, upvotes.c.paper_id == paper_id)
    ).rowcount
    return _move(conn, paper_id, -1) if removed else None


def count(conn: Connection, paper_id: str) -> int:
    return int(conn.scalar(select(papers.c.upvotes).where(papers.c.id == paper_id)) or 0)


def paper_to_vote_on(conn: Connection, paper_id: str) -> str:
    """The paper a vote on ``paper_id`` goes to, locked for this transaction (following a
    merge, even one that commits while the vote waits: :func:`lock_paper`); raises
    :class:`LookupError` when there is none. Every write path calls it before voting."""
    found = lock_paper(conn, paper_id)
    if found is None:
        raise LookupError(f"no paper {paper_id[:100]!r} here")
    return found


def toggle(engine: Engine, user_id: int, paper_id: str, now: dt.datetime) -> tuple[bool, int]:
    """Vote, or take the vote back; returns (voted now, the paper's count). Raises
    :class:`LookupError` when the paper is gone."""
    with write_transaction(engine) as conn:
        paper_id = paper_to_vote_on(conn, paper_id)
        added = vote(conn, user_id, paper_id, now)
        if added is not None:
            return True, added
        removed = unvote(conn, user_id, paper_id)
        return False, removed if removed is not None else count(conn, paper_id)


def _move(conn: Connection, paper_id: str, by: int) -> int:
    """Move the counter in the database (exact under concurrent votes); the new count comes
    back with the update, not from another query."""
    moved = conn.scalar(
        update(papers)
        .where(papers.c.id == paper_id)
        .values(upvotes=papers.c.upvotes + by)
        .returning(papers.c.upvotes)
    )
    return int(moved or 0)


def voted_for(conn: Connection, user_id: int, paper_ids: list[str]) -> set[str]:
    if not paper_ids:
        return set()
    return set(
        conn.scalars(
            select(upvotes.c.paper_id).where(
                upvotes.c.user_id == user_id, upvotes.c.paper_id.in_(paper_ids)
            )
        )
    )
