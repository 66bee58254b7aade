"""Write papers in batches, and read the change cursor that the search indexer follows.

A batch is classified against what the same source said last time, by content hash: new
papers are inserted, changed ones updated, unchanged ones not touched at all, so re-importing a
file leaves ``updated_at`` (the change cursor) alone and costs one indexed read per batch.

Fields a source does not know (``None``, an empty list) never erase what another source
stored: importing a paper's upvote list after its full arXiv record keeps the abstract.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Insert, and_, delete, func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from paperfeed.models import Author, Organization, Paper, PaperAuthor, PaperCategory, PaperSource
from paperfeed.normalize import content_hash
from paperfeed.sources.record import PaperRecord

_T = TypeVar("_T")
_CHUNK = 5_000
_KEEP_WHEN_MISSING = (
    "version", "primary_category", "published", "updated", "listed_on", "doi", "journal_ref",
    "comments", "submitter", "abs_url", "pdf_url", "code_url", "project_url", "organization_id",
)  # fmt: skip

papers = Paper.__table__
paper_authors = PaperAuthor.__table__
paper_categories = PaperCategory.__table__
paper_sources = PaperSource.__table__
authors = Author.__table__
organizations = Organization.__table__


@dataclass(slots=True)
class UpsertCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0


def upsert_papers(
    conn: Connection, records: Sequence[PaperRecord], source: str, now: dt.datetime
) -> UpsertCounts:
    """Store normalised ``records`` (ids unique within the batch) inside the caller's transaction."""
    hashes = {record.id: content_hash(record) for record in records}
    stored = _stored_hashes(conn, list(hashes), source)
    fresh = [r for r in records if r.id not in stored]
    changed = [r for r in records if r.id in stored and stored[r.id] != hashes[r.id]]
    writes = fresh + changed
    if writes:
        org_ids = _organization_ids(conn, {r.organization for r in writes if r.organization})
        conn.execute(_upsert_statement(conn), [_paper_row(r, org_ids, now) for r in writes])
        _record_sources(conn, [(r.id, hashes[r.id]) for r in writes], source, now)
        _delete_links(conn, [r.id for r in changed if r.authors], paper_authors)
        _delete_links(conn, [r.id for r in changed if r.categories], paper_categories)
        _insert_authors(conn, [r for r in writes if r.authors])
        _insert_categories(conn, [r for r in writes if r.categories])
    return UpsertCounts(len(fresh), len(changed), len(records) - len(writes))


def changed_since(
    conn: Connection, cursor: tuple[dt.datetime, str] | None, limit: int
) -> list[tuple[str, dt.datetime]]:
    """Ids of papers changed after ``cursor`` (``(updated_at, id)``), oldest change first."""
    query = select(papers.c.id, papers.c.updated_at).order_by(papers.c.updated_at, papers.c.id)
    if cursor is not None:
        query = query.where(tuple_(papers.c.updated_at, papers.c.id) > tuple_(*cursor))
    return [(row.id, row.updated_at) for row in conn.execute(query.limit(limit))]


