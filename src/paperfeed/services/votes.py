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

upvotes = table_of(Upvote)
papers = table_of(Paper)


def vote(conn: Connection, user_id: int, paper_id: str, now: dt.datetime) -> bool:
    """Add the member's vote; False if it was there already."""
    dialect_insert = sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert
    statement = (
        dialect_insert(upvotes)
        .values(user_id=user_id, paper_id=paper_id, created_at=now)
        .on_conflict_do_nothing()
        .returning(
            upvotes.c.user_id
        )  # a row back only when one was inserted (rowcount is -1 on psycopg)
    )
    added = conn.execute(statement).first() is not None
    if added:
        conn.execute(
            update(papers).where(papers.c.id == paper_id).values(upvotes=papers.c.upvotes + 1)
        )
    return added


def unvote(conn: Connection, user_id: int, paper_id: str) -> bool:
    """Remove the member's vote; False if there was none."""
    removed = conn.execute(
        delete(upvotes).where(upvotes.c.user_id == user_id, upvotes.c.paper_id == paper_id)
    ).rowcount
    if removed:
        conn.execute(
            update(papers).where(papers.c.id == paper_id).values(upvotes=papers.c.upvotes - 1)
        )
    return bool(removed)


def toggle(engine: Engine, user_id: int, paper_id: str, now: dt.datetime) -> tuple[bool, int]:
    """Vote, or take the vote back; returns (voted now, the paper's count)."""
    with write_transaction(engine) as conn:
        voted = vote(conn, user_id, paper_id, now) or not unvote(conn, user_id, paper_id)
        count = conn.scalar(select(papers.c.upvotes).where(papers.c.id == paper_id)) or 0
    return voted, int(count)


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
