"""The arXiv metadata snapshot (Kaggle ``arxiv-metadata-oai-snapshot.json``), one JSON object a line.

Fields: ``id, submitter, authors, title, comments, journal-ref, doi, categories, abstract,
versions, update_date, authors_parsed``. Every field but ``id``, ``title`` and ``abstract`` may
be missing: partial copies of the snapshot circulate, and some carry provenance of their own
(``date`` for the first submission, ``first_source_file`` naming the daily listing the paper
appeared in), which we keep because the feed shows papers on the day arXiv listed them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

from paperfeed.sources.fields import (
    FieldError,
    iso_date,
    optional_str,
    required_str,
    rfc2822_date,
    str_list,
)
from paperfeed.sources.lines import LineFile, json_records
from paperfeed.sources.record import PaperRecord, SourceItem

NAME = "arxiv-snapshot"

_LISTING_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})\.jsonl?$")
_AUTHOR_SPLIT = re.compile(r",\s*(?:and\s+)?|\s+and\s+")


def read(source: LineFile, skip: int = 0) -> Iterator[SourceItem]:
    """Records of a snapshot file, starting after line ``skip``."""
    return json_records(source, skip, to_record)


def to_record(obj: dict[str, Any], line: int = 0) -> PaperRecord:
    versions = _versions(obj)
    categories = optional_str(obj, "categories")
    listed_on = _listing_day(obj)
    return PaperRecord(
        id=required_str(obj, "id"),
        title=required_str(obj, "title"),
        abstract=optional_str(obj, "abstract") or "",
        authors=_authors(obj),
        categories=categories.split() if categories else [],
        version=len(versions) or None,
        published=versions[0] if versions else iso_date(obj, "date") or listed_on,
        updated=versions[-1] if versions else iso_date(obj, "update_date"),
        listed_on=listed_on,
        doi=optional_str(obj, "doi"),
        journal_ref=optional_str(obj, "journal-ref"),
        comments=optional_str(obj, "comments"),
        submitter=optional_str(obj, "submitter"),
        line=line,
    )


def _authors(obj: dict[str, Any]) -> list[str]:
    """Prefer ``authors_parsed`` (affiliations already split off, accents decoded)."""
    parsed = obj.get("authors_parsed")
    if parsed is not None:
        if not isinstance(parsed, list) or not all(isinstance(p, list) for p in parsed):
            raise FieldError("authors_parsed must be a list of [last, first, suffix] lists")
        return [_parsed_name(parts) for parts in parsed]
    if "authors_list" in obj:
        return str_list(obj, "authors_list")
    written = optional_str(obj, "authors")
    return split_authors(written) if written else []


def split_authors(written: str) -> list[str]:
    """``A, B and C`` → ``[A, B, C]``: arXiv's written author lists (snapshot, arXivRaw)."""
    return [name.strip() for name in _AUTHOR_SPLIT.split(written) if name.strip()]


def _parsed_name(parts: list[Any]) -> str:
    if not all(isinstance(p, str) for p in parts):
        raise FieldError("authors_parsed must hold strings")
    last, first, suffix = [*parts, "", "", ""][:3]
    return " ".join(p for p in (first, last, suffix) if p)


def _versions(obj: dict[str, Any]) -> list[dt.date]:
    versions = obj.get("versions")
    if versions is None:
        return []
    if not isinstance(versions, list):
        raise FieldError("versions must be a list")
    dates = []
    for version in versions:
        created = version.get("created") if isinstance(version, dict) else None
        if not isinstance(created, str):
            raise FieldError("each version must have a 'created' date")
        dates.append(rfc2822_date(created))
    return dates


def _listing_day(obj: dict[str, Any]) -> dt.date | None:
    name = optional_str(obj, "first_source_file") or optional_str(obj, "source_file")
    match = _LISTING_DAY.search(name) if name else None
    return dt.date.fromisoformat(match[1]) if match else None
