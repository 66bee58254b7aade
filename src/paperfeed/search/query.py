"""What a user typed into the search box, taken apart: free text plus filters.

The box accepts ``author:"Yann LeCun"``, ``author:lecun``, ``cat:cs.LG``, ``year:2023`` and
``year:2020-2023`` anywhere in the text, and ``-author:…``/``NOT author:…`` and
``-cat:…``/``NOT cat:…`` to leave papers out; the rest is free text with phrases ("..."),
AND/OR/NOT and -term. Parsing never fails: whatever cannot be understood is searched as plain words, and
input is cut to a sane length, so a pasted 10 KB abstract or stray control characters are fine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

MAX_QUERY_CHARS = 2_000
#: group 1: a leading ``-`` or ``NOT`` (the filter leaves papers out); 2: the filter's name.
_FILTER = re.compile(r'(?<!\S)(-|\bNOT\s+)?(author|cat|year):("[^"]*"|\S+)', re.I)
_YEARS = re.compile(r"(\d{4})(?:\s*(?:-|\.\.)\s*(\d{4})?)?|(?:-|\.\.)(\d{4})")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class BadQuery(ValueError):
    """A query the keyword engine refuses to run (``title:*``, a field that does not exist);
    the message says what to write instead."""


@dataclass(frozen=True, slots=True)
class Filters:
    """Restrictions that apply to keyword and semantic results alike, before fusion."""

    categories: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    year_from: int | None = None
    year_to: int | None = None
    has_code: bool = False
    #: Papers in any of these categories, or by any of these authors, are left out.
    not_categories: tuple[str, ...] = ()
    not_authors: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(
            self.categories or self.authors or self.year_from or self.year_to or self.has_code
            or self.not_categories or self.not_authors
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """Free text (``text``) and the filters found in, or given beside, the search box."""

    text: str
    filters: Filters = field(default_factory=Filters)


def parse_query(raw: str, filters: Filters | None = None) -> SearchQuery:
    """Split ``raw`` into text and filters, merged with ``filters`` from form fields or options."""
    text = _CONTROL.sub(" ", raw)[:MAX_QUERY_CHARS]
    found = filters or Filters()
    categories, authors = list(found.categories), list(found.authors)
    not_categories, not_authors = list(found.not_categories), list(found.not_authors)
    year_from, year_to = found.year_from, found.year_to
    for match in _FILTER.finditer(text):
        negated, name, value = bool(match[1]), match[2].lower(), match[3].strip('"').strip()
        if not value or (name == "author" and not re.search(r"\w", value)):
            continue  # (an author of no letters would match, or leave out, every paper)
        if name == "cat":
            (not_categories if negated else categories).append(value)
        elif name == "author":
            (not_authors if negated else authors).append(value)
        elif not negated and (years := _year_range(value)) is not None:
            year_from, year_to = years
    text = _FILTER.sub(" ", text)
    merged = replace(
        found,
        categories=tuple(dict.fromkeys(categories)),
        authors=tuple(dict.fromkeys(authors)),
        year_from=year_from,
        year_to=year_to,
        not_categories=tuple(dict.fromkeys(not_categories)),
        not_authors=tuple(dict.fromkeys(not_authors)),
    )
    return SearchQuery(_balanced(" ".join(text.split())), merged)


def _year_range(value: str) -> tuple[int | None, int | None] | None:
    match = _YEARS.fullmatch(value)
    if match is None:
        return None
    if match[3]:
        return None, int(match[3])
    start = int(match[1])
    if match[2]:
        return start, int(match[2])
    return (start, None) if value.rstrip().endswith(("-", "..")) else (start, start)


def _balanced(text: str) -> str:
    """Drop a last unmatched double quote, so ``"diffusion policy`` searches its words."""
    if text.count('"') % 2:
        head, _, tail = text.rpartition('"')
        text = f"{head} {tail}".strip()
    return text
