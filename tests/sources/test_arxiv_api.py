"""The arXiv API client on recorded responses, served by a real local HTTP server."""

from __future__ import annotations

import json

import pytest

from paperfeed.sources.arxiv_api import ArxivApiError, fetch_ids, parse_feed, search
from paperfeed.sources.http import PoliteClient, Politeness
from paperfeed.sources.record import PaperRecord
from tests.conftest import FIXTURES
from tests.sources.replay import Replay, Reply

API = FIXTURES / "arxiv_api"


def body(name: str) -> bytes:
    return str(json.loads((API / name).read_text())["body"]).encode()


def test_every_field_of_an_entry_is_mapped() -> None:
    page = parse_feed(body("id_astro-ph_0601001_s0_m100_3150dca9dc76.json"))
    [record] = page.items
    assert isinstance(record, PaperRecord)
    assert (record.id, record.version) == ("astro-ph/0601001", 1)
    assert record.title.startswith("Frequency of Hot Jupiters and Very Hot Jupiters")
    assert record.journal_ref == "ActaAstron.56:1-50,2006"
    assert record.comments is not None and record.comments.startswith("62 pages")
    assert record.categories[0] == "astro-ph"
    assert record.abs_url == "https://arxiv.org/abs/astro-ph/0601001v1"
    assert record.pdf_url == "https://arxiv.org/pdf/astro-ph/0601001v1"
    assert record.published is not None and record.published.isoformat() == "2006-01-02"
    assert record.affiliations and set(record.affiliations.values()) >= {"Ohio State", "CfA"}
    assert set(record.affiliations) <= set(record.authors)


def test_arxiv_errors_become_clear_exceptions() -> None:
    with pytest.raises(ArxivApiError, match="incorrect id format for abc"):
        parse_feed(body("id_abc_s0_m100_b79c8dcf6bc3.json"))
    with pytest.raises(ArxivApiError, match="not an arXiv API response"):
        parse_feed(b"<html><body>502 Bad Gateway</body></html")


def test_search_pages_through_results_and_fetch_by_id() -> None:
    replay = Replay()
    replay.add("/api/query", {"search_query": "testing", "start": "0"},
               Reply(body("q_testing_s0_m10_bc5a6c384fe9.json")))  # fmt: skip
    replay.add("/api/query", {"search_query": "testing", "start": "10"},
               Reply(body("q_testing_s10_m10_34e56e15aaac.json")))  # fmt: skip
    replay.add(
        "/api/query",
        {"id_list": "1707.08567"},
        Reply(body("id_1707.08567_s0_m100_6a1afebfc6a3.json")),
    )
    with replay.running(), PoliteClient(Politeness(delay=0, retries=0)) as client:
        found = list(
            search(client, "testing", max_results=20, url=replay.url + "/api/query", page_size=10)
        )
        by_id = list(fetch_ids(client, ["1707.08567"], url=replay.url + "/api/query"))
    records = [r for r in found if isinstance(r, PaperRecord)]
    assert len(records) == 20 and len({r.id for r in records}) == 20
    assert [r.id for r in by_id if isinstance(r, PaperRecord)] == ["1707.08567"]
    assert len([r for r in replay.requests if "search_query=testing" in r]) == 2
