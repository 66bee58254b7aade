"""The public Daily Papers API's JSON (``/api/daily_papers``): a day's featured papers.

One response is a JSON array of entries ``{"paper": {...}, "numComments", "submittedBy",
"organization", ...}``. Each becomes a :class:`DailyEntry`: the paper's metadata as a
:class:`PaperRecord` and the feed facts (featured day, submitter, upvotes, comments), so a
mirror can start from the public site's history. An entry that cannot be read becomes a
:class:`BadRecord` and the others are still imported.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperfeed.sources.fields import FieldError, iso_date, optional_str, required_str
from paperfeed.sources.record import BadRecord, PaperRecord

NAME = "daily-papers"


@dataclass(slots=True)
class DailyEntry:
    record: PaperRecord
    day: dt.date
    submitter: str | None
    submitter_name: str | None
    upvotes: int
    num_comments: int


def read(path: Path) -> Iterator[DailyEntry | BadRecord]:
    """Entries of a saved response; a file that is not a JSON array is one clear error."""
    return parse(path.read_bytes(), str(path))


def parse(body: bytes, origin: str = "the response") -> Iterator[DailyEntry | BadRecord]:
    """Entries of a response body (a JSON array of entries)."""
    try:
        data = json.loads(body)
    except json.JSONDecodeError as error:
        raise ValueError(f"{origin} is not JSON: {error}") from None
    if not isinstance(data, list):
        raise ValueError(f"{origin} is not a Daily Papers response (a JSON array of entries)")
    return _entries(data)


def _entries(data: list[Any]) -> Iterator[DailyEntry | BadRecord]:
    for number, entry in enumerate(data, start=1):
        try:
            yield to_entry(entry, number)
        except (FieldError, TypeError, ValueError) as error:
            paper = entry.get("paper") if isinstance(entry, dict) else None
            paper_id = paper.get("id") if isinstance(paper, dict) else None
            yield BadRecord(number, str(error), paper_id if isinstance(paper_id, str) else None)


def to_entry(entry: Any, number: int = 0) -> DailyEntry:
    if not isinstance(entry, dict) or not isinstance(entry.get("paper"), dict):
        raise FieldError("an entry must be an object with a paper object")
    paper: dict[str, Any] = entry["paper"]
    day = iso_date(paper, "submittedOnDailyAt") or iso_date(entry, "publishedAt")
    if day is None:
        raise FieldError("missing submittedOnDailyAt")
    listed = [
        a
        for a in paper.get("authors") or []
        if isinstance(a, dict) and isinstance(a.get("name"), str)
    ]
    authors = [a["name"] for a in listed if not a.get("hidden")]
    hidden_authors = [a["name"] for a in listed if a.get("hidden")]
    organization = paper.get("organization") or entry.get("organization")
    submitter = entry.get("submittedBy") or paper.get("submittedOnDailyBy") or {}
    record = PaperRecord(
        id=required_str(paper, "id"),
        title=required_str(paper, "title"),
        abstract=optional_str(paper, "summary") or "",
        authors=authors,
        published=iso_date(paper, "publishedAt"),
        code_url=optional_str(paper, "githubRepo"),
        project_url=optional_str(paper, "projectPage"),
        organization=_organization_name(organization),
        organization_handle=_text(organization, "name") if isinstance(organization, dict) else None,
        hidden_authors=hidden_authors,
        line=number,
    )
    return DailyEntry(
        record=record,
        day=day,
        submitter=_text(submitter, "name"),
        submitter_name=_text(submitter, "fullname"),
        upvotes=_count(paper, "upvotes"),
        num_comments=_count(entry, "numComments"),
    )


def _organization_name(organization: Any) -> str | None:
    if not isinstance(organization, dict):
        return None
    return _text(organization, "fullname") or _text(organization, "name")


def _text(obj: Any, key: str) -> str | None:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value.strip() or None if isinstance(value, str) else None


def _count(obj: dict[str, Any], key: str) -> int:
    value = obj.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise FieldError(f"{key} must be a count, not {value!r}")
    return value