def slugify(name: str) -> str:
    """A URL-safe slug for an organization name (``NAVER AI Lab`` → ``naver-ai-lab``)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:200] or "org"


def _stored_hashes(conn: Connection, ids: list[str], source: str) -> dict[str, str | None]:
    """For papers already stored: the hash of what ``source`` last said (None if it never did)."""
    stored: dict[str, str | None] = {}
    said = and_(paper_sources.c.paper_id == papers.c.id, paper_sources.c.source == source)
    for chunk in _chunks(ids):
        query = (
            select(papers.c.id, paper_sources.c.content_hash)
            .outerjoin(paper_sources, said)
            .where(papers.c.id.in_(chunk))
        )
        stored.update((row[0], row[1]) for row in conn.execute(query))
    return stored


def _record_sources(
    conn: Connection, hashes: list[tuple[str, str]], source: str, now: dt.datetime
) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(paper_sources)
    statement = statement.on_conflict_do_update(
        index_elements=[paper_sources.c.paper_id, paper_sources.c.source],
        set_={"content_hash": statement.excluded.content_hash, "seen_at": now},
    )
    rows = [{"paper_id": i, "source": source, "content_hash": h, "seen_at": now} for i, h in hashes]
    conn.execute(statement, rows)


def _paper_row(record: PaperRecord, org_ids: dict[str, int], now: dt.datetime) -> dict[str, Any]:
    return {
        "id": record.id,
        "version": record.version,
        "title": record.title,
        "abstract": record.abstract,
        "primary_category": record.categories[0] if record.categories else None,
        "published": record.published,
        "updated": record.updated,
        "listed_on": record.listed_on,
        "doi": record.doi,
        "journal_ref": record.journal_ref,
        "comments": record.comments,
        "submitter": record.submitter,
        "abs_url": record.abs_url,
        "pdf_url": record.pdf_url,
        "code_url": record.code_url,
        "project_url": record.project_url,
        "organization_id": org_ids.get(record.organization) if record.organization else None,
        "created_at": now,
        "updated_at": now,
    }


def _upsert_statement(conn: Connection) -> Insert:
    """INSERT … ON CONFLICT (id) DO UPDATE, keeping stored values the new record lacks."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(papers)
    new = statement.excluded
    updates: dict[str, Any] = {
        name: func.coalesce(new[name], papers.c[name]) for name in _KEEP_WHEN_MISSING
    }
    updates["abstract"] = func.coalesce(func.nullif(new.abstract, ""), papers.c.abstract)
    for name in ("title", "updated_at"):
        updates[name] = new[name]
    return statement.on_conflict_do_update(index_elements=[papers.c.id], set_=updates)


def _organization_ids(conn: Connection, names: set[str | None]) -> dict[str, int]:
    by_slug = {slugify(name): name for name in names if name}
    if not by_slug:
        return {}
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    rows = [{"slug": slug, "name": name} for slug, name in by_slug.items()]
    conn.execute(
        dialect.insert(organizations).on_conflict_do_nothing(index_elements=["slug"]), rows
    )
    found = _lookup(conn, organizations.c.slug, organizations.c.id, list(by_slug))
    return {by_slug[slug]: org_id for slug, org_id in found.items()}


def _author_ids(conn: Connection, names: set[str]) -> dict[str, int]:
    """Ids of author names, creating the names the store has not seen."""
    ids = _lookup(conn, authors.c.name, authors.c.id, sorted(names))
    missing = [{"name": name} for name in names if name not in ids]
    if missing:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        conn.execute(
            dialect.insert(authors).on_conflict_do_nothing(index_elements=["name"]), missing
        )
        ids.update(_lookup(conn, authors.c.name, authors.c.id, [row["name"] for row in missing]))
    return ids


def _lookup(conn: Connection, key: Any, value: Any, keys: Sequence[str]) -> dict[str, Any]:
    """``{key: value}`` for the rows whose ``key`` is in ``keys``, in chunks the drivers accept."""
    found: dict[str, Any] = {}
    for chunk in _chunks(keys):
        found.update((row[0], row[1]) for row in conn.execute(select(key, value).where(key.in_(chunk))))
    return found


def _insert_authors(conn: Connection, records: list[PaperRecord]) -> None:
    if not records:
        return
    ids = _author_ids(conn, {name for r in records for name in r.authors})
    rows = [
        {"paper_id": r.id, "position": position, "author_id": ids[name]}
        for r in records
        for position, name in enumerate(r.authors)
    ]
    conn.execute(paper_authors.insert(), rows)


def _insert_categories(conn: Connection, records: list[PaperRecord]) -> None:
    if not records:
        return
    rows = [{"paper_id": r.id, "category": c} for r in records for c in r.categories]
    conn.execute(paper_categories.insert(), rows)


def _delete_links(conn: Connection, paper_ids: list[str], table: Any) -> None:
    """Drop a changed paper's author or category links before the new list is written."""
    for chunk in _chunks(paper_ids):
        conn.execute(delete(table).where(table.c.paper_id.in_(chunk)))


def _chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
