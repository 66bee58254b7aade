"""Bookkeeping of import runs: what each did and how far it got.

The progress row is written in the same transaction as the batch it describes, so after a
crash (even ``kill -9``) the row says exactly which lines are in the store, and ``--resume``
continues from there without importing anything twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.orm import Session

from paperfeed.models import IngestRun, table_of
from paperfeed.store.engine import write_transaction

runs = table_of(IngestRun)
UNFINISHED = ("running", "interrupted", "failed")


@dataclass(slots=True)
class RunState:
    """Where a run stands: the lines already in the store and the counts so far."""

    id: int
    lines_done: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    bad: int = 0


def start_run(
    engine: Engine, source: str, path: str, fingerprint: str, resume: bool
) -> tuple[RunState, bool]:
    """Open a run for ``path``; with ``resume``, continue the last unfinished run of the same file.

    Returns the run and whether it was resumed. Unfinished runs that are not resumed are marked
    ``abandoned`` so that ``--resume`` never picks an older one later.
    """
    now = dt.datetime.now(dt.UTC)
    with write_transaction(engine) as conn:
        previous = _last_unfinished(conn, source, path)
        if previous is not None and resume and previous.fingerprint == fingerprint:
            conn.execute(
                update(runs).where(runs.c.id == previous.id).values(status="running", error=None)
            )
            state = RunState(
                previous.id,
                previous.lines_done,
                previous.new,
                previous.updated,
                previous.unchanged,
                previous.bad,
            )
            return state, True
        if previous is not None:
            conn.execute(update(runs).where(runs.c.id == previous.id).values(status="abandoned"))
        values = {
            "source": source,
            "path": path,
            "fingerprint": fingerprint,
            "status": "running",
            "started_at": now,
        }
        run_id = conn.execute(
            runs.insert().values(**values, lines_done=0, new=0, updated=0, unchanged=0, bad=0)
        ).inserted_primary_key
        assert run_id is not None
        return RunState(int(run_id[0])), False


def save_progress(conn: Connection, state: RunState) -> None:
    """Record progress inside the transaction that stored the batch."""
    conn.execute(
        update(runs)
        .where(runs.c.id == state.id)
        .values(
            lines_done=state.lines_done,
            new=state.new,
            updated=state.updated,
            unchanged=state.unchanged,
            bad=state.bad,
        )
    )


def finish_run(engine: Engine, state: RunState, status: str, error: str | None = None) -> None:
    with write_transaction(engine) as conn:
        if status == "done":
            save_progress(conn, state)
        values = {"status": status, "error": error, "finished_at": dt.datetime.now(dt.UTC)}
        conn.execute(update(runs).where(runs.c.id == state.id).values(**values))


def recent_runs(engine: Engine, limit: int = 10) -> list[IngestRun]:
    """The latest runs, newest first, for ``paperfeed status``."""
    with Session(engine) as session:
        return list(session.scalars(select(IngestRun).order_by(IngestRun.id.desc()).limit(limit)))


def _last_unfinished(conn: Connection, source: str, path: str) -> IngestRun | None:
    query = (
        select(runs)
        .where(runs.c.source == source, runs.c.path == path, runs.c.status.in_(UNFINISHED))
        .order_by(runs.c.id.desc())
        .limit(1)
    )
    return conn.execute(query).first()  # type: ignore[return-value]
