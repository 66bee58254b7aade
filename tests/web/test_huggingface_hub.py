"""The real ``huggingface_hub`` client and its ``hf papers`` commands against a live
``paperfeed serve``, on SQLite and on PostgreSQL: every papers method and command, checked
against what the store holds (titles, authors, upvotes, dates), not only that nothing raised.

The server is a real process on a free loopback port (as ``tests/web/test_nodes.py`` starts
them); the client reaches it through ``HfApi(endpoint=...)`` in this process, and the CLI
through ``HF_ENDPOINT`` in a subprocess, with telemetry off and offline mode unset.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from huggingface_hub import HfApi, constants
from huggingface_hub.errors import HfHubHTTPError
from sqlalchemy import Engine, select

from paperfeed.ingest import ingest_file
from paperfeed.models import FeedEntry, Paper
from paperfeed.services.cards import Card, load_cards
from paperfeed.store.engine import make_engine
from paperfeed.store.migrate import upgrade
from tests.conftest import FIXTURES, new_postgres_database
from tests.servers import free_port, serve_process
from tests.web.conftest import HAND_DAY, HAND_FEATURED, LIST_DAY, fill_store

OLD_STYLE = FIXTURES / "arxiv-more-2-head100.jsonl"  # ids such as gr-qc/9210004
HF = Path(sys.executable).parent / "hf"


@dataclass
class Live:
    base: str
    engine: Engine
    home: Path

    def cards(self, ids: list[str]) -> dict[str, Card]:
        with self.engine.connect() as conn:
            return {card.id: card for card in load_cards(conn, ids)}

    def featured(self, *days: dt.date, submitter: str | None = None) -> set[str]:
        query = select(FeedEntry.paper_id).where(FeedEntry.day.in_(days))
        if submitter:
            query = query.where(FeedEntry.submitter == submitter)
        with self.engine.connect() as conn:
            return set(conn.scalars(query))

    def hf(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
        env.update(HF_ENDPOINT=self.base, HF_HUB_DISABLE_TELEMETRY="1",
                   HF_HOME=str(self.home / "hf-home"), NO_COLOR="1")  # fmt: skip
        return subprocess.run(
            [str(HF), "papers", *args], env=env, capture_output=True, text=True, timeout=120
        )

    def hf_json(self, *args: str) -> Any:
        done = self.hf(*args, "--format", "json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


def _serve(url: str, home: Path, model_dir: Path) -> Iterator[Live]:
    engine = make_engine(url)
    upgrade(engine)
    ingest_file(engine, "arxiv-snapshot", OLD_STYLE)
    fill_store(engine, home)  # (indexes the old-style papers too)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PAPERFEED_HOME": str(home), "PAPERFEED_DB": url,
           "PAPERFEED_BASE_URL": base}  # fmt: skip
    # The node searches with the bundled model, so its index must hold that model's vectors
    # (fill_store's stand-in vectors would fail the relevance floor's cosines).
    shutil.copytree(model_dir, home / "models")
    # The second database's store takes the first one's vectors through `vectors export` and
    # `import` (the same papers, so the same vectors): the model runs once for the module.
    vectors = home.parent / "hf-vectors.parquet"
    if vectors.exists():
        moved = subprocess.run([sys.executable, "-m", "paperfeed", "vectors", "import", str(vectors)],
                               env=env, capture_output=True, timeout=600)  # fmt: skip
        assert moved.returncode == 0, moved.stderr
    built = subprocess.run([sys.executable, "-m", "paperfeed", "index", "--rebuild"], env=env,
                           capture_output=True, timeout=600)  # fmt: skip
    assert built.returncode == 0, built.stderr
    if not vectors.exists():
        saved = subprocess.run([sys.executable, "-m", "paperfeed", "vectors", "export", str(vectors)],
                               env=env, capture_output=True, timeout=600)  # fmt: skip
        assert saved.returncode == 0, saved.stderr
    server = serve_process(home / "serve.log", env, port, "--index-every", "0")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/api/daily_papers?limit=1", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "the server answers"
            time.sleep(0.3)
        yield Live(base, engine, home)
    finally:
        server.terminate()
        server.wait(timeout=30)
        engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, model_dir: Path
) -> Iterator[Live]:
    """One server per database for the whole module (starting one costs seconds)."""
    home = tmp_path_factory.mktemp(f"hf-{request.param}")
    if request.param == "sqlite":
        yield from _serve(f"sqlite:///{home / 'store' / 'paperfeed.db'}", home, model_dir)
    else:
        with new_postgres_database() as url:
            yield from _serve(url, home, model_dir)


@pytest.fixture
def api(live: Live, monkeypatch: pytest.MonkeyPatch) -> HfApi:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False, raising=False)
    return HfApi(endpoint=live.base, token=False)


def _day(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


def assert_matches_store(info: Any, card: Card, *, page: bool = False) -> None:
    """A ``PaperInfo`` says what the store holds about the paper. (The client reads
    ``githubRepo`` only at the top level, where ``paper_info``'s answer has it: a daily
    entry keeps it in its ``paper``, as the public API does.)"""
    assert info.id == card.id
    assert info.title == card.title
    # (authors the source hides come last, flagged hidden: the client lists them too)
    assert [a.name for a in info.authors or []] == card.authors + card.hidden_authors
    assert info.summary == card.abstract
    # (from an entry's ``paper`` the client reads 0 upvotes as None: ``pop("upvotes") or ...``)
    assert info.upvotes == (card.upvotes if page else card.upvotes or None)
    assert _day(info.published_at) == card.published
    if page:
        assert info.github_repo == card.code_url
    if card.organization:
        assert info.organization.fullname == card.organization
    else:
        assert info.organization is None


def test_list_daily_papers_of_a_day(api: HfApi, live: Live) -> None:
    papers = list(api.list_daily_papers(date=LIST_DAY.isoformat(), limit=100))
    assert {p.id for p in papers} == live.featured(LIST_DAY)
    cards = live.cards([p.id for p in papers])
    for info in papers:
        card = cards[info.id]
        assert_matches_store(info, card)
        assert _day(info.submitted_at) == card.day == LIST_DAY
        assert info.comments == card.num_comments
        assert info.submitted_by.username == card.submitter
        assert info.submitted_by.fullname == card.submitter_name
    assert any(p.upvotes for p in papers) and any(p.comments for p in papers)  # real counts


def test_list_daily_papers_by_week_month_submitter_sort_and_page(api: HfApi, live: Live) -> None:
    year, week, _ = LIST_DAY.isocalendar()
    in_week = {d for d in (LIST_DAY, HAND_DAY) if d.isocalendar()[:2] == (year, week)}
    weekly = list(api.list_daily_papers(week=f"{year}-W{week:02d}", limit=100))
    assert {p.id for p in weekly} == live.featured(*in_week)
    monthly = list(api.list_daily_papers(month=LIST_DAY.strftime("%Y-%m"), limit=100))
    assert {p.id for p in monthly} == live.featured(LIST_DAY, HAND_DAY)
    alices = list(api.list_daily_papers(submitter="alice", limit=100))
    assert sorted(p.id for p in alices) == sorted(HAND_FEATURED)
    trending = list(api.list_daily_papers(date=LIST_DAY.isoformat(), sort="trending", limit=100))
    upvotes = [p.upvotes or 0 for p in trending]
    assert upvotes[0] == max(upvotes) > 0  # the most upvoted of the day leads
    both = [p.id for p in api.list_daily_papers(date=LIST_DAY.isoformat(), limit=10)]
    second = [p.id for p in api.list_daily_papers(date=LIST_DAY.isoformat(), p=1, limit=5)]
    assert second == both[5:10]
    newest = list(api.list_daily_papers(limit=3))  # no period: the latest featured day
    assert {_day(p.submitted_at) for p in newest} == {LIST_DAY}


def test_paper_info(api: HfApi, live: Live) -> None:
    featured = sorted(live.featured(LIST_DAY))
    cards = live.cards(featured)
    with_org = next(c for c in cards.values() if c.organization and c.code_url)
    info = api.paper_info(with_org.id)
    assert_matches_store(info, with_org, page=True)
    assert info.comments == with_org.num_comments
    assert _day(info.submitted_at) == LIST_DAY
    old_style = json.loads(OLD_STYLE.read_text().splitlines()[0])["id"]
    assert "/" in old_style
    assert_matches_store(api.paper_info(old_style), live.cards([old_style])[old_style], page=True)
    with pytest.raises(HfHubHTTPError) as missing:
        api.paper_info("2999.99999")
    assert missing.value.response.status_code == 404
    assert "no paper '2999.99999' here" in str(missing.value)  # our reason reaches the user


def test_list_papers_with_and_without_a_query(api: HfApi, live: Live) -> None:
    card = live.cards([HAND_FEATURED[0]])[HAND_FEATURED[0]]
    words = " ".join(card.title.split()[:6])
    found = list(api.list_papers(query=words, limit=5))
    assert found and found[0].id == card.id
    assert_matches_store(found[0], card)
    with live.engine.connect() as conn:
        newest = list(conn.scalars(
            select(Paper.id).where(Paper.published.is_not(None))
            .order_by(Paper.published.desc(), Paper.id.desc()).limit(8)
        ))  # fmt: skip
    assert [p.id for p in api.list_papers(limit=8)] == newest
    assert len(list(api.list_papers())) == 20  # the default limit
    with pytest.raises(HfHubHTTPError) as refused:
        list(api.list_papers(query="gesture", limit=101))
    assert refused.value.response.status_code == 422
    assert "less than or equal to 100" in str(refused.value)


def test_read_paper(api: HfApi, live: Live) -> None:
    paper_id = sorted(live.featured(LIST_DAY))[0]
    card = live.cards([paper_id])[paper_id]
    text = api.read_paper(paper_id)
    assert text.startswith(f"# {card.title}\n")
    assert f"- **Authors:** {', '.join(card.authors)}" in text
    assert f"- **Upvotes:** {card.upvotes}" in text
    assert f"- **Featured on:** {LIST_DAY.isoformat()}" in text
    assert card.abstract.strip() in text
    old_style = json.loads(OLD_STYLE.read_text().splitlines()[0])["id"]
    assert api.read_paper(old_style).startswith("# " + live.cards([old_style])[old_style].title)
    with pytest.raises(HfHubHTTPError) as missing:
        api.read_paper("2999.99999")
    assert missing.value.response.status_code == 404
    assert "no paper '2999.99999' here" in str(missing.value)


def test_hf_papers_ls(live: Live) -> None:
    listed = live.hf_json("ls", "--date", LIST_DAY.isoformat(), "--limit", "100")
    assert {p["id"] for p in listed} == live.featured(LIST_DAY)
    cards = live.cards([p["id"] for p in listed])
    for item in listed:
        card = cards[item["id"]]
        assert item["title"] == card.title
        assert [a["name"] for a in item["authors"]] == card.authors + card.hidden_authors
        assert item.get("upvotes") == (card.upvotes or None)  # (None is left out)
        assert item["comments"] == card.num_comments
        assert item["submitted_at"][:10] == LIST_DAY.isoformat()
    mine = live.hf_json("ls", "--submitter", "alice", "--sort", "trending")
    assert sorted(p["id"] for p in mine) == sorted(HAND_FEATURED)
    table = live.hf("ls", "--week", f"{HAND_DAY.isocalendar()[0]}-W{HAND_DAY.isocalendar()[1]:02d}")
    assert table.returncode == 0, table.stderr
    assert cards[listed[0]["id"]].id in table.stdout or HAND_FEATURED[0] in table.stdout


def test_hf_papers_search(live: Live) -> None:
    card = live.cards([HAND_FEATURED[1]])[HAND_FEATURED[1]]
    found = live.hf_json("search", " ".join(card.title.split()[:6]), "--limit", "3")
    assert found[0]["id"] == card.id and found[0]["title"] == card.title
    assert found[0]["published_at"][:10] == card.published.isoformat()  # type: ignore[union-attr]


def test_hf_papers_info(live: Live) -> None:
    paper_id = sorted(live.featured(LIST_DAY))[-1]
    card = live.cards([paper_id])[paper_id]
    done = live.hf("info", paper_id)
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert info["id"] == card.id and info["title"] == card.title
    assert [a["name"] for a in info["authors"]] == card.authors
    assert info["comments"] == card.num_comments
    assert info["published_at"][:10] == card.published.isoformat()  # type: ignore[union-attr]
    missing = live.hf("info", "2999.99999")
    assert missing.returncode != 0 and "not found" in missing.stderr


def test_hf_papers_read(live: Live) -> None:
    paper_id = HAND_FEATURED[2]
    card = live.cards([paper_id])[paper_id]
    done = live.hf("read", paper_id)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"# {card.title}\n")
    assert ", ".join(card.authors) in done.stdout
    assert f"- **Featured on:** {HAND_DAY.isoformat()} (submitted by Alice A.)" in done.stdout
    missing = live.hf("read", "2999.99999")
    assert missing.returncode != 0 and "not found" in missing.stderr
