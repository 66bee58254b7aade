"""Our generic JSONL format: what a captured listing page counted without naming it."""

from __future__ import annotations

import pytest

from paperfeed.sources.fields import FieldError
from paperfeed.sources.jsonl import to_record


def test_a_captured_record_keeps_its_count_date_and_upvotes() -> None:
    record = to_record(
        {"id": "dailypapers:mist", "title": "MIST", "num_authors": 5, "date_shown": "Nov 24",
         "upvotes": 2, "published": None}
    )  # fmt: skip

    assert (record.num_authors, record.date_shown, record.upvotes) == (5, "Nov 24", 2)
    assert record.published is None


@pytest.mark.parametrize("bad", [-1, "5", 2.5, True])
def test_a_count_must_be_a_whole_number(bad: object) -> None:
    with pytest.raises(FieldError, match="upvotes must be a whole number"):
        to_record({"id": "dailypapers:mist", "title": "MIST", "upvotes": bad})
