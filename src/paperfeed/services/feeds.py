"""The daily, weekly and monthly feeds and trending, as pages of cards.

A period's entries are few (a busy day has about fifty, a month some thousands), so sorting by
the trending score, which depends on the clock, is done here rather than in SQL; sorting by
upvotes or newest is done by the database with the page's limit.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    Date,
    Select,
    bindparam,
    func,
    select,
    text,
)

from paperfeed.models import FeedEntry, Paper, PaperCategory
from paperfeed.services.cards import Card, card_query, cards_from_rows, load_cards
from paperfeed.services.periods import Period, day_period
from paperfeed.services.trending import WINDOW, trending_score

Sort = Literal["trending", "upvotes", "newest"]
SORTS: tuple[Sort, ...] = ("trending", "upvotes", "newest")
PAGE_SIZE = 50
RANKING_TTL = 5.0  # seconds a node reuses a trending ranking
_RANKINGS: dict[tuple[object, ...], tuple[float, list[str]]] = {}
_RANKINGS_LOCK = threading.Lock()


@dataclass(slots=True)
class FeedPage:
    period: Period
    sort: Sort
    cards: list[Card] = field(default_factory=list)
    total: int = 0
    offset: int = 0
    previous: dt.date | None = None  # nearest earlier day with papers
    following: dt.date | None = None  # nearest later day with papers


def latest_day(conn: Connection, until: dt.date | None = None) -> dt.date | None:
    """The newest day that has featured papers (on or before ``until``, if given)."""
    query = select(func.max(FeedEntry.day)).where(FeedEntry.hidden.is_(False))
    if until is not None:
        query = query.where(FeedEntry.day <= until)
    newest = conn.scalar(query)
    return None if newest is None else _as_date(newest)


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
    facts = conn.execute(_FACTS, {"start": period.start, "end": period.end}).one()
    page.previous, page.following = facts.before, facts.after
    page.cards, page.total = _entries(
        conn, period, sort, offset, limit, now, submitter, facts.newest_entry, counted=True
    )
    return page


def feed_cards(
    conn: Connection,
    period: Period,
    sort: Sort = "trending",
    offset: int = 0,
    limit: int = PAGE_SIZE,
    submitter: str | None = None,
) -> list[Card]:
    """The papers of :func:`feed_page` alone, without the neighbour days and the count that a
    page shows and the API does not."""
    return _entries(conn, period, sort, offset, limit, None, submitter, None, counted=False)[0]


def _entries(
    conn: Connection,
    period: Period,
    sort: Sort,
    offset: int,
    limit: int,
    now: dt.datetime | None,
    submitter: str | None,
    newest_entry: int | None,
    counted: bool,
) -> tuple[list[Card], int]:
    """A page of the period's cards, and how many entries it has (0 if not ``counted``)."""
    if sort == "trending":
        ranked = _by_trending(conn, period.start, period.end, submitter, now, newest_entry)
        # (the ranking reads the same entries a count would)
        return load_cards(conn, ranked[offset : offset + limit]), len(ranked)
    where: list[ColumnElement[bool]] = [
        FeedEntry.day >= period.start,
        FeedEntry.day <= period.end,
        FeedEntry.hidden.is_(False),
    ]
    if submitter:
        where.append(FeedEntry.submitter == submitter)
    total = 0
    if counted:
        total = conn.scalar(select(func.count()).select_from(FeedEntry).where(*where)) or 0
    order = (
        (Paper.upvotes.desc(), FeedEntry.day.desc(), Paper.id)
        if sort == "upvotes"
        else (Paper.published.desc(), FeedEntry.day.desc(), Paper.id)
    )
    query = card_query().where(*where).order_by(*order).offset(offset).limit(limit)
    return cards_from_rows(conn, conn.execute(query).all()), total


def _facts() -> Select[Any]:
    """One query for what a feed page needs besides its papers: the nearest days before and
    after the period that have featured papers, and the newest entry (the rankings' cache key).
    Round trips to the database, not its work, are most of a page's cost on a busy node."""
    visible = FeedEntry.hidden.is_(False)
    start, end = bindparam("start", type_=Date), bindparam("end", type_=Date)
    before = select(func.max(FeedEntry.day)).where(FeedEntry.day < start, visible)
    after = select(func.min(FeedEntry.day)).where(FeedEntry.day > end, visible)
    return select(
        before.scalar_subquery().label("before"),
        after.scalar_subquery().label("after"),
        select(func.max(FeedEntry.id)).scalar_subquery().label("newest_entry"),
    )


_FACTS = _facts()


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
    ranked = _by_trending(conn, newest - WINDOW, newest, None, now)
    return load_cards(conn, ranked[offset : offset + limit]), len(ranked)


