"""Import a file of papers into the store: normalise, validate, upsert in batches, resumably.

A bad line never stops a run: it is reported (line number and reason), counted and skipped.
Each batch is one transaction that also records how far the run got, so a run killed at any
moment resumes with ``resume=True`` exactly where the store stands. Re-importing a file changes
nothing: unchanged papers are recognised by content hash and not written.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from paperfeed.normalize import InvalidRecord, normalise
from paperfeed.prefetch import prefetch
from paperfeed.sources import arxiv_snapshot, jsonl
from paperfeed.sources.lines import LineFile
from paperfeed.sources.record import BadRecord, PaperRecord, RecordNote, SourceItem
from paperfeed.store.engine import write_transaction
from paperfeed.store.ingest_runs import RunState, finish_run, save_progress, start_run
from paperfeed.store.merges import Refusal
from paperfeed.store.papers import upsert_papers

Reader = Callable[[LineFile, int], Iterator[SourceItem]]
SOURCES: dict[str, Reader] = {jsonl.NAME: jsonl.read, arxiv_snapshot.NAME: arxiv_snapshot.read}
BATCH_SIZE = 5_000  # measured on 100k real records: 2,000 → 5,000 per batch is ~15% faster


@dataclass(slots=True)
class IngestReport:
    """What a run did; ``state`` holds the counts, cumulative over resumed attempts."""

    source: str
    path: Path
    state: RunState
    resumed: bool = False
    resumed_from_line: int = 0
    duplicates: int = 0
    seconds: float = 0.0
    papers_this_attempt: int = 0
    bad_samples: list[BadRecord] = field(default_factory=list)
    cut: int = 0  # papers stored with a field cut to fit (each one noted)
    merged: int = 0  # papers without an arXiv id merged into their arXiv paper
    kept_apart: list[Refusal] = field(default_factory=list)  # same title, evidence disagreed

    @property
    def readable(self) -> int:
        """Papers read from the file (new, updated or unchanged)."""
        return self.state.new + self.state.updated + self.state.unchanged


ProgressCallback = Callable[[int, int, IngestReport], None]
BadCallback = Callable[[BadRecord], None]
NoteCallback = Callable[[RecordNote], None]


@dataclass(slots=True)
class Batch:
    """Valid records with distinct ids, the last line they cover, and what was skipped on the way."""

    records: list[PaperRecord]
    last_line: int
    bad: list[BadRecord] = field(default_factory=list)
    notes: list[RecordNote] = field(default_factory=list)
    duplicates: int = 0
    bytes_read: int = 0


def ingest_file(
    engine: Engine,
    source: str,
    path: Path,
    *,
    resume: bool = False,
    batch_size: int = BATCH_SIZE,
    on_progress: ProgressCallback | None = None,
    on_bad: BadCallback | None = None,
    on_note: NoteCallback | None = None,
) -> IngestReport:
    """Import ``path`` with the named source; see the module docstring for the guarantees."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}: one of {', '.join(SOURCES)}")
    lines = LineFile(path)
    state, resumed = start_run(engine, source, str(path.resolve()), lines.fingerprint(), resume)
    report = IngestReport(source, path, state, resumed, state.lines_done if resumed else 0)
    started = time.perf_counter()
    try:
        for batch in prefetch(read_batches, source, path, state.lines_done, batch_size):
            for bad in batch.bad:
                _note_bad(bad, report, on_bad)
            report.cut += len(batch.notes)
            if on_note is not None:
                for note in batch.notes:
                    on_note(note)
            _store_batch(engine, source, batch, report)
            report.seconds = time.perf_counter() - started
            if on_progress is not None:
                on_progress(batch.bytes_read, lines.total_bytes, report)
    except BaseException as error:
        finish_run(engine, state, "interrupted", f"{type(error).__name__}: {error}"[:500])
        raise
    report.seconds = time.perf_counter() - started
    finish_run(engine, state, "done")
    return report


def read_batches(source: str, path: Path, skip: int, size: int) -> Iterator[Batch]:
    """Batches of valid records with distinct ids, from the line after ``skip`` on.

    A later duplicate of an id replaces the earlier one. Runs ahead of the writer in a child
    process, so it only fills its own batches; the writer adds a batch's counts to the run in
    the transaction that stores it.
    """
    lines = LineFile(path)
    seen: set[str] = set()
    batch, pending = Batch([], skip), dict[str, PaperRecord]()
    for item in SOURCES[source](lines, skip):
        batch.last_line = item.line
        record = _valid(item)
        if isinstance(record, BadRecord):
            batch.bad.append(record)
            continue
        if record.notes:
            batch.notes.append(RecordNote(record.line, record.id, "; ".join(record.notes)))
        if record.id in seen:
            batch.duplicates += 1
            pending.pop(record.id, None)
        seen.add(record.id)
        pending[record.id] = record
        if len(pending) >= size:
            batch.records, batch.bytes_read = list(pending.values()), lines.bytes_read
            yield batch
            batch, pending = Batch([], batch.last_line), {}
    if pending or batch.last_line > skip:
        batch.records, batch.bytes_read = list(pending.values()), lines.total_bytes
        yield batch


def _valid(item: SourceItem) -> PaperRecord | BadRecord:
    if isinstance(item, BadRecord):
        return item
    try:
        return normalise(item)
    except InvalidRecord as error:
        return BadRecord(item.line, str(error), item.id)


def _note_bad(bad: BadRecord, report: IngestReport, on_bad: BadCallback | None) -> None:
    if len(report.bad_samples) < 20:
        report.bad_samples.append(bad)
    if on_bad is not None:
        on_bad(bad)


def _store_batch(engine: Engine, source: str, batch: Batch, report: IngestReport) -> None:
    state = report.state
    with write_transaction(engine) as conn:
        counts = upsert_papers(conn, batch.records, source, dt.datetime.now(dt.UTC))
        state.new += counts.new
        state.updated += counts.updated
        state.unchanged += counts.unchanged
        state.bad += len(batch.bad)
        report.merged += counts.merged
        report.kept_apart += counts.kept_apart
        state.lines_done = batch.last_line
        save_progress(conn, state)
    report.duplicates += batch.duplicates
    report.papers_this_attempt += len(batch.records)
