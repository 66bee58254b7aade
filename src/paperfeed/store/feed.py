"""Featuring papers on a day's feed, and the vote and comment counters shown on cards."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, func, insert, select, update

from paperfeed.models import FeedEntry, Paper, PaperCategory, table_of

feed_entries = table_of(FeedEntry)
papers = table_of(Paper)
paper_categories = table_of(PaperCategory)

Outcome = Literal["featured", "already", "moved"]


@dataclass(frozen=True, slots=True)
class Featured:
    outcome: Outcome
    day: dt.date
    previous_day: dt.date | None = None


class PaperNotFound(LookupError):
    """The paper to feature is not in the store."""


def feature(
    conn: Connection,
    paper_id: str,
    day: dt.date,
    now: dt.datetime,
    submitter: str | None = None,
    submitter_name: str | None = None,
    move: bool = True,
    submitted_by: int | None = None,
) -> Featured:
    """Put ``paper_id`` on ``day``'s feed. A paper is on one day at most: featuring it again on
    the same day changes nothing; on another day moves it there (and says from where), unless
    ``move`` is false (automatic rules never take a paper off the day someone featured it).
    A move keeps the entry's submitter unless a new one is named: who submitted a paper does
    not change because an admin moved it."""
    if conn.scalar(select(papers.c.id).where(papers.c.id == paper_id)) is None:
        raise PaperNotFound(f"{paper_id} is not in the store: import it first")
    current = conn.execute(
        select(feed_entries.c.id, feed_entries.c.day).where(feed_entries.c.paper_id == paper_id)
    ).first()
    if current is None:
        conn.execute(
            insert(feed_entries).values(
                paper_id=paper_id, day=day, submitter=submitter, submitter_name=submitter_name,
                submitted_by=submitted_by, submitted_at=now, hidden=False,
            )
        )  # fmt: skip
        return Featured("featured", day)
    if current.day == day or not move:
        return Featured("already", current.day)
    changes: dict[str, object] = {"day": day}
    if submitter is not None or submitted_by is not None:
        changes.update(
            submitter=submitter, submitter_name=submitter_name, submitted_by=submitted_by,
            submitted_at=now,
        )  # fmt: skip
    conn.execute(update(feed_entries).where(feed_entries.c.id == current.id).values(**changes))
    return Featured("moved", day, current.day)


def raise_counts(conn: Connection, paper_id: str, upvotes: int, num_comments: int) -> None:
    """Counts from another site (a Daily Papers import): kept if ours are already higher."""
    conn.execute(
        update(papers)
        .where(papers.c.id == paper_id)
        .values(
            upvotes=func.max(papers.c.upvotes, upvotes)
            if conn.dialect.name == "sqlite"
            else func.greatest(papers.c.upvotes, upvotes),
            num_comments=func.max(papers.c.num_comments, num_comments)
            if conn.dialect.name == "sqlite"
            else func.greatest(papers.c.num_comments, num_comments),
        )
    )


def listed_paper_ids(
    conn: Connection, day: dt.date, categories: Sequence[str], with_code: bool = False
) -> list[str]:
    """Papers arXiv listed on ``day`` in any of ``categories`` (cross-lists included): what an
    auto-feature rule such as "feature new cs.CL papers that link code" picks."""
    query = (
        select(papers.c.id)
        .distinct()
        .join(paper_categories, paper_categories.c.paper_id == papers.c.id)
        .where(papers.c.listed_on == day, paper_categories.c.category.in_(list(categories)))
        .order_by(papers.c.id)
    )
    if with_code:
        query = query.where(papers.c.code_url.is_not(None))
    return list(conn.scalars(query))
