"""Whether two papers with the same title are one paper, judged only by what both records know.

A title alone does not name a paper: "Attention Is All You Need" is the title of more than one,
and short or generic titles repeat. Before a paper without an arXiv id is merged into the
arXiv paper with its title, the facts both records have must agree, and at least one of them
must agree positively (an author's surname in both, or a date in the window below): a title
and nothing more, or a title and an author count, never merges. A fact one of the records
lacks is no evidence either way (nothing is guessed to fill it):

- **author count**: the capture's "N authors" (or the number of names a ``source:id`` record
  gives) must equal the arXiv record's number of authors;
- **author names**, when both records name authors: at least one surname in common;
- **dates**: the date the capture shows is the day the paper appeared on the daily list (or
  the date its search page shows), which follows the arXiv record's first-version date by
  days to weeks. It must fall from :data:`EARLIEST` before to :data:`LATEST` after that
  date. A date shown without a year ("Apr 8") agrees when that day of some year near the
  arXiv date falls in the window; the year is only tried, never stored. An arXiv record
  without a first-version date is judged by the month its id names (``2504.06514``:
  first submitted in April 2025): any day of that month is its date.

When they disagree, :func:`conflict` says why in words the import report prints.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import Connection, select

from paperfeed.arxiv_ids import parse_arxiv_id
from paperfeed.models import Author, Paper, PaperAuthor, table_of

papers = table_of(Paper)
paper_authors = table_of(PaperAuthor)
authors = table_of(Author)

EARLIEST = dt.timedelta(days=7)  # time zones, and a listing dated before the version's date
LATEST = dt.timedelta(days=62)  # "days to weeks" after arXiv, with room for a slow week
_SHOWN = re.compile(r"([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2})")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


@dataclass(frozen=True, slots=True)
class Facts:
    """What one stored record says that can tell two papers of one title apart."""

    names: tuple[str, ...]
    num_authors: int | None
    published: dt.date | None
    date_shown: str | None
    #: The first and last day of the month a new-style arXiv id names, when ``published`` is None.
    id_month: tuple[dt.date, dt.date] | None = None

    @property
    def author_count(self) -> int | None:
        """The count the source gave, or the number of names it listed; None if neither."""
        return self.num_authors if self.num_authors is not None else (len(self.names) or None)


def facts_of(conn: Connection, paper_id: str) -> Facts:
    row = conn.execute(
        select(papers.c.num_authors, papers.c.published, papers.c.date_shown).where(
            papers.c.id == paper_id
        )
    ).one()
    names = conn.scalars(
        select(authors.c.name)
        .join(paper_authors, paper_authors.c.author_id == authors.c.id)
        .where(paper_authors.c.paper_id == paper_id)
        .order_by(paper_authors.c.position)
    ).all()
    return Facts(tuple(names), row.num_authors, row.published, row.date_shown, _id_month(paper_id))


def _id_month(paper_id: str) -> tuple[dt.date, dt.date] | None:
    """The month an arXiv id was given out in (its ``YYMM``), first and last day."""
    try:
        arxiv_id = parse_arxiv_id(paper_id).id
    except ValueError:
        return None
    yymm = arxiv_id.split("/")[-1][:4]  # new style 2504.06514, old style hep-th/9901001
    year = int(yymm[:2])
    first = dt.date(year + (1900 if year >= 91 else 2000), int(yymm[2:]), 1)
    following = (first + dt.timedelta(days=31)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def conflict(old: Facts, arxiv: Facts) -> str | None:
    """Why ``old`` (a paper without an arXiv id) and ``arxiv`` are not known to be the same
    paper, or None when nothing both know disagrees and an author or the date agrees."""
    counts = (old.author_count, arxiv.author_count)
    if None not in counts and counts[0] != counts[1]:
        return f"{counts[0]} authors here, {counts[1]} on arXiv"
    named = bool(old.names and arxiv.names)
    if named and not _surnames(old.names) & _surnames(arxiv.names):
        return f"no author in common ({old.names[0]} … here, {arxiv.names[0]} … on arXiv)"
    window = _window(arxiv)
    dated = window is not None and (old.published is not None or bool(_month_day(old.date_shown)))
    if window is not None and dated and not _dates_agree(old, window):
        shown = old.published.isoformat() if old.published else old.date_shown
        if arxiv.published is not None:
            return f"dated {shown} here, first published {arxiv.published.isoformat()} on arXiv"
        return f"dated {shown} here, first submitted in {window[0]:%B %Y} on arXiv"
    if not named and not dated:
        return "nothing but the title to go on (no authors or date to compare)"
    return None


def _window(arxiv: Facts) -> tuple[dt.date, dt.date] | None:
    """The first and last day the arXiv paper's first version may have appeared on."""
    if arxiv.published is not None:
        return arxiv.published, arxiv.published
    return arxiv.id_month


def _dates_agree(old: Facts, window: tuple[dt.date, dt.date]) -> bool:
    if old.published is not None:
        return _in_window(old.published, window)
    day = _month_day(old.date_shown)
    if day is None:
        return True  # no date, or one we cannot read: no evidence
    month, day_of_month = day
    for year in (window[0].year - 1, window[0].year, window[0].year + 1):
        try:
            if _in_window(dt.date(year, month, day_of_month), window):
                return True
        except ValueError:  # Feb 29 of a year without one
            continue
    return False


def _in_window(shown: dt.date, window: tuple[dt.date, dt.date]) -> bool:
    return window[0] - EARLIEST <= shown <= window[1] + LATEST


def _month_day(shown: str | None) -> tuple[int, int] | None:
    match = _SHOWN.fullmatch(shown.strip()) if shown else None
    if match is None or match[1].lower() not in _MONTHS:
        return None
    return _MONTHS.index(match[1].lower()) + 1, int(match[2])


def _surnames(names: tuple[str, ...]) -> set[str]:
    """Each name's last word, folded (case and accents): "Chenrui Fan" → "fan"."""
    found = set()
    for name in names:
        words = name.split()
        if words:
            folded = unicodedata.normalize("NFKD", words[-1]).casefold()
            found.add("".join(c for c in folded if not unicodedata.combining(c)))
    return found
