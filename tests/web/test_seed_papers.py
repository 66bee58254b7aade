"""The papers of the captured search page (the bundled sample's ``dailypapers:`` ids) shown as
the capture shows them: author count, the site's upvotes, the date as written, and no arXiv id
or arXiv link they do not have; and their old address once an arXiv record took them over."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

import paperfeed
from paperfeed.config import Settings
from paperfeed.ingest import ingest_file
from paperfeed.paper_urls import paper_path
from paperfeed.search import indexer
from paperfeed.search.embedder import HashingEmbedder
from paperfeed.web.app import create_app

SAMPLE = Path(paperfeed.__file__).parent / "data" / "sample" / "daily-papers.jsonl"
MIST = "dailypapers:mist-mutual-information-via-supervised-training"  # "Nov 24", 5 authors, ▲ 2
ARXIV_ID = "2504.06514"
OLD = "dailypapers:missing-premise-exacerbates-overthinking-are-reasoning-model"
INVERSION = "dailypapers:re-thinking-model-inversion-attacks-against-deep-neural-netw"


@pytest.fixture
def seeded(site_home: Path, engine: Engine, db_url: str) -> Iterator[TestClient]:
    """The site with the bundled sample's captured papers imported as ``make demo`` does."""
    ingest_file(engine, "jsonl", SAMPLE)
    indexer.update(engine, site_home, HashingEmbedder())
    settings = Settings(home=site_home, db=db_url, base_url="http://testserver")
    with TestClient(create_app(settings, HashingEmbedder)) as client:
        yield client


def test_a_captured_paper_page_says_what_the_capture_says(seeded: TestClient) -> None:
    page = seeded.get(f"/papers/{MIST}")

    assert page.status_code == 200
    assert "5 authors" in page.text and "counted them without names" in page.text
    assert "Date shown at the source" in page.text and "Nov 24" in page.text
    assert '<span class="count">2</span> <span class="unit">upvotes</span>' in page.text
    assert "arXiv id" not in page.text and "arxiv.org" not in page.text
    assert "Abstract page" not in page.text and ">PDF<" not in page.text
    assert "Not featured here yet" in page.text


def test_a_full_date_is_the_published_date(seeded: TestClient) -> None:
    page = seeded.get(f"/papers/{INVERSION}")

    assert "4 authors" in page.text and "Apr 4, 2023" in page.text
    assert "Date shown at the source" not in page.text
    assert "arxiv.org" not in page.text


def test_the_apis_do_not_call_a_captured_paper_an_arxiv_paper(seeded: TestClient) -> None:
    mine = seeded.get(f"/api/v1/papers/{MIST}").json()
    hub = seeded.get(f"/api/papers/{MIST}")
    markdown = seeded.get(f"/papers/{MIST}.md").text

    assert mine["arxiv_id"] is None and mine["abs_url"] is None and mine["pdf_url"] is None
    assert (mine["num_authors"], mine["authors"]) == (5, [])
    assert (mine["published"], mine["date_shown"], mine["upvotes"]) == (None, "Nov 24", 2)
    assert hub.json()["upvotes"] == 2 and "publishedAt" not in hub.json()
    assert "arxiv" not in hub.text.lower()
    assert "5 authors (not named by the source)" in markdown and "Nov 24" in markdown
    assert "arxiv.org" not in markdown


def test_cards_name_the_author_count(seeded: TestClient) -> None:
    page = seeded.get("/search", params={"q": "MIST Mutual Information Via Supervised Training", "mode": "keyword"})  # fmt: skip

    card = page.text.split(f'data-paper="{MIST}"', 1)[1].split("</article>", 1)[0]
    assert '<span class="authors">5 authors</span>' in card
    assert "Nov 24" in card


