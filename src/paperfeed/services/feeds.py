"""The daily, weekly and monthly feeds and trending, as pages of cards.

A period's entries are few (a busy day has about fifty, a month some thousands), so sorting by
the trending score, which depends on the clock, is done here rather than in SQL; sorting by
upvotes or newest is done by the database with the page's limit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import ColumnElement, Connection, func, select

from paperfeed.models import FeedEntry, Paper, PaperCategory
from paperfeed.services.cards import Card, card_query, cards_from_rows, load_cards
from paperfeed.services.periods import Period, day_period
from paperfeed.services.trending import WINDOW, trending_score

Sort = Literal["trending", "upvotes", "newest"]
SORTS: tuple[Sort, ...] = ("trending", "upvotes", "newest")
PAGE_SIZE = 50


@dataclass(slots=True)
class FeedPage:
    period: Period
    sort: Sort
    cards: list[Card] = field(default_factory=list)
    total: int = 0
    offset: int = 0
    previous: dt.date | None = None  # nearest earlier day with papers
    following: dt.date | None = None  # nearest later day with papers


def latest_day(conn: Connection) -> dt.date | None:
    """The newest day that has featured papers."""
    return conn.scalar(select(func.max(FeedEntry.day)).where(FeedEntry.hidden.is_(False)))


def feed_page(
    conn: Connection,
    period: Period | None,
    sort: Sort = "trending",
    offset: int = 0,
    limit: int = PAGE_SIZE,
    now: dt.datetime | None = None,
    submitter: str | None = None,
) -> FeedPage:
    """The papers featured in ``period`` (default: the latest day with papers)."""
    if period is None:
        period = day_period(latest_day(conn) or dt.datetime.now(dt.UTC).date())
    page = FeedPage(period, sort, offset=offset)
    where: list[ColumnElement[bool]] = [
        FeedEntry.day >= period.start,
        FeedEntry.day <= period.end,
        FeedEntry.hidden.is_(False),
    ]
    if submitter:
        where.append(FeedEntry.submitter == submitter)
    page.total = conn.scalar(select(func.count()).select_from(FeedEntry).where(*where)) or 0
    if sort == "trending":
        page.cards = load_cards(conn, _by_trending(conn, where, now)[offset : offset + limit])
    else:
        order = (
            (Paper.upvotes.desc(), FeedEntry.day.desc(), Paper.id)
            if sort == "upvotes"
            else (Paper.published.desc(), FeedEntry.day.desc(), Paper.id)
        )
        query = card_query().where(*where).order_by(*order).offset(offset).limit(limit)
        page.cards = cards_from_rows(conn, conn.execute(query).all())
    page.previous, page.following = neighbour_days(conn, period)
    return page


def neighbour_days(conn: Connection, period: Period) -> tuple[dt.date | None, dt.date | None]:
    """The nearest days before and after ``period`` that have featured papers."""
    visible = FeedEntry.hidden.is_(False)
    before = conn.scalar(
        select(func.max(FeedEntry.day)).where(FeedEntry.day < period.start, visible)
    )
    after = conn.scalar(select(func.min(FeedEntry.day)).where(FeedEntry.day > period.end, visible))
    return before, after


def trending_page(
    conn: Connection, offset: int = 0, limit: int = PAGE_SIZE, now: dt.datetime | None = None
) -> tuple[list[Card], int]:
    """Featured papers by trending score, across days, and how many there are in the window.

    Only papers featured within :data:`WINDOW` of the newest featured day compete: the decay
    makes older ones negligible, and the window keeps this one indexed range read.
    """
    newest = latest_day(conn)
    if newest is None:
        return [], 0
    where: list[ColumnElement[bool]] = [
        FeedEntry.day >= newest - WINDOW,
        FeedEntry.hidden.is_(False),
    ]
    ranked = _by_trending(conn, where, now)
    return load_cards(conn, ranked[offset : offset + limit]), len(ranked)


def _by_trending(
    conn: Connection, where: list[ColumnElement[bool]], now: dt.datetime | None
) -> list[str]:
    """Ids of the entries matching ``where``, best trending score first.

    Only the three columns the score needs are read for every entry; cards are loaded for
    the page alone.
    """
    rows = conn.execute(
        select(FeedEntry.paper_id, Paper.upvotes, FeedEntry.day)
        .join(Paper, Paper.id == FeedEntry.paper_id)
        .where(*where)
    ).all()
    clock = now or dt.datetime.now(dt.UTC)
    ranked = sorted(
        rows,
        key=lambda r: (-trending_score(r.upvotes, r.day, clock), -r.day.toordinal(), r.paper_id),
    )
    return [row.paper_id for row in ranked]


def recent_entries(
    conn: Connection,
    sort: Sort = "newest",
    offset: int = 0,
    limit: int = PAGE_SIZE,
    submitter: str | None = None,
) -> list[Card]:
    """Featured papers across all days, the most recently featured day first."""
    where: list[ColumnElement[bool]] = [FeedEntry.hidden.is_(False)]
    if submitter:
        where.append(FeedEntry.submitter == submitter)
    order = (
        (FeedEntry.day.desc(), Paper.upvotes.desc(), Paper.id)
        if sort in ("trending", "upvotes")
        else (FeedEntry.day.desc(), Paper.published.desc(), Paper.id)
    )
    rows = conn.execute(card_query().where(*where).order_by(*order).offset(offset).limit(limit))
    return cards_from_rows(conn, rows.all())


def category_papers(conn: Connection, category: str, limit: int = PAGE_SIZE) -> list[Card]:
    """The newest papers in ``category`` (cross-lists included), newest id first.

    New-style arXiv ids grow with time, so the (category, paper id) index gives the newest
    without sorting the category's papers by date.
    """
    ids = conn.scalars(
        select(PaperCategory.paper_id)
        .where(PaperCategory.category == category)
        .order_by(PaperCategory.paper_id.desc())
        .limit(limit)
    ).all()
    return load_cards(conn, list(ids))
