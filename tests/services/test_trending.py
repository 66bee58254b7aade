"""The trending score decays with age, so recent votes count more."""

from __future__ import annotations

import datetime as dt

from paperfeed.services.trending import trending_score

NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)


def test_fresher_papers_with_fewer_votes_can_lead() -> None:
    today = trending_score(10, dt.date(2026, 11, 25), NOW)
    last_week = trending_score(100, dt.date(2026, 11, 18), NOW)
    assert today > last_week > 0
    assert trending_score(0, dt.date(2026, 11, 25), NOW) == 0


def test_more_votes_on_the_same_day_rank_higher_and_the_future_is_not_a_bonus() -> None:
    day = dt.date(2026, 11, 20)
    assert trending_score(5, day, NOW) > trending_score(4, day, NOW)
    tomorrow = dt.date(2026, 11, 26)
    assert trending_score(5, tomorrow, NOW) == trending_score(
        5, dt.date(2026, 11, 25), NOW.replace(hour=0)
    )
