"""Mapping snapshot records (full Kaggle ones and the partial copies in circulation)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from paperfeed.sources.arxiv_snapshot import to_record
from paperfeed.sources.fields import FieldError
from tests.conftest import FIXTURES


def fixture_record(name: str, index: int = 0) -> dict[str, object]:
    return json.loads((FIXTURES / name).read_text().splitlines()[index])


def test_full_kaggle_record() -> None:
    record = to_record(fixture_record("arxiv-snapshot-sample.jsonl"), 1)
    assert record.id == "0704.0001"
    assert record.submitter == "Pavel Nadolsky"
    assert record.authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C. -P. Yuan"]
    assert (record.version, record.published, record.updated) == (
        2,
        dt.date(2007, 4, 2),
        dt.date(2007, 7, 24),
    )
    assert record.categories == ["hep-ph"]
    assert record.journal_ref == "Phys.Rev.D76:013009,2007"
    assert record.comments == "37 pages, 15 figures; published version"
    assert record.line == 1


def test_oai_harvest_record_without_authors_or_categories() -> None:
    record = to_record(fixture_record("arxiv-more-2-head100.jsonl"))
    assert record.id == "gr-qc/9210004"
    assert record.authors == [] and record.categories == []
    assert record.published == dt.date(1992, 10, 7)
    assert record.listed_on is None


def test_listing_record_takes_its_first_listing_day() -> None:
    raw = fixture_record("arxiv-more-1-head300.jsonl")
    raw["first_source_file"] = "data/2025-10-01.jsonl"
    record = to_record(raw)
    assert record.listed_on == dt.date(2025, 10, 1) == record.published
    assert record.authors == ["Mahdi Abavisani", "Hamid Reza Vaezi Joze", "Vishal M. Patel"]


@pytest.mark.parametrize(
    ("written", "names"),
    [
        ("Ileana Streinu and Louis Theran", ["Ileana Streinu", "Louis Theran"]),
        ("A. One, B. Two, and C. Three", ["A. One", "B. Two", "C. Three"]),
        ("A. One, B. Two and C. Three", ["A. One", "B. Two", "C. Three"]),
        ("Hamid Reza Vaezi Joze", ["Hamid Reza Vaezi Joze"]),
    ],
)
def test_authors_string_is_split(written: str, names: list[str]) -> None:
    assert (
        to_record({"id": "0704.0002", "title": "T", "abstract": "", "authors": written}).authors
        == names
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"versions": "v1"}, "versions must be a list"),
        ({"versions": [{"version": "v1"}]}, "each version must have a 'created' date"),
        ({"versions": [{"created": "sometime"}]}, "unreadable version date 'sometime'"),
        ({"authors_parsed": [["A", 1]]}, "authors_parsed must hold strings"),
        ({"doi": 10.1}, "doi must be a string, not a number"),
        ({"title": None}, "missing title"),
    ],
)
def test_wrong_types_are_named(change: dict[str, object], message: str) -> None:
    raw = {**fixture_record("arxiv-snapshot-sample.jsonl"), **change}
    with pytest.raises(FieldError, match=message):
        to_record(raw)
