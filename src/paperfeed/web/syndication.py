"""RSS 2.0 and Atom documents for the feed, trending, a search and a category (feedgen)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

from feedgen.feed import FeedGenerator

from paperfeed.services.cards import Card

Format = Literal["rss", "atom"]
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
    """The feed document; entries keep the order of ``cards``."""
    generator = FeedGenerator()
    generator.id(self_url)
    generator.title(title)
    generator.link(href=page_url, rel="alternate")
    generator.link(href=self_url, rel="self")
    generator.description(description)
    generator.language("en")
    stamps = [_stamp(card) for card in cards]
    generator.updated(max(stamps) if stamps else dt.datetime.now(dt.UTC))
    for card, stamp in zip(cards, stamps, strict=True):
        url = f"{base_url}/papers/{card.id}"
        entry = generator.add_entry(order="append")
        entry.id(url)
        entry.guid(url, permalink=True)
        entry.title(card.title)
        entry.link(href=url)
        entry.description(card.abstract or card.title)
        entry.published(stamp)
        entry.updated(stamp)
        if kind == "atom":  # RSS 2.0 authors must be e-mail addresses, which we do not have
            for name in card.authors[:20]:
                entry.author({"name": name})
        for category in card.categories:
            entry.category(term=category)
    return bytes(
        generator.rss_str(pretty=True) if kind == "rss" else generator.atom_str(pretty=True)
    )


def _stamp(card: Card) -> dt.datetime:
    day = card.day or card.published or dt.date(1970, 1, 1)
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
