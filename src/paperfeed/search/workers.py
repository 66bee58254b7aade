"""Embedding workers: claim papers that lack a vector by the current model, embed them, write
the vectors into the store (``paperfeed embed``, or a node's follower when asked to embed).

Any number of workers on PostgreSQL share one backlog through the store's queue
(:mod:`paperfeed.store.vectors`); on SQLite, where every process is on one machine and writes
queue on one lock anyway, one worker at a time (a file lock beside the database).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import InterfaceError, OperationalError

from paperfeed.models import Paper
from paperfeed.search.documents import IndexedPaper
from paperfeed.search.embedder import Embedder
from paperfeed.search.embedding import embed_with_keyphrases
from paperfeed.store.engine import is_sqlite, outage_reason, write_transaction
from paperfeed.store.keyphrases import save_keyphrases
from paperfeed.store.locks import job_lock
from paperfeed.store.vectors import (
    Embedded,
    claim,
    complete,
    enqueue_stale,
    has_free_jobs,
    release,
    stored_hashes,
    text_hash,
    waiting,
)

BATCH = 256
#: Long enough for any batch on a slow machine; a dead worker's papers wait this long at most.
LEASE = dt.timedelta(minutes=10)
#: How far back a worker looks for changed papers after its first full look (late commits).
LOOK_BACK = dt.timedelta(seconds=60)

#: How long a worker waits for a store that stopped answering before it gives up.
STORE_PATIENCE = dt.timedelta(minutes=5)

log = logging.getLogger(__name__)
T = TypeVar("T")

#: ``(papers this worker has done, papers still waiting for any worker)``
Progress = Callable[[int, int], None]


class AnotherWorker(RuntimeError):
    """On SQLite, another worker is embedding already."""


@dataclass(slots=True)
class EmbedReport:
    embedded: int = 0  # new vectors written
    unchanged: int = 0  # papers whose text had not changed: vector kept
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.embedded / self.seconds if self.seconds else 0.0


def worker_name() -> str:
    """Host, process and a random part: unique across machines and restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def embed_backlog(
    engine: Engine,
    embedder: Embedder,
    *,
    batch: int = BATCH,
    lease: dt.timedelta = LEASE,
    on_progress: Progress | None = None,
    stop: threading.Event | None = None,
    wait: bool = True,
) -> EmbedReport:
    """Embed every paper lacking a current vector by ``embedder``, until none is left (or
    ``stop`` is set), waiting for other workers' claims to be done or to expire. On SQLite,
    waits for another worker to finish; with ``wait`` False (a node's follower), raises
    :class:`AnotherWorker` instead, and leaves other workers' claims to them."""
    if not is_sqlite(engine):
        return _work(engine, embedder, batch, lease, on_progress, stop, wait)
    while True:
        with job_lock(engine, f"embed-{embedder.name}") as held:
            if held:
                # One worker at a time: claims left in the queue are a dead worker's.
                with write_transaction(engine) as conn:
                    release(conn, embedder.name, None)
                return _work(engine, embedder, batch, lease, on_progress, stop, wait)
        if not wait:
            raise AnotherWorker("another worker is embedding into this SQLite store")
        time.sleep(1.0)


def _work(
    engine: Engine,
    embedder: Embedder,
    batch: int,
    lease: dt.timedelta,
    on_progress: Progress | None,
    stop: threading.Event | None,
    drain: bool,
) -> EmbedReport:
    report, worker, started = EmbedReport(), worker_name(), time.perf_counter()
    looked_at = _patiently(lambda: _look_for_work(engine, embedder.name, None))

    def claim_batch() -> list[str]:
        with write_transaction(engine) as conn:
            return claim(conn, embedder.name, worker, dt.datetime.now(dt.UTC), lease, batch)

    try:
        while stop is None or not stop.is_set():
            claimed = _patiently(claim_batch)
            if not claimed:
                since = looked_at - LOOK_BACK
                looked_at = _patiently(partial(_look_for_work, engine, embedder.name, since))
                if _patiently(lambda: _has_free_jobs(engine, embedder.name)):
                    continue
                if not drain or not _patiently(lambda: _waiting(engine, embedder.name)):
                    break
                # Other workers hold the rest: wait for them to finish, or for a dead one's
                # lease to pass and its papers to come free.
                time.sleep(min(1.0, lease.total_seconds() / 10))
                continue
            _embed_claimed(engine, embedder, worker, claimed, report)
            report.seconds = time.perf_counter() - started
            if on_progress:
                done = report.embedded + report.unchanged
                on_progress(done, _patiently(lambda: _waiting(engine, embedder.name)))
    finally:
        try:
            with write_transaction(engine) as conn:
                release(conn, embedder.name, worker)
        except (OperationalError, InterfaceError):
            pass  # the store is gone: the claims come free when their lease passes
    report.seconds = time.perf_counter() - started
    return report


