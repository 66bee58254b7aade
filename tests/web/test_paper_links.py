"""Papers whose ids hold characters URLs give a meaning to (``?``, ``#``, ``%``, ``/``): every
link the site builds to them leads to them, followed from the feed, the search page, the
feeds and the API, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from paperfeed.config import Settings
from paperfeed.ingest import ingest_file
from paperfeed.paper_urls import paper_path
from paperfeed.search import indexer
from paperfeed.search.embedder import HashingEmbedder
from paperfeed.services.accounts import create_admin
from paperfeed.store.engine import write_transaction
from paperfeed.store.feed import feature
from paperfeed.web.app import create_app
from tests.web.helpers import PASSWORD, log_in, token

BASE = "http://testserver"
PAPERS = {
    "src:a?b#c": "Quartz lattice resonators under cryogenic strain",
    "lab:100%": "Percolation thresholds of sparse quartz lattices",
    "lab:a/../b": "Relative paths in quartz lattice simulation archives",
}


@pytest.fixture
def client(engine: Engine, db_url: str, tmp_path: Path) -> Iterator[TestClient]:
    lines = [{"id": i, "title": t, "abstract": f"{t}. A study."} for i, t in PAPERS.items()]
    (tmp_path / "odd.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    ingest_file(engine, "jsonl", tmp_path / "odd.jsonl")
    now = dt.datetime.now(dt.UTC)
    with write_transaction(engine) as conn:
        for paper_id in PAPERS:
            feature(conn, paper_id, now.date(), now, "alice", "Alice")
    home = tmp_path / "home"
    indexer.update(engine, home, HashingEmbedder())
    settings = Settings(home=home, db=db_url, base_url=BASE)
    with TestClient(create_app(settings, HashingEmbedder)) as site:
        yield site


def paper_links(html: str) -> list[str]:
    """Every link and form action of a page that goes to a paper."""
    found = re.findall(r'(?:href|action)="([^"]*/papers/[^"]*)"', html)
    return [unescape(link) for link in found]


def test_links_from_the_feed_and_search_pages_lead_to_each_paper(
    client: TestClient, engine: Engine
) -> None:
    with write_transaction(engine) as conn:
        create_admin(conn, "ada@lab.org", "ada", "Ada", PASSWORD, dt.datetime.now(dt.UTC))
    assert log_in(client, "ada@lab.org").status_code == 303
    pages = [
        client.get("/"),
        client.get("/search", params={"q": "quartz lattice", "mode": "keyword"}),
    ]
    for page in pages:
        assert page.status_code == 200
        links = paper_links(page.text)
        for paper_id, title in PAPERS.items():
            mine = [
                link
                for link in links
                if unquote(urlsplit(link).path).startswith(f"/papers/{paper_id}")
            ]
            assert {unquote(link) for link in mine} >= {
                f"/papers/{paper_id}", f"/papers/{paper_id}/upvote", f"/papers/{paper_id}/save"
            }  # fmt: skip
            [page_link] = [link for link in mine if unquote(link) == f"/papers/{paper_id}"]
            paper = client.get(page_link, follow_redirects=False)
            assert paper.status_code == 200 and title in paper.text
    for paper_id, title in PAPERS.items():
        paper = client.get(paper_path(paper_id))
        assert_paper_page_links_work(client, paper_id, title, paper.text)


def assert_paper_page_links_work(client: TestClient, paper_id: str, title: str, html: str) -> None:
    """The paper page's own links (Markdown, exports) answer, and its forms act on the paper
    and come back to it."""
    links = paper_links(html)
    gets = {unquote(link): link for link in links if "/export." in link or link.endswith(".md")}
    assert set(gets) == {
        f"/papers/{paper_id}.md", f"/papers/{paper_id}/export.bib",
        f"/papers/{paper_id}/export.ris", f"/papers/{paper_id}/export.csl.json",
    }  # fmt: skip
    for link in gets.values():
        answer = client.get(link)
        assert answer.status_code == 200 and title in answer.text, link
    posts = {unquote(link): link for link in links if unquote(link).startswith("/papers/")}
    assert {f"/papers/{paper_id}/upvote", f"/papers/{paper_id}/comments"} <= set(posts)
    csrf = token(client, paper_path(paper_id))
    voted = client.post(
        posts[f"/papers/{paper_id}/upvote"], data={"csrf_token": csrf}, follow_redirects=False
    )
    said = client.post(
        posts[f"/papers/{paper_id}/comments"], data={"csrf_token": csrf, "body": "Read it."},
        follow_redirects=False,
    )  # fmt: skip
    for done in (voted, said):
        assert done.status_code == 303
        back = urlsplit(done.headers["location"])
        assert unquote(back.path) == f"/papers/{paper_id}"
        page = client.get(done.headers["location"])
        assert page.status_code == 200 and title in page.text
    assert '<span class="count">1</span>' in page.text and "Read it." in page.text


def test_feed_and_api_urls_lead_to_each_paper(client: TestClient) -> None:
    rss = client.get("/feed.rss").text
    urls = [unescape(url) for url in re.findall(r"<link>([^<]*/papers/[^<]*)</link>", rss)]
    results = client.get("/api/v1/search", params={"q": "quartz lattice", "mode": "keyword"}).json()
    urls += [item["url"] for item in results["results"]]
    reached = set()
    for url in urls:
        assert url.startswith(BASE)
        page = client.get(url[len(BASE) :], follow_redirects=False)
        assert page.status_code == 200
        reached |= {paper_id for paper_id, title in PAPERS.items() if title in page.text}
    assert reached == set(PAPERS)
    assert len(urls) == 2 * len(PAPERS)


def test_a_login_link_comes_back_to_the_paper(client: TestClient) -> None:
    for paper_id in PAPERS:
        page = client.get(paper_path(paper_id))
        targets = re.findall(r'href="(/login\?next=[^"]+)"', page.text)
        backs = {parse_qs(urlsplit(unescape(t)).query)["next"][0] for t in targets}
        [back] = [b for b in backs if b.startswith("/papers/")]
        assert unquote(back) == f"/papers/{paper_id}"
        assert client.get(back, follow_redirects=False).status_code == 200
