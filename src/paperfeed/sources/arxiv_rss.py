"""arXiv's new-submissions feeds (``https://rss.arxiv.org/rss/cs.LG+cs.CL``): the day's papers.

Each item is a paper announced that day, with its ``announce_type``: ``new`` (first listed in
these categories), ``cross`` (cross-listed), ``replace`` or ``replace-cross`` (a new version).
Parsed with feedparser. Items become records listed on the feed's day, so an auto-feature rule
can put the day's new papers in chosen categories on the daily feed.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from dataclasses import dataclass, field
from typing import Any

import feedparser

from paperfeed.arxiv_ids import parse_arxiv_id
from paperfeed.sources.arxiv_snapshot import split_authors
from paperfeed.sources.record import BadRecord, PaperRecord

NAME = "arxiv-rss"
_ABSTRACT = re.compile(r"^arXiv:\S+\s+Announce Type:\s*\S+\s*Abstract:\s*", re.S)


@dataclass(slots=True)
class Announcement:
    record: PaperRecord
    announce_type: str


@dataclass(slots=True)
class RssDay:
    day: dt.date | None
    items: list[Announcement | BadRecord] = field(default_factory=list)


class RssError(RuntimeError):
    """The body is not an RSS feed."""


def parse_feed(body: bytes) -> RssDay:
    parsed = feedparser.parse(body)
    if not parsed.get("version") or (parsed.bozo and not parsed.entries):
        raise RssError(f"not an RSS feed: {parsed.get('bozo_exception') or 'unknown format'}")
    day = _day(parsed.feed.get("published") or parsed.feed.get("updated"))
    result = RssDay(day)
    for number, entry in enumerate(parsed.entries, start=1):
        try:
            result.items.append(_announcement(entry, day))
        except ValueError as error:
            result.items.append(BadRecord(number, str(error), entry.get("link")))
    return result


def _announcement(entry: Any, day: dt.date | None) -> Announcement:
    reference = entry.get("guid") or entry.get("link") or ""
    try:
        arxiv_id = parse_arxiv_id(reference.removeprefix("oai:arXiv.org:"))
    except ValueError:
        arxiv_id = parse_arxiv_id(entry.get("link", ""))
    title = " ".join(entry.get("title", "").split())
    if not title:
        raise ValueError("missing title")
    abstract = _ABSTRACT.sub("", entry.get("summary", "")).strip()
    creators = entry.get("author") or ""
    categories = [tag["term"] for tag in entry.get("tags", []) if tag.get("term")]
    return Announcement(
        PaperRecord(
            id=arxiv_id.id,
            title=title,
            abstract=" ".join(abstract.split()),
            authors=split_authors(creators) if creators else [],
            categories=categories,
            version=arxiv_id.version,
            listed_on=day,
            abs_url=entry.get("link"),
        ),
        entry.get("arxiv_announce_type", "new"),
    )


def _day(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).date()
    except (TypeError, ValueError):
        return None
