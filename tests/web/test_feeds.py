"""RSS 2.0 and Atom feeds, parsed back with feedparser."""

from __future__ import annotations

import json

import feedparser
import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import DAILY, HAND_FEATURED

RECORDED = json.loads(DAILY.read_text())


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_every_feed_is_valid_and_holds_the_papers(client: TestClient, kind: str) -> None:
    expected_version = "rss20" if kind == "rss" else "atom10"
    daily = client.get(f"/feed.{kind}")
    assert daily.status_code == 200 and kind in daily.headers["content-type"]
    parsed = feedparser.parse(daily.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == expected_version
    assert "June 12, 2026" in parsed.feed.title
    assert {e.title for e in parsed.entries} == {e["paper"]["title"] for e in RECORDED}
    first = parsed.entries[0]
    assert first.link.startswith("http://testserver/papers/")
    best = max(RECORDED, key=lambda e: e["paper"]["upvotes"])["paper"]
    assert first.title == best["title"]

    day = feedparser.parse(client.get(f"/feed.{kind}?date=2026-06-09").content)
    assert len(day.entries) == len(HAND_FEATURED)

    trending = feedparser.parse(client.get(f"/trending.{kind}").content)
    assert not trending.bozo and len(trending.entries) == 30 + len(HAND_FEATURED)

    search = feedparser.parse(client.get(f"/search.{kind}", params={"q": "gesture"}).content)
    assert not search.bozo and "gesture" in search.feed.title
    assert "http://testserver/papers/1812.06145" in [e.link for e in search.entries]

    category = feedparser.parse(client.get(f"/categories/cs.HC.{kind}").content)
    assert not category.bozo and category.entries
    assert all(any(t.term == "cs.HC" for t in e.tags) for e in category.entries)


def test_bad_feed_requests_are_422(client: TestClient) -> None:
    assert client.get("/feed.rss?date=June").status_code == 422
    assert client.get("/search.atom").status_code == 422
    assert client.get("/feed.xml").status_code == 422


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_the_channel_links_to_its_page_and_items_carry_their_authors(
    client: TestClient, kind: str
) -> None:
    pages = {
        f"/feed.{kind}?date=2026-06-12": "http://testserver/?date=2026-06-12",
        f"/trending.{kind}": "http://testserver/trending",
    }
    for feed, page in pages.items():
        parsed = feedparser.parse(client.get(feed).content)
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert parsed.feed.link == page  # RSS <channel><link>, Atom rel="alternate"
        selves = [link.href for link in parsed.feed.links if link.rel == "self"]
        assert selves == [f"http://testserver{feed}"]
    parsed = feedparser.parse(client.get(f"/feed.{kind}?date=2026-06-12").content)
    authors = {
        e["paper"]["title"]: [a["name"] for a in e["paper"]["authors"] if not a["hidden"]]
        for e in RECORDED
    }
    for entry in parsed.entries:
        assert [a.name for a in entry.authors] == authors[entry.title][:20]
