"""Reading a recorded Daily Papers API response, and what bad entries become."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from paperfeed.sources.daily_papers import DailyEntry, read
from paperfeed.sources.record import BadRecord
from tests.conftest import FIXTURES

RECORDED = FIXTURES / "hf_daily_papers" / "daily_papers_limit30_2026-06-13.json"


def test_every_recorded_entry_is_read_with_its_feed_facts() -> None:
    raw = json.loads(RECORDED.read_text())
    entries = list(read(RECORDED))
    assert len(entries) == 30 and all(isinstance(e, DailyEntry) for e in entries)
    for entry, source in zip(entries, raw, strict=True):
        assert isinstance(entry, DailyEntry)
        assert entry.record.id == source["paper"]["id"]
        assert entry.record.title == source["paper"]["title"]
        assert entry.day == dt.date(2026, 6, 12)
        assert entry.upvotes == source["paper"]["upvotes"]
        assert entry.num_comments == source["numComments"]
        assert entry.submitter == source["submittedBy"]["name"]
        assert entry.record.code_url == source["paper"].get("githubRepo")
        if "organization" in source:
            assert entry.record.organization == source["organization"]["fullname"]


def test_bad_entries_are_reported_and_the_rest_read(tmp_path: Path) -> None:
    raw = json.loads(RECORDED.read_text())[:3]
    raw[0]["paper"]["upvotes"] = "many"
    del raw[1]["paper"]["title"]
    raw.append("not an entry")
    path = tmp_path / "daily.json"
    path.write_text(json.dumps(raw))
    items = list(read(path))
    bad = [item for item in items if isinstance(item, BadRecord)]
    assert [(b.line, b.record_id) for b in bad] == [
        (1, raw[0]["paper"]["id"]),
        (2, raw[1]["paper"]["id"]),
        (4, None),
    ]
    assert "upvotes must be a count" in bad[0].reason and "missing title" in bad[1].reason
    assert sum(isinstance(item, DailyEntry) for item in items) == 1


def test_a_file_that_is_not_a_response_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "page.json"
    path.write_text("<html>rate limited</html>")
    with pytest.raises(ValueError, match="is not JSON"):
        list(read(path))
    path.write_text('{"error": "x"}')
    with pytest.raises(ValueError, match="JSON array"):
        list(read(path))