def test_the_old_address_redirects_once_arxiv_brings_the_paper(
    seeded: TestClient, engine: Engine, tmp_path: Path
) -> None:
    # "Missing Premise exacerbates Overthinking" as the capture shows it, had the listings not
    # held it (then the sample would give it this id), and then its real arXiv record.
    captured = {**sample_line("daily-papers.jsonl", ARXIV_ID), "id": OLD}
    ingest_file(engine, "jsonl", write_line(tmp_path / "capture.jsonl", captured))
    assert seeded.get(f"/papers/{OLD}").status_code == 200
    snapshot = gzip.compress(
        (json.dumps(sample_line("arxiv-sample.jsonl.gz", ARXIV_ID)) + "\n").encode()
    )
    (tmp_path / "arxiv.jsonl.gz").write_bytes(snapshot)
    ingest_file(engine, "arxiv-snapshot", tmp_path / "arxiv.jsonl.gz")

    for old, new in [
        (f"/papers/{OLD}", f"/papers/{ARXIV_ID}"),
        (f"/api/papers/{OLD}", f"/api/papers/{ARXIV_ID}"),
        (f"/api/v1/papers/{OLD}", f"/api/v1/papers/{ARXIV_ID}"),
    ]:
        moved = seeded.get(old, follow_redirects=False)
        assert (moved.status_code, moved.headers["location"]) == (301, new)
    paper = seeded.get(f"/api/v1/papers/{ARXIV_ID}").json()
    assert paper["upvotes"] == 3 and paper["arxiv_id"] == ARXIV_ID
    assert paper["pdf_url"] == f"https://arxiv.org/pdf/{ARXIV_ID}"
    assert paper["authors"][0] == "Chenrui Fan" and paper["categories"][0] == "cs.AI"


@pytest.mark.parametrize("old_id", [OLD, "capture:missing-premise?v=1#top"])
def test_every_route_of_a_merged_paper_redirects_to_the_same_route_of_the_arxiv_paper(
    seeded: TestClient, engine: Engine, tmp_path: Path, old_id: str
) -> None:
    captured = {**sample_line("daily-papers.jsonl", ARXIV_ID), "id": old_id}
    ingest_file(engine, "jsonl", write_line(tmp_path / "capture.jsonl", captured))
    arxiv = sample_line("arxiv-sample.jsonl.gz", ARXIV_ID)
    (tmp_path / "arxiv.jsonl.gz").write_bytes(gzip.compress((json.dumps(arxiv) + "\n").encode()))
    ingest_file(engine, "arxiv-snapshot", tmp_path / "arxiv.jsonl.gz")
    old, new = paper_path(old_id), paper_path(ARXIV_ID)

    for prefix, suffix in [
        ("", ""), ("", "?from=mail"), ("", ".md"), ("", "/export.bib"),
        ("", "/export.ris?x=1"), ("/api", ""), ("/api", "?full=true"), ("/api/v1", ""),
        ("/api/v1", "/similar?limit=3"),
    ]:  # fmt: skip
        moved = seeded.get(prefix + old + suffix, follow_redirects=False)
        assert (moved.status_code, moved.headers.get("location")) == (301, prefix + new + suffix)
        direct = seeded.get(prefix + new + suffix)
        assert seeded.get(prefix + old + suffix).status_code == direct.status_code
    assert seeded.get(new + ".md").status_code == 200
    assert seeded.get("/api/v1" + new + "/similar").status_code == 200
    # The page route takes "<id>/similar" or "<id>/upvote" (POST only) whole: no page of the
    # arXiv paper has that address either, so it answers 404 here instead of a 301 to a 404.
    for suffix in ("/similar", "/upvote"):
        assert seeded.get(old + suffix, follow_redirects=False).status_code == 404


def sample_line(name: str, paper_id: str) -> dict[str, Any]:
    """The bundled sample's real record of ``paper_id``."""
    path = SAMPLE.parent / name
    text = gzip.decompress(path.read_bytes()).decode() if name.endswith(".gz") else path.read_text()
    return next(r for r in map(json.loads, text.splitlines()) if r["id"] == paper_id)


def write_line(path: Path, record: dict[str, Any]) -> Path:
    path.write_text(json.dumps(record) + "\n")
    return path
