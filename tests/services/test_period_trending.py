"""A digest's "trending" is the top of its own period's feed days, anchored to the newest
featured day on or before the digest's date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine, select

from paperfeed.models import FeedEntry
from paperfeed.services.feeds import period_trending


def test_trending_of_a_period_takes_only_that_periods_feed_days(
    engine: Engine, site_home: Path
) -> None:
    with engine.connect() as conn:
        by_day: dict[dt.date, set[str]] = {}
        for paper_id, day in conn.execute(select(FeedEntry.paper_id, FeedEntry.day)):
            by_day.setdefault(day, set()).add(paper_id)
        newest = max(by_day)
        two_days = {
            i for d, ids in by_day.items() if newest - dt.timedelta(days=1) <= d for i in ids
        }
        week = {i for d, ids in by_day.items() if newest - dt.timedelta(days=6) <= d for i in ids}
        assert len(by_day) >= 2 and two_days < week  # the store has an older feed day too

        daily = period_trending(conn, newest + dt.timedelta(days=30), 2, 500)
        assert {card.id for card in daily} == two_days  # a quiet month later: the latest days
        weekly = period_trending(conn, newest, 7, 500)
        assert {card.id for card in weekly} == week
        earlier = min(by_day)
        assert {c.id for c in period_trending(conn, earlier, 1, 500)} == by_day[earlier]
        assert period_trending(conn, earlier - dt.timedelta(days=1), 7, 500) == []
        assert len(period_trending(conn, newest, 7, 3)) == 3
