"""The feed's time tabs: a day, an ISO week (``2026-W48``) or a month (``2026-11``).

Parsing is strict and the errors say what was expected, because the same values arrive from
the site's links, the JSON API and hand-typed URLs.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["day", "week", "month"]
_WEEK = re.compile(r"(\d{4})-W(\d{1,2})")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")


#: The periods the feeds answer for. Beyond them lie only dates no paper has, and at the ends
#: of the calendar (years 1 and 9999) the links to the previous and next period, and a
#: month's last day, would fall outside what a date can hold.
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)


class BadPeriod(ValueError):
    """A date, week or month parameter that cannot be read."""


@dataclass(frozen=True, slots=True)
class Period:
    kind: Kind
    start: dt.date
    end: dt.date  # inclusive

    @property
    def key(self) -> str:
        """The value of the URL parameter that names this period."""
        if self.kind == "day":
            return self.start.isoformat()
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start:%Y-%m}"

    @property
    def label(self) -> str:
        if self.kind == "day":
            return f"{self.start:%A, %B} {self.start.day}, {self.start.year}"
        if self.kind == "week":
            return f"Week {self.start.isocalendar()[1]}, {self.start:%b} {self.start.day} to {self.end:%b} {self.end.day}, {self.end.year}"
        return f"{self.start:%B %Y}"

    def shifted(self, steps: int) -> Period:
        """The period ``steps`` before (negative) or after this one, of the same kind."""
        if self.kind == "day":
            return day_period(self.start + dt.timedelta(days=steps))
        if self.kind == "week":
            return week_period(self.start + dt.timedelta(weeks=steps))
        month = self.start.year * 12 + self.start.month - 1 + steps
        return month_period(dt.date(month // 12, month % 12 + 1, 1))

    def containing(self, kind: Kind) -> Period:
        """The period of ``kind`` that holds this one's first day."""
        return {"day": day_period, "week": week_period, "month": month_period}[kind](self.start)


def day_period(day: dt.date) -> Period:
    return Period("day", day, day)


def week_period(day: dt.date) -> Period:
    start = day - dt.timedelta(days=day.weekday())
    return Period("week", start, start + dt.timedelta(days=6))


def month_period(day: dt.date) -> Period:
    start = day.replace(day=1)
    following = (start + dt.timedelta(days=32)).replace(day=1)
    return Period("month", start, following - dt.timedelta(days=1))


def parse_period(
    date: str | None = None, week: str | None = None, month: str | None = None
) -> Period | None:
    """The period the parameters name (at most one may be given), or None for "the latest"."""
    given = [value for value in (date, week, month) if value]
    if len(given) > 1:
        raise BadPeriod("give only one of date, week and month")
    try:
        period = _parsed(date, week, month)
    except OverflowError:  # (a week or month at the very end of the calendar)
        period = None
    else:
        if period is None or (period.start >= FIRST_DAY and period.end <= LAST_DAY):
            return period
    raise BadPeriod(
        f"{given[0][:40]!r} is outside the range of the feeds, {FIRST_DAY} to {LAST_DAY}"
    )


def _parsed(date: str | None, week: str | None, month: str | None) -> Period | None:
    if date:
        try:
            return day_period(dt.date.fromisoformat(date.strip()))
        except ValueError:
            raise BadPeriod(f"date must be written YYYY-MM-DD, not {date[:40]!r}") from None
    if week:
        match = _WEEK.fullmatch(week.strip())
        try:
            if match is None:
                raise ValueError
            return week_period(dt.date.fromisocalendar(int(match[1]), int(match[2]), 1))
        except ValueError:
            raise BadPeriod(
                f"week must be written YYYY-Www (e.g. 2026-W48), not {week[:40]!r}"
            ) from None
    if month:
        match = _MONTH.fullmatch(month.strip())
        try:
            if match is None:
                raise ValueError
            return month_period(dt.date(int(match[1]), int(match[2]), 1))
        except ValueError:
            raise BadPeriod(
                f"month must be written YYYY-MM (e.g. 2026-11), not {month[:40]!r}"
            ) from None
    return None
