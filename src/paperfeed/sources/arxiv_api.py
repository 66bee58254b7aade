"""The arXiv API (``https://export.arxiv.org/api/query``, Atom 1.0): papers by id and by query.

Responses are parsed with feedparser, which reads the ``arxiv:`` extension elements
(``arxiv_comment``, ``arxiv_doi``, ``arxiv_journal_ref``, ``arxiv_primary_category``). Author
affiliations (``<arxiv:affiliation>`` inside each ``<author>``) are read from the XML itself,
because feedparser keeps only one per entry. The API reports errors as a feed whose one entry
is titled "Error" (with HTTP 400): that becomes :class:`ArxivApiError` with arXiv's message.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import feedparser
from defusedxml import ElementTree as SafeET

from paperfeed.sources.http import FetchError, PoliteClient
from paperfeed.sources.record import BadRecord, PaperRecord

NAME = "arxiv-api"
ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
DEFAULT_URL = "https://export.arxiv.org/api/query"
ID_BATCH = 100  # ids per request
_ABS_ID = re.compile(r"arxiv\.org/abs/(.+?)(?:v(\d+))?$")


class ArxivApiError(RuntimeError):
    """arXiv refused the request (e.g. "incorrect id format for abc")."""


@dataclass(slots=True)
class ApiPage:
    items: list[PaperRecord | BadRecord] = field(default_factory=list)
    total: int = 0


def parse_feed(body: bytes) -> ApiPage:
    try:
        parsed = feedparser.parse(body)
    except (ValueError, UnicodeError) as error:  # feedparser's encoding step on garbage bytes
        raise ArxivApiError(f"not an arXiv API response: {error}") from None
    if parsed.bozo and not parsed.entries:
        raise ArxivApiError(f"not an arXiv API response: {parsed.get('bozo_exception')}")
    try:
        total = int(parsed.feed.get("opensearch_totalresults", 0) or 0)
    except ValueError:
        raise ArxivApiError("not an arXiv API response: an unreadable result count") from None
    page = ApiPage(total=total)
    affiliations = _affiliations(body)
    for entry in parsed.entries:
        if entry.get("title") == "Error" and "api/errors" in entry.get("id", ""):
            raise ArxivApiError(" ".join(entry.get("summary", "unknown error").split()))
        try:
            record = to_record(entry)
            record.affiliations = affiliations.get(entry.get("id", ""), {})
            page.items.append(record)
        except ValueError as error:
            page.items.append(BadRecord(0, str(error), entry.get("id")))
    return page


def to_record(entry: Any) -> PaperRecord:
    """The record of one Atom entry."""
    match = _ABS_ID.search(entry.get("id", ""))
    if match is None:
        raise ValueError(f"entry id {entry.get('id', '')[:80]!r} is not an arXiv abstract URL")
    title = " ".join(entry.get("title", "").split())
    if not title:
        raise ValueError("missing title")
    links = {
        link.get("title") or link.get("rel"): link.get("href") for link in entry.get("links", [])
    }
    primary = (entry.get("arxiv_primary_category") or {}).get("term")
    categories = [tag["term"] for tag in entry.get("tags", []) if tag.get("term")]
    if primary and primary in categories:
        categories.remove(primary)
        categories.insert(0, primary)
    authors = [" ".join(a.get("name", "").split()) for a in entry.get("authors", [])]
    return PaperRecord(
        id=match[1],
        title=title,
        abstract=" ".join(entry.get("summary", "").split()),
        authors=[a for a in authors if a],
        categories=categories,
        version=int(match[2]) if match[2] else None,
        published=_date(entry.get("published")),
        updated=_date(entry.get("updated")),
        doi=entry.get("arxiv_doi"),
        journal_ref=entry.get("arxiv_journal_ref"),
        comments=" ".join(entry["arxiv_comment"].split()) if entry.get("arxiv_comment") else None,
        abs_url=links.get("alternate"),
        pdf_url=links.get("pdf"),
    )


def _affiliations(body: bytes) -> dict[str, dict[str, str]]:
    """``{entry id: {author name: affiliations joined by "; "}}``."""
    try:
        root = SafeET.fromstring(body)
    except Exception:  # feedparser already judged the document; affiliations are a bonus
        return {}
    found: dict[str, dict[str, str]] = {}
    for entry in root.iter(f"{ATOM}entry"):
        places: dict[str, str] = {}
        for author in entry.iter(f"{ATOM}author"):
            name = " ".join((author.findtext(f"{ATOM}name") or "").split())
            where = [" ".join((a.text or "").split()) for a in author.iter(f"{ARXIV}affiliation")]
            if name and any(where):
                places[name] = "; ".join(w for w in where if w)
        found[(entry.findtext(f"{ATOM}id") or "").strip()] = places
    return found


def fetch_ids(
    client: PoliteClient, paper_ids: Sequence[str], url: str = DEFAULT_URL
) -> Iterator[PaperRecord | BadRecord]:
    """The papers with these ids (any id arXiv does not know is simply absent)."""
    for start in range(0, len(paper_ids), ID_BATCH):
        batch = paper_ids[start : start + ID_BATCH]
        params: dict[str, str | int] = {
            "id_list": ",".join(batch),
            "start": 0,
            "max_results": len(batch),
        }
        yield from parse_feed(_get(client, url, params)).items


def search(
    client: PoliteClient,
    query: str,
    max_results: int = 100,
    url: str = DEFAULT_URL,
    page_size: int = 100,
) -> Iterator[PaperRecord | BadRecord]:
    """Papers matching an arXiv search query (``cat:cs.LG AND all:diffusion``), newest first."""
    start = 0
    while start < max_results:
        params: dict[str, str | int] = {
            "search_query": query, "start": start, "max_results": min(page_size, max_results - start),
            "sortBy": "submittedDate", "sortOrder": "descending",
        }  # fmt: skip
        page = parse_feed(_get(client, url, params))
        yield from page.items
        start += page_size
        if not page.items or start >= page.total:
            return


def _get(client: PoliteClient, url: str, params: dict[str, str | int]) -> bytes:
    try:
        return client.get(url, params, allow=(400,)).content  # errors come as a feed
    except FetchError as error:
        raise ArxivApiError(str(error)) from None


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None
