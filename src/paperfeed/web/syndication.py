"""RSS 2.0 and Atom documents for the feed, trending, a search and a category (feedgen)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Literal

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator

from paperfeed.paper_urls import paper_path
from paperfeed.services.cards import Card

Format = Literal["rss", "atom"]
MAX_AUTHORS = 20  # a collaboration's thousand names would make a feed reader's page
MEDIA_TYPES: dict[Format, str] = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
}


def render_feed(
    kind: Format,
    *,
    title: str,
    page_url: str,
    self_url: str,
    description: str,
    cards: Sequence[Card],
    base_url: str,
) -> bytes:
    """The feed document; entries keep the order of ``cards``. Text that XML cannot carry
    (control characters, from a request's path or a paper's metadata) is dropped."""
    generator = FeedGenerator()
    generator.id(_xml(self_url))
    generator.title(_xml(title))
    # (self first: feedgen makes the last link RSS's <channel><link>, which is the page)
    generator.link(href=_xml(self_url), rel="self")
    generator.link(href=_xml(page_url), rel="alternate")
    if kind == "rss":  # RSS 2.0's <author> is an e-mail address: names go in <dc:creator>
        generator.load_extension("dc", atom=False, rss=True)
    generator.description(_xml(description))
    generator.language("en")
    stamps = [_stamp(card) for card in cards]
    generator.updated(max(stamps) if stamps else dt.datetime.now(dt.UTC))
    for card, stamp in zip(cards, stamps, strict=True):
        url = base_url + paper_path(card.id)
        entry = generator.add_entry(order="append")
        entry.id(url)
        entry.guid(url, permalink=True)
        entry.title(_xml(card.title))
        entry.link(href=url)
        entry.description(_xml(card.abstract or card.title))
        entry.published(stamp)
        entry.updated(stamp)
        _add_authors(entry, kind, card.authors[:MAX_AUTHORS])
        for category in card.categories:
            entry.category(term=_xml(category))
    return bytes(
        generator.rss_str(pretty=True) if kind == "rss" else generator.atom_str(pretty=True)
    )


def _add_authors(entry: FeedEntry, kind: Format, names: Sequence[str]) -> None:
    if kind == "atom":
        for name in names:
            entry.author({"name": _xml(name)})
    elif names:
        entry.dc.dc_creator([_xml(name) for name in names])


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(text: str) -> str:
    return _NOT_XML.sub("", text)


def _stamp(card: Card) -> dt.datetime:
    day = card.day or card.published or dt.date(1970, 1, 1)
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
