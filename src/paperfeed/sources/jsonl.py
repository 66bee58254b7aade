"""Our generic JSON-lines format (DESIGN.md), one paper a line.

``{"id", "title", "abstract", "authors": [..], "categories": [..], "published": "YYYY-MM-DD",
"url", "code_url", "organization"}``: ``id`` and ``title`` are required, unknown fields ignored.
A record taken from a listing page may also say what the page showed without naming it:
``num_authors`` (a count, when there are no names), ``date_shown`` (a date as the page wrote
it, such as ``Apr 8`` with no year) and ``upvotes`` (the site's count, kept as recorded).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from paperfeed.sources.fields import (
    iso_date,
    optional_count,
    optional_str,
    required_str,
    str_list,
)
from paperfeed.sources.lines import LineFile, json_records
from paperfeed.sources.record import PaperRecord, SourceItem

NAME = "jsonl"


def read(source: LineFile, skip: int = 0) -> Iterator[SourceItem]:
    """Records of a generic JSONL file, starting after line ``skip``."""
    return json_records(source, skip, to_record)


def to_record(obj: dict[str, Any], line: int = 0) -> PaperRecord:
    url = optional_str(obj, "url")
    return PaperRecord(
        id=required_str(obj, "id"),
        title=required_str(obj, "title"),
        abstract=optional_str(obj, "abstract") or "",
        authors=str_list(obj, "authors"),
        categories=str_list(obj, "categories"),
        published=iso_date(obj, "published"),
        abs_url=url,
        code_url=optional_str(obj, "code_url"),
        organization=optional_str(obj, "organization"),
        num_authors=optional_count(obj, "num_authors"),
        date_shown=optional_str(obj, "date_shown"),
        upvotes=optional_count(obj, "upvotes"),
        line=line,
    )
