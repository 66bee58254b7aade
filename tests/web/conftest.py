"""A running site over a small real corpus, on SQLite and on PostgreSQL.

The store holds the 300 real cs papers of the listing fixture and the 30 papers of the recorded
Daily Papers response (featured on 2026-06-12 with their upvotes and submitters); five of the
listing papers are featured on 2026-06-09 by hand. The index uses the deterministic hashing
embedder: these tests are about the site, not about search quality.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from paperfeed.config import Settings
from paperfeed.ingest import ingest_file
from paperfeed.ingest_daily import ingest_daily_papers
from paperfeed.search import indexer
from paperfeed.search.embedder import HashingEmbedder
from paperfeed.services.submissions import arxiv_fetcher
from paperfeed.store.engine import write_transaction
from paperfeed.store.feed import feature
from paperfeed.web.app import create_app
from tests.conftest import FIXTURES
from tests.servers import Inbox, smtp_server
from tests.sources.replay import Replay
from tests.sync.conftest import recorded

DAILY = FIXTURES / "hf_daily_papers" / "daily_papers_limit30_2026-06-13.json"
HAND_FEATURED = ["1812.06145", "1904.11093", "1907.00326", "1907.00330", "2008.03186"]
HAND_DAY = dt.date(2026, 6, 9)
LIST_DAY = dt.date(2026, 6, 12)


def fill_store(engine: Engine, home: Path) -> None:
    ingest_file(engine, "arxiv-snapshot", FIXTURES / "arxiv-more-1-head300.jsonl")
    ingest_daily_papers(engine, DAILY)
    with write_transaction(engine) as conn:
        for paper_id in HAND_FEATURED:
            feature(conn, paper_id, HAND_DAY, dt.datetime.now(dt.UTC), "alice", "Alice A.")
    indexer.update(engine, home, HashingEmbedder())


@pytest.fixture
def site_home(engine: Engine, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    fill_store(engine, home)
    return home


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with smtp_server() as box:
        yield box


@pytest.fixture
def arxiv() -> Iterator[Replay]:
    server = Replay()
    server.add(
        "/api/query", {"id_list": "1707.08567"}, recorded("id_1707.08567_s0_m100_6a1afebfc6a3.json")
    )
    server.add(
        "/api/query",
        {"id_list": "astro-ph/0601001"},
        recorded("id_astro-ph_0601001_s0_m100_3150dca9dc76.json"),
    )
    server.add(
        "/api/query", {"id_list": "2412.99999"}, recorded("id_0000.0000_s0_m100_8b51d9633a68.json")
    )
    with server.running():
        yield server


@pytest.fixture
def site(site_home: Path, db_url: str, inbox: Inbox, arxiv: Replay) -> Iterator[TestClient]:
    settings = Settings(
        home=site_home, db=db_url, base_url="http://testserver", smtp_host="127.0.0.1",
        smtp_port=inbox.port, smtp_security="none", submissions_per_day=1,
    )  # fmt: skip
    app = create_app(settings, HashingEmbedder)
    app.state.site.fetch_paper = arxiv_fetcher(arxiv.url + "/api/query")
    with TestClient(app) as client:
        yield client


@pytest.fixture
def client(site_home: Path, db_url: str) -> Iterator[TestClient]:
    settings = Settings(home=site_home, db=db_url, base_url="http://testserver")
    with TestClient(create_app(settings, HashingEmbedder)) as test_client:
        yield test_client
