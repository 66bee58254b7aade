"""Write papers in batches, and read the change cursor that the search indexer follows.

A batch is classified against what the same source said last time, by content hash: new
papers are inserted, changed ones updated, unchanged ones not touched at all, so re-importing a
file leaves ``updated_at`` (the change cursor) alone and costs one indexed read per batch.

Fields a source does not know (``None``, an empty list) never erase what another source
stored: importing a paper's upvote list after its full arXiv record keeps the abstract.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    delete,
    func,
    literal,
    select,
    tuple_,
    update,
)

from paperfeed.models import (
    Author,
    Organization,
    Paper,
    PaperAuthor,
    PaperCategory,
    PaperDeletion,
    PaperSource,
    table_of,
)
from paperfeed.normalize import content_hash, title_key
from paperfeed.sources.record import PaperRecord
from paperfeed.store.bulk import DO_NOTHING, chunks, insert_rows, lookup
from paperfeed.store.feed import raise_counts
from paperfeed.store.merges import Refusal, lock_title_keys, merge_same_titles, without_merged

PAPER_COLUMNS = (
    "id", "version", "title", "abstract", "primary_category", "published", "updated",
    "listed_on", "doi", "journal_ref", "comments", "submitter", "abs_url", "pdf_url",
    "code_url", "project_url", "organization_id", "created_at", "updated_at", "num_authors",
    "date_shown", "title_key",
)  # fmt: skip
_KEEP_WHEN_MISSING = (
    "version", "primary_category", "published", "updated", "listed_on", "doi", "journal_ref",
    "comments", "submitter", "abs_url", "pdf_url", "code_url", "project_url", "organization_id",
    "num_authors", "date_shown",
)  # fmt: skip

# On a second import, what the new record lacks is kept, and created_at never changes.
_PAPER_CONFLICT = "ON CONFLICT (id) DO UPDATE SET " + ", ".join(
    [f"{name} = COALESCE(excluded.{name}, papers.{name})" for name in _KEEP_WHEN_MISSING]
    + [
        "abstract = COALESCE(NULLIF(excluded.abstract, ''), papers.abstract)",
        "title = excluded.title",
        "title_key = excluded.title_key",
        "updated_at = excluded.updated_at",
    ]
)
_SOURCE_CONFLICT = (
    "ON CONFLICT (paper_id, source) DO UPDATE "
    "SET content_hash = excluded.content_hash, seen_at = excluded.seen_at"
)

papers = table_of(Paper)
paper_authors = table_of(PaperAuthor)
paper_categories = table_of(PaperCategory)
paper_sources = table_of(PaperSource)
paper_deletions = table_of(PaperDeletion)
authors = table_of(Author)
organizations = table_of(Organization)


@dataclass(slots=True)
class UpsertCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    #: Papers without an arXiv id merged into the arXiv paper with their title.
    merged: int = 0
    #: Same-title pairs the evidence kept apart (:mod:`paperfeed.store.merge_evidence`).
    kept_apart: list[Refusal] = field(default_factory=list)


def upsert_papers(
    conn: Connection, records: Sequence[PaperRecord], source: str, now: dt.datetime
) -> UpsertCounts:
    """Store normalised ``records`` (ids unique within the batch) inside the caller's transaction.

    A record of a paper that was merged into an arXiv record is skipped (the arXiv record won),
    and a new or changed record merges a stored paper without an arXiv id into the arXiv paper
    with the same title, whichever of the two it is (:mod:`paperfeed.store.merges`).
    """
    keys = {r.id: key for r in records if (key := title_key(r.title)) is not None}
    lock_title_keys(conn, keys.values())
    records, merged_away = without_merged(conn, records)
    hashes = {record.id: content_hash(record) for record in records}
    stored = _stored_hashes(conn, list(hashes), source)
    fresh = [r for r in records if r.id not in stored]
    changed = [r for r in records if r.id in stored and stored[r.id] != hashes[r.id]]
    writes = fresh + changed
    counts = UpsertCounts(len(fresh), len(changed), len(records) - len(writes) + merged_away)
    if writes:
        org_ids = _organization_ids(conn, writes)
        rows = [_paper_row(r, org_ids, now, keys.get(r.id)) for r in writes]
        insert_rows(conn, papers, PAPER_COLUMNS, rows, on_conflict=_PAPER_CONFLICT)
        _record_sources(conn, [(r.id, hashes[r.id]) for r in writes], source, now)
        _delete_links(conn, [r.id for r in changed if r.authors or r.hidden_authors], paper_authors)
        _delete_links(conn, [r.id for r in changed if r.categories], paper_categories)
        _insert_authors(conn, [r for r in writes if r.authors or r.hidden_authors])
        _insert_categories(conn, [r for r in writes if r.categories])
        _forget_deletions(conn, [r.id for r in fresh])
        _raise_recorded_upvotes(conn, [r for r in writes if r.upvotes])
        merges = merge_same_titles(conn, writes, keys, now)
        counts.merged, counts.kept_apart = len(merges.merged), merges.refused
    return counts


def _raise_recorded_upvotes(conn: Connection, records: list[PaperRecord]) -> None:
    """A captured page's upvote counts, kept as the Daily Papers import keeps its own."""
    for record in records:
        raise_counts(conn, record.id, record.upvotes or 0, 0)


