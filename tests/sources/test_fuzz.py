"""Fuzzing the importers with Hypothesis: malformed JSON lines (for both line formats), JSON
values of every shape where a Daily Papers entry should be, and broken or hostile XML for the
OAI-PMH and arXiv API parsers. Nothing crashes: each bad record becomes a ``BadRecord`` with a
reason, each bad document one error of the parser's own kind."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperfeed.ingest import read_batches
from paperfeed.sources import daily_papers
from paperfeed.sources.arxiv_api import ArxivApiError, parse_feed
from paperfeed.sources.oai_pmh import OaiError, parse_page
from paperfeed.sources.record import BadRecord
from tests.conftest import FIXTURES

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=20,
)
FIELDS = ["id", "title", "abstract", "authors", "authors_parsed", "categories", "versions",
          "update_date", "doi", "published", "comments", "journal-ref", "submitter"]  # fmt: skip
RECORDS = st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=8)
LINES = st.lists(
    st.one_of(RECORDS.map(json.dumps), JSON.map(json.dumps), st.text(max_size=80).filter(lambda t: "\n" not in t and "\r" not in t)),
    min_size=1, max_size=12,
)  # fmt: skip
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(lines=LINES)
def test_line_importers_turn_any_line_into_a_paper_or_a_reason(
    lines: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_text("\n".join(lines) + "\n")
    for source in ("jsonl", "arxiv-snapshot"):
        seen = 0
        for batch in read_batches(source, path, 0, 5):
            seen += len(batch.bad) + len(batch.records) + batch.duplicates
            assert all(isinstance(bad, BadRecord) and bad.reason for bad in batch.bad)
            assert all(record.id and record.title for record in batch.records)
        assert seen == sum(1 for line in lines if line.encode().strip())  # every line counted


@FUZZ
@given(entries=st.lists(JSON, max_size=6))
def test_daily_papers_entries_of_any_shape(entries: list[object]) -> None:
    for item in daily_papers.parse(json.dumps(entries).encode()):
        assert not isinstance(item, BadRecord) or item.reason


def _recorded_xml() -> bytes:
    return (FIXTURES / "oai_pmh" / "arXivRaw_GetRecordResponse.xml").read_bytes()


@FUZZ
@given(cut=st.integers(min_value=0), junk=st.binary(max_size=64), at=st.integers(min_value=0))
def test_broken_xml_is_one_clear_error(cut: int, junk: bytes, at: int) -> None:
    real = _recorded_xml()
    broken = real[: cut % len(real)]
    broken = broken[: at % (len(broken) + 1)] + junk + broken[at % (len(broken) + 1) :]
    for parse, kind in ((parse_page, OaiError), (parse_feed, ArxivApiError)):
        try:
            parse(broken)
        except kind as error:
            assert str(error)
        except Exception as error:  # anything else is a crash the user would see
            raise AssertionError(
                f"{parse.__name__} raised {type(error).__name__}: {error}"
            ) from error


def test_hostile_xml_is_refused() -> None:
    bomb = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><x>&lol2;</x></OAI-PMH>"""
    try:
        parse_page(bomb)
    except OaiError as error:
        assert "refused" in str(error) or "not" in str(error)
    else:
        raise AssertionError("an XML entity expansion was accepted")
