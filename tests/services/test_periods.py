"""The feed's day, week and month parameters."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paperfeed.services.periods import BadPeriod, day_period, parse_period


def test_parsing_each_kind() -> None:
    assert parse_period() is None
    day = parse_period(date="2026-06-12")
    assert day is not None and (day.kind, day.start, day.end) == (
        "day",
        dt.date(2026, 6, 12),
        dt.date(2026, 6, 12),
    )
    week = parse_period(week="2026-W48")
    assert week is not None and (week.start, week.end) == (
        dt.date(2026, 11, 23),
        dt.date(2026, 11, 29),
    )
    assert week.key == "2026-W48"
    month = parse_period(month="2024-02")
    assert month is not None and (month.start, month.end) == (
        dt.date(2024, 2, 1),
        dt.date(2024, 2, 29),
    )


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"date": "2026-02-30"}, "YYYY-MM-DD"),
        ({"date": "tomorrow"}, "YYYY-MM-DD"),
        ({"week": "2026-W54"}, "YYYY-Www"),
        ({"week": "W48"}, "YYYY-Www"),
        ({"month": "2026-13"}, "YYYY-MM"),
        ({"date": "2026-06-12", "month": "2026-06"}, "only one"),
    ],
)
def test_bad_values_say_what_was_expected(params: dict[str, str], words: str) -> None:
    with pytest.raises(BadPeriod, match=words):
        parse_period(**params)


def test_stepping_across_year_ends() -> None:
    assert parse_period(month="2026-12").shifted(1).key == "2027-01"  # type: ignore[union-attr]
    assert parse_period(week="2027-W01").shifted(-1).key == "2026-W53"  # type: ignore[union-attr]
    assert day_period(dt.date(2026, 12, 31)).shifted(1).key == "2027-01-01"


@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_every_day_is_in_its_week_and_month_and_keys_round_trip(day: dt.date) -> None:
    for kind in ("week", "month"):
        period = day_period(day).containing(kind)  # type: ignore[arg-type]
        assert period.start <= day <= period.end
        assert parse_period(**{kind: period.key}) == period
        assert period.shifted(1).start == period.end + dt.timedelta(days=1)