def changed_since(
    conn: Connection, cursor: tuple[dt.datetime, str] | None, limit: int
) -> list[tuple[str, dt.datetime]]:
    """Ids of papers changed after ``cursor`` (``(updated_at, id)``), oldest change first."""
    query = select(papers.c.id, papers.c.updated_at).order_by(papers.c.updated_at, papers.c.id)
    if cursor is not None:
        query = query.where(_after(cursor))
    return [(row.id, row.updated_at) for row in conn.execute(query.limit(limit))]


def count_changed_since(conn: Connection, cursor: tuple[dt.datetime, str] | None) -> int:
    """How many papers changed after ``cursor`` (for progress bars)."""
    query = select(func.count()).select_from(papers)
    if cursor is not None:
        query = query.where(_after(cursor))
    return int(conn.scalar(query) or 0)


def _after(cursor: tuple[dt.datetime, str]) -> ColumnElement[bool]:
    # Bind with the columns' own types: SQLite compares the stored text, so the cursor
    # must be written exactly as the column writes it.
    after = tuple_(
        literal(cursor[0], papers.c.updated_at.type), literal(cursor[1], papers.c.id.type)
    )
    return tuple_(papers.c.updated_at, papers.c.id) > after


def delete_papers(conn: Connection, paper_ids: Sequence[str], now: dt.datetime) -> list[str]:
    """Delete the stored papers among ``paper_ids`` (links go with them) and leave a tombstone
    for each, which the search indexer follows; returns the ids that were deleted."""
    found = list(lookup(conn, papers.c.id, papers.c.id, list(dict.fromkeys(paper_ids))))
    for chunk in chunks(found):
        conn.execute(delete(papers).where(papers.c.id.in_(chunk)))
    _forget_deletions(conn, found)
    insert_rows(conn, paper_deletions, ("paper_id", "deleted_at"), [(i, now) for i in found])
    return found


def deleted_since(
    conn: Connection, cursor: tuple[dt.datetime, str] | None, limit: int
) -> list[tuple[str, dt.datetime]]:
    """Ids of papers deleted after ``cursor`` (``(deleted_at, id)``), oldest first."""
    table = paper_deletions
    query = select(table.c.paper_id, table.c.deleted_at).order_by(
        table.c.deleted_at, table.c.paper_id
    )
    if cursor is not None:
        after = tuple_(
            literal(cursor[0], table.c.deleted_at.type), literal(cursor[1], table.c.paper_id.type)
        )
        query = query.where(tuple_(table.c.deleted_at, table.c.paper_id) > after)
    return [(row.paper_id, row.deleted_at) for row in conn.execute(query.limit(limit))]


def _forget_deletions(conn: Connection, paper_ids: list[str]) -> None:
    """A paper imported again is no longer deleted."""
    for chunk in chunks(paper_ids):
        conn.execute(delete(paper_deletions).where(paper_deletions.c.paper_id.in_(chunk)))


