"""Paper vectors in the store, and the queue of papers waiting for theirs.

Embedding is the slowest job there is, so each paper is embedded once per model, by whichever
worker claims it, and every serving node fills its index from these rows instead of running
the model. The queue is a table: a worker claims jobs (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so workers on several machines never wait for or take each other's) with a lease,
and deletes them in the transaction that writes their vectors; a dead worker's jobs are
claimed again once their lease has passed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    delete,
    func,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from paperfeed.models import Paper, PaperVector, VectorJob, table_of
from paperfeed.store.bulk import chunks

papers = table_of(Paper)
paper_vectors = table_of(PaperVector)
vector_jobs = table_of(VectorJob)

#: How vectors are stored: little-endian float16.
STORED_DTYPE = np.dtype("<f2")

VectorCursor = tuple[dt.datetime, str]


class WrongModel(ValueError):
    """Stored vectors do not fit what the reader expects (another model, another size)."""


@dataclass(frozen=True, slots=True)
class StoredVector:
    paper_id: str
    created_at: dt.datetime
    vector: NDArray[np.float16]


@dataclass(frozen=True, slots=True)
class Embedded:
    """A claimed paper's outcome: a new vector, or None when its text had not changed."""

    paper_id: str
    text_hash: str
    paper_updated_at: dt.datetime
    vector: NDArray[np.float32] | None


def encode(vector: NDArray[np.float32]) -> bytes:
    return np.asarray(vector, dtype=STORED_DTYPE).tobytes()


def decode(raw: bytes, dimensions: int) -> NDArray[np.float16]:
    vector = np.frombuffer(raw, dtype=STORED_DTYPE)
    if vector.shape != (dimensions,):
        raise WrongModel(f"a stored vector has {vector.size} dimensions, not {dimensions}")
    return vector


def text_hash(text: str) -> str:
    """The hash of an embedded text: a paper whose text hashes alike keeps its vector."""
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def insert_for(conn: Connection) -> type[postgresql.Insert] | type[sqlite.Insert]:
    return postgresql.Insert if conn.dialect.name == "postgresql" else sqlite.Insert


def _stale(model: str) -> ColumnElement[bool]:
    """Papers with no vector by ``model``, or one checked against an older change of theirs."""
    return or_(
        paper_vectors.c.paper_id.is_(None), paper_vectors.c.paper_updated_at < papers.c.updated_at
    )


def enqueue_stale(conn: Connection, model: str, changed_since: dt.datetime | None = None) -> int:
    """Queue the papers that lack a current vector by ``model`` (those changed since
    ``changed_since`` only, when given: the cheap look a worker takes between full ones)."""
    joined = papers.outerjoin(
        paper_vectors, and_(paper_vectors.c.paper_id == papers.c.id, paper_vectors.c.model == model)
    )
    wanted = select(papers.c.id, literal(model, vector_jobs.c.model.type)).select_from(joined)
    wanted = wanted.where(_stale(model))
    if changed_since is not None:
        wanted = wanted.where(papers.c.updated_at >= changed_since)
    statement = (
        insert_for(conn)(vector_jobs)
        .from_select(["paper_id", "model"], wanted)
        .on_conflict_do_nothing(index_elements=["paper_id", "model"])
        .returning(vector_jobs.c.paper_id)
    )
    return len(conn.execute(statement).all())


def claim(
    conn: Connection, model: str, worker: str, now: dt.datetime, lease: dt.timedelta, limit: int
) -> list[str]:
    """Claim up to ``limit`` jobs that nobody holds (or whose lease has passed) for ``worker``.

    On PostgreSQL the rows are picked ``FOR UPDATE SKIP LOCKED`` and stay locked until the
    caller's transaction commits: a worker claiming at the same moment skips them, and one
    whose snapshot predates this commit re-checks the updated rows and finds them leased.
    (SQLite has one writer at a time.)
    """
    free = or_(vector_jobs.c.lease_until.is_(None), vector_jobs.c.lease_until < now)
    picked = (
        select(vector_jobs.c.paper_id)
        .where(vector_jobs.c.model == model, free)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    paper_ids = list(conn.scalars(picked))
    if paper_ids:
        conn.execute(
            update(vector_jobs)
            .where(vector_jobs.c.model == model, vector_jobs.c.paper_id.in_(paper_ids))
            .values(worker=worker, lease_until=now + lease)
        )
    return paper_ids


def release(conn: Connection, model: str, worker: str | None) -> None:
    """Give back the jobs ``worker`` holds (it is stopping), or every worker's (None: on SQLite,
    where the worker holding the lock is the only one alive): others may claim them at once."""
    held = vector_jobs.c.worker.is_not(None) if worker is None else vector_jobs.c.worker == worker
    conn.execute(
        update(vector_jobs)
        .where(vector_jobs.c.model == model, held)
        .values(worker=None, lease_until=None)
    )


def stored_hashes(conn: Connection, model: str, paper_ids: Sequence[str]) -> dict[str, str]:
    """The embedded texts' hashes of those of ``paper_ids`` that have a vector by ``model``."""
    found: dict[str, str] = {}
    for chunk in chunks(paper_ids):
        query = select(paper_vectors.c.paper_id, paper_vectors.c.text_hash).where(
            paper_vectors.c.model == model, paper_vectors.c.paper_id.in_(chunk)
        )
        found.update((row[0], row[1]) for row in conn.execute(query))
    return found


def complete(
    conn: Connection,
    model: str,
    dimensions: int,
    worker: str,
    done: Sequence[Embedded],
    now: dt.datetime,
) -> set[str]:
    """Close ``worker``'s jobs for ``done`` and write their vectors, in the caller's transaction.

    Only the jobs still held by ``worker`` are closed and written: if its lease passed and
    another worker claimed them, that worker writes them (nothing is written twice), and a
    paper deleted meanwhile took its job with it. Returns the papers written.
    """
    held: set[str] = set()
    for chunk in chunks([item.paper_id for item in done]):
        closed = conn.execute(
            delete(vector_jobs)
            .where(
                vector_jobs.c.model == model,
                vector_jobs.c.worker == worker,
                vector_jobs.c.paper_id.in_(chunk),
            )
            .returning(vector_jobs.c.paper_id)
        )
        held.update(row[0] for row in closed)
    fresh = [item for item in done if item.paper_id in held and item.vector is not None]
    same = [item for item in done if item.paper_id in held and item.vector is None]
    if fresh:
        write_vectors(conn, model, dimensions, fresh, now)
    for item in same:  # the text did not change: keep the vector, note it was checked
        conn.execute(
            update(paper_vectors)
            .where(paper_vectors.c.paper_id == item.paper_id, paper_vectors.c.model == model)
            .values(paper_updated_at=item.paper_updated_at)
        )
    return held & {item.paper_id for item in done}


def write_vectors(
    conn: Connection, model: str, dimensions: int, items: Sequence[Embedded], now: dt.datetime
) -> None:
    rows = [
        {
            "paper_id": item.paper_id, "model": model, "dimensions": dimensions,
            "vector": encode(item.vector), "text_hash": item.text_hash,
            "paper_updated_at": item.paper_updated_at, "created_at": now,
        }
        for item in items
        if item.vector is not None
    ]  # fmt: skip
    if not rows:  # an empty executemany would insert one row of defaults
        return
    statement = insert_for(conn)(paper_vectors)
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=["paper_id", "model"],
        set_={name: excluded[name] for name in
              ("dimensions", "vector", "text_hash", "paper_updated_at", "created_at")},
    )  # fmt: skip
    conn.execute(statement, rows)