def period_trending(conn: Connection, until: dt.date, days: int, limit: int) -> list[Card]:
    """The top papers of the last ``days`` feed days up to ``until`` (the newest featured day
    on or before it, and the days before that), best trending score first: a digest's
    "trending" for its period. Anchored to the newest featured day, so a quiet day or a site
    whose feed stopped still offers its latest papers (the digest ledger keeps them from
    coming twice)."""
    newest = latest_day(conn, until)
    if newest is None:
        return []
    ranked = _by_trending(conn, newest - dt.timedelta(days=days - 1), newest, None, None)
    return load_cards(conn, ranked[:limit])


def _by_trending(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    submitter: str | None,
    now: dt.datetime | None,
    newest_entry: int | None = None,
) -> list[str]:
    """The ranking, from a cache kept :data:`RANKING_TTL` seconds per process.

    Ranking a month of entries reads thousands of rows; the order moves slowly (votes, aging),
    so each node reuses its ranking for a few seconds. The cache key holds the newest entry's
    id, so a newly featured paper shows at once; cards, with their vote counts, are always read
    fresh. (Hiding a paper, when moderation comes, must call :func:`forget_rankings`.)
    """
    if newest_entry is None:  # (the caller may have read it already)
        newest_entry = conn.scalar(select(func.max(FeedEntry.id)))  # the primary key: no scan
    key = (str(conn.engine.url), start, end, submitter, newest_entry)
    clock = time.monotonic()
    with _RANKINGS_LOCK:
        cached = _RANKINGS.get(key)
        if cached is not None and cached[0] > clock and now is None:
            return cached[1]
    ranked = _rank(conn, start, end, submitter, now)
    if now is None:
        with _RANKINGS_LOCK:
            if len(_RANKINGS) > 256:
                _RANKINGS.clear()
            _RANKINGS[key] = (clock + RANKING_TTL, ranked)
    return ranked


def forget_rankings() -> None:
    with _RANKINGS_LOCK:
        _RANKINGS.clear()


def _rank(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    submitter: str | None,
    now: dt.datetime | None,
) -> list[str]:
    """Ids of the visible entries featured from ``start`` to ``end``, best trending score first.

    Only the vote count and the day are read for each entry, and on SQLite from the
    ``(id, upvotes)`` index alone (its planner would otherwise read every paper's row: three
    times slower at 3,000 entries); cards are loaded for the page only. The decay depends on
    the day alone, so it is computed once per day, not once per entry.
    """
    # Only fixed text is put together here; every value is a bound parameter.
    join = (
        "JOIN papers p INDEXED BY ix_papers_id_upvotes"
        if conn.dialect.name == "sqlite"
        else "JOIN papers p"
    )
    by_submitter = " AND f.submitter = :submitter" if submitter else ""
    sql = " ".join(
        [
            "SELECT f.paper_id, p.upvotes, f.day FROM feed_entries f",
            join,
            "ON p.id = f.paper_id WHERE f.day >= :start AND f.day <= :end AND f.hidden = :hidden",
            by_submitter,
        ]
    )
    params: dict[str, Any] = {"start": start, "end": end, "hidden": False}
    if submitter:
        params["submitter"] = submitter
    statement = text(sql).bindparams(
        bindparam("start", type_=Date), bindparam("end", type_=Date),
        bindparam("hidden", type_=Boolean),
    )  # fmt: skip
    # Rows as plain tuples, days as the database returns them: converting 3,000 dates costs
    # more than the query. Days are converted once each, for the decay.
    rows = conn.execute(statement, params).all()
    clock = now or dt.datetime.now(dt.UTC)
    days = {day: _as_date(day) for day in {row[2] for row in rows}}
    decay = {day: trending_score(1, value, clock) for day, value in days.items()}
    order = {day: -value.toordinal() for day, value in days.items()}
    ranked = sorted(rows, key=lambda r: (-r[1] * decay[r[2]], order[r[2]], r[0]))
    return [row[0] for row in ranked]


def _as_date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


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
    return load_cards(conn, category_paper_ids(conn, category, limit))


def category_paper_ids(conn: Connection, category: str, limit: int = PAGE_SIZE) -> list[str]:
    """The ids of :func:`category_papers`, without loading the cards."""
    return list(
        conn.scalars(
            select(PaperCategory.paper_id)
            .where(PaperCategory.category == category)
            .order_by(PaperCategory.paper_id.desc())
            .limit(limit)
        )
    )


def newest_papers(conn: Connection, limit: int = PAGE_SIZE) -> list[Card]:
    """The most recently published papers, featured or not (a search with no query).

    Papers without a date come after every dated one, never first: on PostgreSQL a descending
    order puts NULLs first, so they are asked for only when the dated ones run out."""
    dated = list(
        conn.scalars(
            select(Paper.id)
            .where(Paper.published.is_not(None))
            .order_by(Paper.published.desc(), Paper.id.desc())
            .limit(limit)
        )
    )
    if len(dated) < limit:
        dated += conn.scalars(
            select(Paper.id)
            .where(Paper.published.is_(None))
            .order_by(Paper.id.desc())
            .limit(limit - len(dated))
        )
    return load_cards(conn, dated)