def _patiently(step: Callable[[], T]) -> T:
    """Run one of the worker's steps against the store, again and again while the store does
    not answer (a PostgreSQL restart, a failover), for up to :data:`STORE_PATIENCE`: a worker
    outlives a restart as nodes do, and keeps the batch it has embedded."""
    deadline, pause = time.monotonic() + STORE_PATIENCE.total_seconds(), 1.0
    while True:
        try:
            return step()
        except (OperationalError, InterfaceError) as error:
            if time.monotonic() + pause > deadline:
                raise
            log.warning(
                "the store is not answering (%s): trying again in %.0f s",
                outage_reason(error),
                pause,
            )
            time.sleep(pause)
            pause = min(pause * 2, 30.0)


def _look_for_work(engine: Engine, model: str, since: dt.datetime | None) -> dt.datetime:
    """Queue the stale papers (all, or those changed since ``since``); returns when it looked."""
    now = dt.datetime.now(dt.UTC)
    with write_transaction(engine) as conn:
        enqueue_stale(conn, model, since)
    return now


def _has_free_jobs(engine: Engine, model: str) -> bool:
    """Jobs left that this worker could claim now (another worker's live claims are theirs)."""
    with engine.connect() as conn:
        return has_free_jobs(conn, model, dt.datetime.now(dt.UTC))


def _waiting(engine: Engine, model: str) -> int:
    with engine.connect() as conn:
        return waiting(conn, model)


def _embed_claimed(
    engine: Engine, embedder: Embedder, worker: str, claimed: Sequence[str], report: EmbedReport
) -> None:
    with engine.connect() as conn:
        papers = _papers(conn, claimed)
        hashes = stored_hashes(conn, embedder.name, claimed)
    changed = [p for p, _ in papers.values() if hashes.get(p.id) != text_hash(p.text)]
    vectors, keyphrases = embed_with_keyphrases(embedder, changed) if changed else (None, {})
    done = [
        Embedded(paper.id, text_hash(paper.text), stamp, None)
        for paper, stamp in papers.values()
        if hashes.get(paper.id) == text_hash(paper.text)
    ]
    if vectors is not None:
        done += [
            Embedded(paper.id, text_hash(paper.text), papers[paper.id][1], vectors[row])
            for row, paper in enumerate(changed)
        ]

    def write() -> set[str]:
        with write_transaction(engine) as conn:
            now = dt.datetime.now(dt.UTC)
            written = complete(conn, embedder.name, embedder.dimensions, worker, done, now)
            # (from the same model pass, in the same transaction as the vectors; only for the
            # papers still ours: a worker whose lease passed writes nothing)
            mine = {
                paper_id: keyphrases[paper_id] for paper_id in written if paper_id in keyphrases
            }
            if mine:
                save_keyphrases(conn, mine, embedder.name, now)
            return written

    written = _patiently(write)  # the model's work is not thrown away for a restart
    embedded = sum(1 for paper in changed if paper.id in written)
    report.embedded += embedded
    report.unchanged += len(written) - embedded


def _papers(
    conn: Connection, paper_ids: Sequence[str]
) -> dict[str, tuple[IndexedPaper, dt.datetime]]:
    """The claimed papers' title and abstract (what is embedded), and their change stamps."""
    query = select(Paper.id, Paper.title, Paper.abstract, Paper.updated_at).where(
        Paper.id.in_(paper_ids)
    )
    return {
        row.id: (IndexedPaper(row.id, row.title, row.abstract or ""), row.updated_at)
        for row in conn.execute(query)
    }