def after(cursor: VectorCursor) -> ColumnElement[bool]:
    """Rows after ``cursor`` in the order nodes follow (bound with the columns' own types:
    SQLite compares the stored text)."""
    bound = tuple_(
        literal(cursor[0], paper_vectors.c.created_at.type),
        literal(cursor[1], paper_vectors.c.paper_id.type),
    )
    return tuple_(paper_vectors.c.created_at, paper_vectors.c.paper_id) > bound


def embedded_text(title: str, abstract: str | None) -> str:
    """The text a paper is embedded from: title and abstract (the embedder truncates)."""
    return f"{title}. {abstract}" if abstract else title


def vectors_since(
    conn: Connection, model: str, dimensions: int, cursor: VectorCursor | None, limit: int
) -> list[StoredVector]:
    """Vectors by ``model`` written after ``cursor`` (``(created_at, paper_id)``), oldest first;
    :class:`WrongModel` if one is not ``dimensions`` long."""
    query = (
        select(paper_vectors.c.paper_id, paper_vectors.c.created_at, paper_vectors.c.vector)
        .where(paper_vectors.c.model == model)
        .order_by(paper_vectors.c.created_at, paper_vectors.c.paper_id)
        .limit(limit)
    )
    if cursor is not None:
        query = query.where(after(cursor))
    out = []
    for paper_id, created_at, raw in conn.execute(query):
        try:
            out.append(StoredVector(paper_id, created_at, decode(bytes(raw), dimensions)))
        except WrongModel as error:
            raise WrongModel(f"{error} (paper {paper_id}, model {model})") from None
    return out


def count_vectors_since(conn: Connection, model: str, cursor: VectorCursor | None) -> int:
    query = select(func.count()).select_from(paper_vectors).where(paper_vectors.c.model == model)
    if cursor is not None:
        query = query.where(after(cursor))
    return int(conn.scalar(query) or 0)


def papers_lacking(conn: Connection, model: str) -> int:
    """Papers with no vector at all by ``model`` (0: a node may switch to its vectors; a vector
    older than its paper's last change still counts, and its update follows by cursor)."""
    has_one = select(paper_vectors.c.paper_id).where(
        paper_vectors.c.model == model, paper_vectors.c.paper_id == papers.c.id
    )
    query = select(func.count()).select_from(papers).where(~has_one.exists())
    return int(conn.scalar(query) or 0)


def written_since(conn: Connection, model: str, since: dt.datetime) -> int:
    """Vectors by ``model`` written since ``since`` (how fast the workers are going)."""
    query = select(func.count()).select_from(paper_vectors)
    query = query.where(paper_vectors.c.model == model, paper_vectors.c.created_at >= since)
    return int(conn.scalar(query) or 0)


def drop_model(conn: Connection, model: str) -> int:
    """Delete every vector by ``model`` and its queued jobs; returns how many vectors."""
    conn.execute(delete(vector_jobs).where(vector_jobs.c.model == model))
    gone = conn.execute(delete(paper_vectors).where(paper_vectors.c.model == model))
    return int(gone.rowcount or 0)


def waiting(conn: Connection, model: str) -> int:
    """Jobs queued for ``model`` (claimed or not)."""
    query = select(func.count()).select_from(vector_jobs).where(vector_jobs.c.model == model)
    return int(conn.scalar(query) or 0)


def has_free_jobs(conn: Connection, model: str, now: dt.datetime) -> bool:
    """Whether a job for ``model`` is unclaimed, or its lease has passed."""
    free = or_(vector_jobs.c.lease_until.is_(None), vector_jobs.c.lease_until < now)
    query = select(vector_jobs.c.paper_id).where(vector_jobs.c.model == model, free).limit(1)
    return conn.execute(query).first() is not None
