"""Import a file of papers into the store: normalise, validate, upsert in batches, resumably.

A bad line never stops a run: it is reported (line number and reason), counted and skipped.
Each batch is one transaction that also records how far the run got, so a run killed at any
moment resumes with ``resume=True`` exactly where the store stands. Re-importing a file changes
nothing: unchanged papers are recognised by content hash and not written.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from paperfeed.normalize import InvalidRecord, normalise
from paperfeed.sources import arxiv_snapshot, jsonl
from paperfeed.sources.lines import LineFile
from paperfeed.sources.record import BadRecord, PaperRecord, SourceItem
from paperfeed.store.engine import write_transaction
from paperfeed.store.ingest_runs import RunState, finish_run, save_progress, start_run
from paperfeed.store.papers import upsert_papers

Reader = Callable[[LineFile, int], Iterator[SourceItem]]
SOURCES: dict[str, Reader] = {jsonl.NAME: jsonl.read, arxiv_snapshot.NAME: arxiv_snapshot.read}
BATCH_SIZE = 2_000


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

    @property
    def readable(self) -> int:
        """Papers read from the file (new, updated or unchanged)."""
        return self.state.new + self.state.updated + self.state.unchanged


ProgressCallback = Callable[[int, int, IngestReport], None]
BadCallback = Callable[[BadRecord], None]


def ingest_file(
    engine: Engine,
    source: str,
    path: Path,
    *,
    resume: bool = False,
    batch_size: int = BATCH_SIZE,
    on_progress: ProgressCallback | None = None,
    on_bad: BadCallback | None = None,
) -> IngestReport:
    """Import ``path`` with the named source; see the module docstring for the guarantees."""
    reader = SOURCES[source]
    lines = LineFile(path)
    state, resumed = start_run(engine, source, str(path.resolve()), lines.fingerprint(), resume)
    report = IngestReport(source, path, state, resumed, state.lines_done if resumed else 0)
    started = time.perf_counter()
    try:
        for batch, last_line in _batches(
            reader(lines, state.lines_done), batch_size, report, on_bad
        ):
            _store_batch(engine, source, batch, last_line, report)
            report.seconds = time.perf_counter() - started
            if on_progress is not None:
                on_progress(lines.bytes_read, lines.total_bytes, report)
    except BaseException as error:
        finish_run(engine, state, "interrupted", f"{type(error).__name__}: {error}"[:500])
        raise
    report.seconds = time.perf_counter() - started
    finish_run(engine, state, "done")
    return report


def _batches(
    items: Iterable[SourceItem], size: int, report: IngestReport, on_bad: BadCallback | None
) -> Iterator[tuple[list[PaperRecord], int]]:
    """Group valid records into batches of distinct ids; a later duplicate replaces an earlier one."""
    seen: set[str] = set()
    batch: dict[str, PaperRecord] = {}
    last_line = report.state.lines_done
    for item in items:
        last_line = item.line
        record = _valid(item, report, on_bad)
        if record is None:
            continue
        if record.id in seen:
            report.duplicates += 1
            batch.pop(record.id, None)
        seen.add(record.id)
        batch[record.id] = record
        if len(batch) >= size:
            yield list(batch.values()), last_line
            batch = {}
    if batch or last_line > report.state.lines_done:
        yield list(batch.values()), last_line


def _valid(
    item: SourceItem, report: IngestReport, on_bad: BadCallback | None
) -> PaperRecord | None:
    if isinstance(item, PaperRecord):
        try:
            return normalise(item)
        except InvalidRecord as error:
            item = BadRecord(item.line, str(error), item.id)
    report.state.bad += 1
    if len(report.bad_samples) < 20:
        report.bad_samples.append(item)
    if on_bad is not None:
        on_bad(item)
    return None


def _store_batch(
    engine: Engine, source: str, batch: list[PaperRecord], last_line: int, report: IngestReport
) -> None:
    state = report.state
    with write_transaction(engine) as conn:
        counts = upsert_papers(conn, batch, source, dt.datetime.now(dt.UTC))
        state.new += counts.new
        state.updated += counts.updated
        state.unchanged += counts.unchanged
        state.lines_done = last_line
        save_progress(conn, state)
    report.papers_this_attempt += len(batch)
