"""The trending score: upvotes decayed by age, so a fresh paper with a few votes can pass an
old one with many.

    score = upvotes / (age_hours + 2) ** 1.5

``age_hours`` counts from the start (00:00 UTC) of the day the paper was featured. The gravity
1.5 and the two-hour offset follow the Hacker News ranking that many community sites adopted:
a paper loses half its score in roughly its first three hours and keeps decaying slowly after,
and the offset keeps a paper featured a minute ago from dividing by zero. Ties (all scores 0,
for example) go to the newer paper. The About page explains this to readers with the same
constants.
"""

from __future__ import annotations

import datetime as dt

GRAVITY = 1.5
OFFSET_HOURS = 2.0
#: Papers featured more than this long before the newest featured day do not trend.
WINDOW = dt.timedelta(days=30)


def trending_score(upvotes: int, day: dt.date, now: dt.datetime) -> float:
    featured = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    age_hours = max((now - featured).total_seconds() / 3600, 0.0)
    return float(upvotes / (age_hours + OFFSET_HOURS) ** GRAVITY)
