"""The relevance floor and empty queries as the site shows them, with the real model: the
"no match, try a broader query" page in every mode, a clear message for a blank box, and the
same in the JSON API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from paperfeed.config import Settings
from paperfeed.ingest import ingest_file
from paperfeed.search import indexer
from paperfeed.search.embedder import MiniLMEmbedder
from paperfeed.web.app import create_app
from tests.conftest import FIXTURES


@pytest.fixture
def real_client(
    engine: Engine, db_url: str, tmp_path: Path, minilm: MiniLMEmbedder
) -> Iterator[TestClient]:
    """A site over the 300 real cs papers, indexed with the bundled model."""
    home = tmp_path / "home"
    ingest_file(engine, "arxiv-snapshot", FIXTURES / "arxiv-more-1-head300.jsonl")
    indexer.update(engine, home, minilm)
    settings = Settings(home=home, db=db_url, base_url="http://testserver")
    with TestClient(create_app(settings, lambda: minilm)) as client:
        yield client


def test_the_floor_and_empty_queries_on_pages_and_in_the_api(real_client: TestClient) -> None:
    """One test for the three, so the real model indexes the papers once per database."""
    nonsense_gets_the_no_match_page_in_every_mode(real_client)
    a_blank_box_says_what_to_type(real_client)
    the_api_says_no_match_and_refuses_an_empty_query(real_client)


def nonsense_gets_the_no_match_page_in_every_mode(real_client: TestClient) -> None:
    for mode in ("hybrid", "keyword", "semantic"):
        for q in ("zzqqxx flibbertigibbet", "how to fix a leaking tap"):
            page = real_client.get("/search", params={"q": q, "mode": mode})
            assert page.status_code == 200
            assert "No papers match" in page.text and "Try a broader query" in page.text, mode
            assert "Results 1" not in page.text
        found = real_client.get("/search", params={"q": "hand gesture recognition", "mode": mode})
        assert "Results 1" in found.text and "No papers match" not in found.text


def a_blank_box_says_what_to_type(real_client: TestClient) -> None:
    for q in ("", "   "):
        page = real_client.get("/search", params={"q": q})
        assert page.status_code == 200 and "The search box was empty" in page.text
        assert "Results 1" not in page.text
    fresh = real_client.get("/search")  # the page itself, before anything was typed
    assert "The search box was empty" not in fresh.text


def the_api_says_no_match_and_refuses_an_empty_query(real_client: TestClient) -> None:
    body = real_client.get("/api/v1/search", params={"q": "best pizza in naples"}).json()
    assert body["results"] == [] and body["no_match"] is True
    real = real_client.get("/api/v1/search", params={"q": "hand gesture recognition"}).json()
    assert real["results"] and real["no_match"] is False
    assert (
        real_client.get("/api/papers/search", params={"q": "zzqqxx flibbertigibbet"}).json() == []
    )
    blank = real_client.get("/api/v1/search", params={"q": "   "})
    assert blank.status_code == 422 and "q is empty" in blank.text
    # (the Daily Papers compatible /api/papers/search lists the newest papers without a
    # query, as that API does: not a search, so not this message)
