"""The HTML pages through FastAPI's TestClient, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote_plus

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text

from paperfeed.config import Settings
from paperfeed.ingest import ingest_file
from paperfeed.models import Subscription
from paperfeed.search import indexer
from paperfeed.search.embedder import HashingEmbedder
from paperfeed.store.keyphrases import keyphrases_of
from paperfeed.web.app import create_app
from tests.conftest import FIXTURES
from tests.web.conftest import DAILY, HAND_FEATURED

RECORDED = json.loads(DAILY.read_text())


def titles(html: str) -> list[str]:
    """Card titles in page order (HTML entities left as they are)."""
    return re.findall(r'<h3 class="title"><a href="/papers/[^"]+">([^<]+)</a>', html)


def unescape(text: str) -> str:
    import html

    return html.unescape(text)


def test_the_feed_opens_on_the_latest_day_with_the_most_upvoted_first(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "Friday, June 12, 2026" in page.text and "30 papers" in page.text
    shown = [unescape(t) for t in titles(page.text)]
    by_votes = sorted(RECORDED, key=lambda e: -e["paper"]["upvotes"])
    assert shown[0] == by_votes[0]["paper"]["title"]
    assert sorted(shown) == sorted(e["paper"]["title"] for e in RECORDED)
    first = by_votes[0]
    assert f"{first['numComments']} comments" in page.text
    assert f"submitted by {first['submittedBy']['fullname']}" in page.text


def test_sorts_tabs_and_navigation(client: TestClient) -> None:
    newest = titles(client.get("/?date=2026-06-12&sort=newest").text)
    published = {e["paper"]["title"]: e["paper"]["publishedAt"][:10] for e in RECORDED}
    dates = [published[unescape(title)] for title in newest]
    assert dates == sorted(dates, reverse=True) and len(dates) == 30

    hand = client.get("/?date=2026-06-09")
    assert len(titles(hand.text)) == len(HAND_FEATURED)
    assert 'rel="prev"' not in hand.text  # the oldest featured day: nothing earlier to step to
    assert 'href="/?date=2026-06-11&amp;sort=trending"' in client.get("/?date=2026-06-12").text
    assert 'href="/?week=2026-W24"' in hand.text and 'href="/?month=2026-06"' in hand.text
    repeated = client.get("/?date=2026-06-12&sort=newest&tag=a&tag=b").text  # kept as sent
    assert 'href="/?date=2026-06-12&amp;tag=a&amp;tag=b&amp;sort=upvotes"' in repeated

    week = client.get("/?week=2026-W24")
    assert week.status_code == 200 and f"{30 + len(HAND_FEATURED)} papers" in week.text
    month = client.get("/?month=2026-06&sort=upvotes")
    assert f"{30 + len(HAND_FEATURED)} papers" in month.text


def test_an_empty_day_says_so_and_points_to_the_nearest_days(client: TestClient) -> None:
    page = client.get("/?date=2026-06-10")
    assert page.status_code == 200
    assert "No papers were featured on this day" in page.text
    assert 'href="/?date=2026-06-09"' in page.text and 'href="/?date=2026-06-12"' in page.text


def test_next_and_previous_step_only_towards_featured_papers(client: TestClient) -> None:
    """On the newest day "Next" leads nowhere (the following days are empty until papers are
    featured), so it is shown disabled rather than as a link to an empty day; likewise for the
    week and month tabs, and for "Previous" before the oldest featured day."""
    for url, later in (("/?date=2026-06-12", "date=2026-06-13"), ("/?week=2026-W24", "week=2026-W25"),
                       ("/?month=2026-06", "month=2026-07")):  # fmt: skip
        page = client.get(url).text
        assert 'rel="next"' not in page and later not in page, url
        assert 'aria-disabled="true" title="No papers are featured after' in page, url
    assert 'rel="prev"' in client.get("/?date=2026-06-12").text
    older = client.get("/?date=2026-06-09").text
    assert 'rel="next"' in older and 'href="/?date=2026-06-10&amp;sort=trending"' in older
    assert 'rel="prev"' not in older and "No papers were featured before" in older


def test_bad_parameters_get_a_clear_page_not_a_crash(client: TestClient) -> None:
    page = client.get("/?date=2026-13-45")
    assert page.status_code == 400 and "YYYY-MM-DD" in page.text
    assert client.get("/?week=2026-W99").status_code == 400
    assert client.get("/?date=2026-06-12&week=2026-W24").status_code == 400
    assert client.get("/?p=0").status_code == 422
    assert client.get("/search?p=abc").status_code == 422


def test_trending_ranks_by_decayed_upvotes(client: TestClient) -> None:
    page = client.get("/trending")
    assert page.status_code == 200
    shown = [unescape(t) for t in titles(page.text)]
    assert len(shown) == 30 + len(HAND_FEATURED)
    assert shown[0] == max(RECORDED, key=lambda e: e["paper"]["upvotes"])["paper"]["title"]
    about = client.get("/about")
    assert "score = upvotes ÷ (hours since featured + 2)<sup>1.5</sup>" in about.text


def test_search_highlights_filters_and_suggests_when_nothing_matches(client: TestClient) -> None:
    page = client.get("/search", params={"q": "sparse representation classification"})
    assert page.status_code == 200
    assert "Deep Sparse Representation-based Classification" in page.text
    assert "<mark>" in page.text
    assert "0 comments" in page.text

    keyword = client.get("/search", params={"q": "gesture", "mode": "keyword", "cat": "cs.HC"})
    assert "Hand-Gesture" in keyword.text
    none = client.get("/search", params={"q": "gesture", "mode": "keyword", "cat": "astro-ph.GA"})
    assert "No papers match" in none.text and 'href="/search?q=gesture' in none.text

    category = client.get("/search", params={"cat": "cs.HC"})  # a category link from a paper page
    assert titles(category.text) and "not available" not in category.text

    nothing = client.get("/search", params={"q": "qqqzzx wwwvvx yyyuuux", "mode": "keyword"})
    assert "No papers match" in nothing.text and "Try a broader query" in nothing.text

    by_id = client.get("/search", params={"q": "arXiv:1904.11093v1"}, follow_redirects=False)
    assert by_id.status_code == 303 and by_id.headers["location"] == "/papers/1904.11093"
    unknown = client.get("/search", params={"q": "2412.99999"})
    assert (
        "No papers match" in unknown.text
        and "2412.99999</strong> is not in this store" in unknown.text
    )

    hostile = client.get("/search", params={"q": '"unbalanced AND OR ( \x01 ' + "x" * 9000})
    assert hostile.status_code == 200


def test_user_text_is_escaped_everywhere(engine: Engine, site_home: Path, db_url: str) -> None:
    evil = site_home.parent / "evil.jsonl"
    evil.write_text(
        json.dumps(
            {
                "id": "evil:1",
                "title": "Gesture <script>alert('t')</script> study",
                "abstract": 'gesture <img src=x onerror="alert(1)"> and <b>bold</b> claims',
                "authors": ["<i>Mallory</i>"],
            }
        )
        + "\n"
    )
    ingest_file(engine, "jsonl", evil)
    indexer.update(engine, site_home, HashingEmbedder())
    # A client started after the update: a running node sees a new generation within
    # RECHECK_SECONDS, which a fast test may not wait for.
    settings = Settings(home=site_home, db=db_url, base_url="http://testserver")
    with TestClient(create_app(settings, HashingEmbedder)) as client:
        pages = {
            url: client.get(url)
            for url in ("/search?q=gesture+study&mode=keyword", "/papers/evil:1")
        }
    for url, page in pages.items():
        assert page.status_code == 200, url
        assert "<script>alert" not in page.text and "<img src=x" not in page.text, url
        assert "&lt;script&gt;" in page.text, url
        assert "<i>Mallory</i>" not in page.text, url


def test_paper_pages(client: TestClient, engine: Engine, site_home: Path) -> None:
    page = client.get("/papers/1904.11093")
    assert page.status_code == 200
    assert "Deep Sparse Representation-based Classification" in page.text
    assert 'href="https://arxiv.org/abs/1904.11093"' in page.text
    assert 'href="https://arxiv.org/pdf/1904.11093"' in page.text
    assert "Featured on" in page.text and "Alice A." in page.text
    assert "Similar papers" in page.text and len(titles(page.text)) == 6

    recorded = max(RECORDED, key=lambda e: e["paper"]["upvotes"])["paper"]
    page = client.get(f"/papers/{recorded['id']}")
    assert f'<span class="count">{recorded["upvotes"]}</span>' in page.text
    if recorded.get("githubRepo"):
        assert recorded["githubRepo"] in page.text

    moved = client.get("/papers/arXiv:1904.11093v3", follow_redirects=False)
    assert moved.status_code == 301 and moved.headers["location"] == "/papers/1904.11093"
    moved = client.get("/papers/1904.11093v3?claim=1&x=%C3%A9", follow_redirects=False)
    assert moved.headers["location"] == "/papers/1904.11093?claim=1&x=%C3%A9"  # query kept

    missing = client.get("/papers/2401.99999")
    assert missing.status_code == 404
    assert 'action="/search"' in missing.text and 'value="2401.99999"' in missing.text

    ingest_file(engine, "arxiv-snapshot", FIXTURES / "arxiv-more-2-head100.jsonl")
    old = client.get("/papers/gr-qc/9210004")
    assert old.status_code == 200 and "The Spacetime Approach to Quantum Mechanics" in old.text


def test_subscribe_needs_the_csrf_token_and_stores_a_pending_address(
    client: TestClient, engine: Engine
) -> None:
    page = client.get("/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    forged = client.post("/subscribe", data={"email": "x@lab.org", "csrf_token": "forged"})
    assert forged.status_code == 403

    done = client.post(
        "/subscribe",
        data={"email": " Reader@Lab.org ", "csrf_token": token[1]},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/?subscribed=1"
    again = client.post("/subscribe", data={"email": "reader@lab.org", "csrf_token": token[1]})
    assert again.status_code == 200 and "Thanks!" in again.text
    bad = client.post("/subscribe", data={"email": "not an address", "csrf_token": token[1]})
    assert bad.status_code == 400
    with engine.connect() as conn:
        rows = conn.execute(select(Subscription.email, Subscription.status)).all()
    assert [tuple(row) for row in rows] == [("reader@lab.org", "pending")]

    fresh = TestClient(client.app)  # another browser: its cookie does not match the token
    assert (
        fresh.post("/subscribe", data={"email": "y@lab.org", "csrf_token": token[1]}).status_code
        == 403
    )


def test_static_files_are_cached_and_unknown_pages_are_404(client: TestClient) -> None:
    css = client.get("/static/style.css?v=6")
    assert css.status_code == 200 and "immutable" in css.headers["cache-control"]
    assert "prefers-color-scheme: dark" in css.text
    page = client.get("/no/such/page")
    assert page.status_code == 404 and "Not found" in page.text


def test_an_overlong_address_gets_the_plain_answer(client: TestClient) -> None:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text)
    assert token is not None
    done = client.post("/subscribe", data={"email": "a" * 400 + "@lab.org", "csrf_token": token[1]})
    assert done.status_code == 400 and "is not an e-mail address" in done.text


def test_a_papers_keyphrases_are_links_to_a_search_and_its_ai_keywords(
    client: TestClient, engine: Engine
) -> None:
    with engine.connect() as conn:
        paper_id = conn.execute(text("SELECT paper_id FROM paper_keyphrases LIMIT 1")).scalar_one()
        phrases = keyphrases_of(conn, [paper_id])[paper_id]
    page = client.get(f"/papers/{paper_id}").text
    (line,) = re.findall(r'<p class="keyphrases" aria-label="Keyphrases">(.*?)</p>', page)
    links = re.findall(r'<a class="tag" href="/search\?q=([^"]+)">([^<]+)</a>', line)
    assert [unescape(name) for _, name in links] == phrases
    assert [unquote_plus(unescape(query)) for query, _ in links] == phrases
    assert client.get(f"/api/papers/{paper_id}").json()["ai_keywords"] == phrases
