"""Importing references into a reading list: a BibTeX file, or arXiv ids and DOIs one a line.

Each reference becomes a paper of the store: found by its arXiv id or DOI, or, when the store
does not have it and it is an arXiv paper, fetched from the arXiv API and stored. Whatever
cannot be placed is reported with the reason, and the rest is imported: one bad entry never
stops a file.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from bibtexparser.entrypoint import parse_string
from sqlalchemy import Connection, Engine, func, select

from paperfeed.arxiv_ids import is_arxiv_id, parse_arxiv_id
from paperfeed.models import Paper
from paperfeed.normalize import InvalidRecord, normalise
from paperfeed.services import library
from paperfeed.services.library import ListInfo
from paperfeed.services.submissions import ArxivFetcher
from paperfeed.sources import arxiv_api
from paperfeed.sources.http import FetchError
from paperfeed.store.counters import take
from paperfeed.store.engine import write_transaction
from paperfeed.store.papers import upsert_papers

MAX_REFERENCES = 500
DAY = dt.timedelta(days=1)
_DOI = re.compile(r"\b(10\.\d{4,9}/\S+)", re.I)
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.I)


@dataclass(frozen=True, slots=True)
class Reference:
    """What one entry or line names: an arXiv id, or a DOI (``label`` is how to report it)."""

    label: str
    arxiv_id: str | None = None
    doi: str | None = None


@dataclass(slots=True)
class ImportReport:
    added: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (entry, why)


def from_lines(text: str) -> tuple[list[Reference], list[tuple[str, str]]]:
    """arXiv ids (any form: versioned, URL, ``arXiv:``) and DOIs, one a line."""
    references, problems = [], []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        reference = _reference(line, line)
        if reference is None:
            problems.append((line[:200], "neither an arXiv id nor a DOI"))
        else:
            references.append(reference)
    return references, problems


def from_bibtex(text: str) -> tuple[list[Reference], list[tuple[str, str]]]:
    """The entries of a BibTeX file that name an arXiv paper or a DOI."""
    try:
        parsed = parse_string(text)
    except Exception as error:  # bibtexparser raises assorted errors on broken files
        return [], [("the file", f"not readable as BibTeX ({error})")]
    references, problems = [], []
    for block in parsed.failed_blocks:
        problems.append(((block.raw or "")[:80].strip() or "an entry", "not valid BibTeX"))
    for entry in parsed.entries:
        values = {k.lower(): str(v.value) for k, v in entry.fields_dict.items()}
        eprint = values.get("eprint", "")
        prefix = values.get("archiveprefix", values.get("eprinttype", "")).lower()
        candidates = [eprint if prefix in ("arxiv", "") else "", values.get("doi", ""),
                      values.get("url", ""), values.get("journal", ""), values.get("note", "")]  # fmt: skip
        reference = next(
            (r for c in candidates if c and (r := _reference(c, entry.key)) is not None), None
        )
        if reference is None:
            problems.append((entry.key, "no arXiv id or DOI in the entry"))
        else:
            references.append(reference)
    return references, problems


def import_references(
    engine: Engine, info: ListInfo, references: list[Reference], fetcher: ArxivFetcher,
    now: dt.datetime, arxiv_per_day: int,
) -> ImportReport:  # fmt: skip
    """Add ``references`` to the list, fetching arXiv papers the store does not have yet: at
    most ``arxiv_per_day`` a day for the list's owner, each request to arXiv 3 s after the last."""
    report = ImportReport()
    wanted = references[:MAX_REFERENCES]
    with engine.connect() as conn:
        stored = {r: _stored(conn, r) for r in wanted}
    missing = list(dict.fromkeys(r.arxiv_id for r in wanted if stored[r] is None and r.arxiv_id))
    fetched, trouble = _fetch_within_budget(
        engine, info.owner_id, missing, fetcher, now, arxiv_per_day
    )
    for reference in wanted:
        paper_id = stored[reference] or fetched.get(reference.arxiv_id or "")
        if paper_id is None:
            why = trouble.get(
                reference.arxiv_id or "", f"no paper with DOI {reference.doi} in this store"
            )
            report.problems.append((reference.label, why))
            continue
        with write_transaction(engine) as conn:
            current = library.find_list(conn, info.token, None) or info
            added = library.add(conn, current, paper_id, now)
        (report.added if added else report.already).append(paper_id)
    if len(references) > MAX_REFERENCES:
        report.problems.append(("the rest", f"at most {MAX_REFERENCES} references at a time"))
    return report


def _fetch_within_budget(
    engine: Engine, member_id: int, paper_ids: list[str], fetcher: ArxivFetcher,
    now: dt.datetime, per_day: int,
) -> tuple[dict[str, str], dict[str, str]]:  # fmt: skip
    """Fetch and store the arXiv papers the member's daily budget of look-ups allows; returns
    (arXiv id → stored id, arXiv id → why it is not there)."""
    allowed: list[str] = []
    with write_transaction(engine) as conn:  # one unit per id, each taken atomically
        for paper_id in paper_ids:
            if not take(conn, f"arxiv-lookups:{member_id}", per_day, DAY, now):
                break
            allowed.append(paper_id)
    trouble = {
        paper_id: f"over today's {per_day} arXiv look-ups for one member: try tomorrow (UTC)"
        for paper_id in paper_ids[len(allowed) :]
    }
    if not allowed:
        return {}, trouble
    try:
        found = fetcher.many(allowed)
    except (FetchError, arxiv_api.ArxivApiError) as error:
        return {}, trouble | {
            i: f"arXiv could not be asked just now ({error}); try again later" for i in allowed
        }
    records = []
    for paper_id in allowed:
        try:
            records.append(normalise(found[paper_id]))
        except KeyError:
            trouble[paper_id] = f"arXiv has no paper {paper_id}"
        except InvalidRecord as error:
            trouble[paper_id] = f"arXiv's record of {paper_id} cannot be stored: {error}"
    if records:
        with write_transaction(engine) as conn:
            upsert_papers(conn, records, arxiv_api.NAME, now)
    return {r.id: r.id for r in records}, trouble


def _stored(conn: Connection, reference: Reference) -> str | None:
    if reference.arxiv_id is not None:
        return conn.scalar(select(Paper.id).where(Paper.id == reference.arxiv_id))
    assert reference.doi is not None
    return conn.scalar(select(Paper.id).where(func.lower(Paper.doi) == reference.doi.lower()))


def _reference(text: str, label: str) -> Reference | None:
    """The arXiv id or DOI in ``text`` (an arXiv DOI 10.48550/arXiv.X is the arXiv id X)."""
    text = text.strip().strip("{}")
    if (doi := _DOI.search(text)) is not None:
        value = doi[1].rstrip(".,;")
        if (arxiv := _ARXIV_DOI.match(value)) is not None and is_arxiv_id(arxiv[1]):
            return Reference(label, arxiv_id=parse_arxiv_id(arxiv[1]).id)
        return Reference(label, doi=value)
    candidate = re.sub(r"^arxiv:\s*", "", text, flags=re.I)
    if is_arxiv_id(candidate):
        return Reference(label, arxiv_id=parse_arxiv_id(candidate).id)
    return None
