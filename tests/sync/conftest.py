"""Recorded provider responses, served by a real local HTTP server, and a config that syncs them.

The OAI-PMH chain is made from three real responses: the hep-ex ListRecords page (a token
``t1`` inserted), the hep-th page (token ``t2``) and the GetRecord response for 1606.04259
re-wrapped as a last ListRecords page. The arXivRaw source serves arXiv's real first page
(with its real token ``726959|1001``) and then its GetRecord response as the last page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.sources.replay import Replay, Reply

OAI = FIXTURES / "oai_pmh"
API = FIXTURES / "arxiv_api"
RSS = FIXTURES / "arxiv_rss" / "rss_cs.LG+cs.AI+cs.CL+stat.ML_2026-09-24_trimmed4.xml"
DAILY = FIXTURES / "hf_daily_papers" / "daily_papers_limit30_2026-06-13.json"
PHYSICS_IDS = {
    "1706.05371",
    "1706.09418",
    "1707.00874",
    "1412.8323",
    "1507.07790",
    "1607.01710",
    "1606.04259",
}
RAW_IDS = {
    "0704.0471",
    "0704.0716",
    "0704.0874",
    "0704.1109",
    "0704.1114",
    "0704.1586",
    "1302.2146",
}
API_IDS = {"1707.08567", "astro-ph/0601001"}
RSS_IDS = {"2609.26811", "2609.26820", "2205.06398", "2009.13987"}


def with_token(xml: bytes, token: str | None, size: int) -> bytes:
    """The page with its resumption token replaced (or removed, for a last page)."""
    xml = re.sub(
        rb"<resumptionToken[^>]*>[^<]*</resumptionToken>|<resumptionToken[^>]*/>", b"", xml
    )
    element = (
        f'<resumptionToken cursor="0" completeListSize="{size}">{token}</resumptionToken>'.encode()
        if token
        else b""
    )
    return xml.replace(b"</ListRecords>", element + b"</ListRecords>")


def as_list_records(xml: bytes) -> bytes:
    return xml.replace(b"<GetRecord>", b"<ListRecords>").replace(b"</GetRecord>", b"</ListRecords>")


def physics_pages() -> list[bytes]:
    return [
        with_token((OAI / "ListRecords_arXiv_arxiv-physics-hep-ex.xml").read_bytes(), "t1", 7),
        with_token((OAI / "ListRecords_arXiv_arxiv-physics-hep-th.xml").read_bytes(), "t2", 7),
        as_list_records((OAI / "GetRecord_arXiv_1606.04259.xml").read_bytes()),
    ]


def recorded(name: str) -> Reply:
    exchange = json.loads((API / name).read_text())
    return Reply(
        exchange["body"].encode(), exchange["status_code"], content_type="application/atom+xml"
    )


def serve_recorded(replay: Replay) -> None:
    """Every recorded response at the address the sources will ask for."""
    first, second, third = physics_pages()
    replay.add(
        "/oai2", {"verb": "ListRecords", "metadataPrefix": "arXiv", "set": "physics"}, Reply(first)
    )
    replay.add("/oai2", {"resumptionToken": "t1"}, Reply(second))
    replay.add("/oai2", {"resumptionToken": "t2"}, Reply(third))
    raw_first = (OAI / "arXivRaw_ListRecordsResponse.xml").read_bytes()
    replay.add("/oai2", {"verb": "ListRecords", "metadataPrefix": "arXivRaw"}, Reply(raw_first))
    raw_last = as_list_records((OAI / "arXivRaw_GetRecordResponse.xml").read_bytes())
    replay.add("/oai2", {"resumptionToken": "726959|1001"}, Reply(raw_last))
    replay.add(
        "/api/query",
        {"id_list": "1707.08567,astro-ph/0601001"},
        Reply(_merged_api_feed(), content_type="application/atom+xml"),
    )
    replay.add(
        "/rss/cs.LG+cs.AI+cs.CL+stat.ML",
        None,
        Reply(RSS.read_bytes(), content_type="application/rss+xml"),
    )
    replay.add(
        "/api/daily_papers",
        {"date": "2026-06-12"},
        Reply(DAILY.read_bytes(), content_type="application/json"),
    )


def _merged_api_feed() -> bytes:
    """The two recorded id lookups as one response (what arXiv returns for both ids at once)."""
    one = json.loads((API / "id_1707.08567_s0_m100_6a1afebfc6a3.json").read_text())["body"]
    two = json.loads((API / "id_astro-ph_0601001_s0_m100_3150dca9dc76.json").read_text())["body"]
    entry = two[two.index("<entry>") : two.rindex("</entry>") + len("</entry>")]
    return one.replace("</feed>", entry + "\n</feed>").encode()


def write_config(home: Path, base: str, extra: str = "") -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "paperfeed.toml"
    path.write_text(
        f"""
[sync]
delay_seconds = 0
retries = 1
backoff_seconds = 0
max_retry_after_seconds = 2

[[sync.sources]]
name = "physics"
kind = "oai-pmh"
url = "{base}/oai2"
set = "physics"

[[sync.sources]]
name = "raw"
kind = "oai-pmh"
url = "{base}/oai2"
metadata_prefix = "arXivRaw"

[[sync.sources]]
name = "by-id"
kind = "arxiv-api"
url = "{base}/api/query"
ids = ["1707.08567", "astro-ph/0601001"]

[[sync.sources]]
name = "new-ml"
kind = "arxiv-rss"
url = "{base}/rss/cs.LG+cs.AI+cs.CL+stat.ML"
auto_feature = ["cs.LG"]

[[sync.sources]]
name = "hub"
kind = "daily-papers"
url = "{base}/api/daily_papers"
dates = [2026-06-12]
{extra}"""
    )
    return path


@pytest.fixture
def replay() -> Iterator[Replay]:
    server = Replay()
    serve_recorded(server)
    with server.running():
        yield server