def slugify(name: str) -> str:
    """A URL-safe slug for an organization name (``NAVER AI Lab`` → ``naver-ai-lab``).

    The slug is the organization's identity: names that differ only in case or punctuation
    are the same organization.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:200]
    # Names with no Latin letters (北京大学) still need distinct slugs.
    return slug or "org-" + hashlib.blake2b(name.encode(), digest_size=5).hexdigest()


def _stored_hashes(conn: Connection, ids: list[str], source: str) -> dict[str, str | None]:
    """For papers already stored: the hash of what ``source`` last said (None if it never did)."""
    stored: dict[str, str | None] = {}
    said = and_(paper_sources.c.paper_id == papers.c.id, paper_sources.c.source == source)
    for chunk in chunks(ids):
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
    rows = [(paper_id, source, digest, now) for paper_id, digest in hashes]
    columns = ("paper_id", "source", "content_hash", "seen_at")
    insert_rows(conn, paper_sources, columns, rows, on_conflict=_SOURCE_CONFLICT)


def _paper_row(
    record: PaperRecord, org_ids: dict[str, int], now: dt.datetime, key: str | None
) -> tuple[Any, ...]:
    """The paper's values in ``PAPER_COLUMNS`` order."""
    return (
        record.id, record.version, record.title, record.abstract,
        record.categories[0] if record.categories else None,
        record.published, record.updated, record.listed_on, record.doi, record.journal_ref,
        record.comments, record.submitter, record.abs_url, record.pdf_url, record.code_url,
        record.project_url, org_ids.get(record.organization) if record.organization else None,
        now, now, record.num_authors, record.date_shown,
        key,
    )  # fmt: skip


def _organization_ids(conn: Connection, records: Sequence[PaperRecord]) -> dict[str, int]:
    """Ids of the records' organizations (by name), creating the ones the store has not seen;
    a source's handle for one is kept when the store has none yet."""
    by_slug = {slugify(r.organization): r.organization for r in records if r.organization}
    if not by_slug:
        return {}
    handles = {
        slugify(r.organization): r.organization_handle
        for r in records
        if r.organization and r.organization_handle
    }
    rows = [(slug, name, handles.get(slug)) for slug, name in by_slug.items()]
    insert_rows(conn, organizations, ("slug", "name", "handle"), rows, on_conflict=DO_NOTHING)
    for slug, handle in handles.items():
        conn.execute(
            update(organizations)
            .where(organizations.c.slug == slug, organizations.c.handle.is_(None))
            .values(handle=handle)
        )
    found = lookup(conn, organizations.c.slug, organizations.c.id, list(by_slug))
    return {by_slug[slug]: org_id for slug, org_id in found.items()}


def _author_ids(conn: Connection, names: set[str]) -> dict[str, int]:
    """Ids of author names, creating the names the store has not seen."""
    ids = lookup(conn, authors.c.name, authors.c.id, sorted(names))
    missing = [(name,) for name in sorted(names) if name not in ids]  # same ids on every run
    if missing:
        insert_rows(conn, authors, ("name",), missing, on_conflict=DO_NOTHING)
        ids.update(lookup(conn, authors.c.name, authors.c.id, [row[0] for row in missing]))
    return ids


def _insert_authors(conn: Connection, records: list[PaperRecord]) -> None:
    if not records:
        return
    ids = _author_ids(conn, {name for r in records for name in (*r.authors, *r.hidden_authors)})
    rows = [
        (r.id, position, ids[name], r.affiliations.get(name), position >= len(r.authors))
        for r in records
        for position, name in enumerate((*r.authors, *r.hidden_authors))
    ]  # hidden authors after the shown ones: a shown author's position is its place on the page
    # DO NOTHING: a parallel import of the same new paper may have written them first.
    insert_rows(
        conn, paper_authors, ("paper_id", "position", "author_id", "affiliation", "hidden"), rows,
        on_conflict=DO_NOTHING,
    )  # fmt: skip


def _insert_categories(conn: Connection, records: list[PaperRecord]) -> None:
    rows = [(r.id, category) for r in records for category in r.categories]
    insert_rows(conn, paper_categories, ("paper_id", "category"), rows, on_conflict=DO_NOTHING)


def _delete_links(conn: Connection, paper_ids: list[str], table: Any) -> None:
    """Drop a changed paper's author or category links before the new list is written."""
    for chunk in chunks(paper_ids):
        conn.execute(delete(table).where(table.c.paper_id.in_(chunk)))
