"""What ``paperfeed sync`` keeps between runs: runs, per-source harvest state, failed records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, delete, insert, select, update

from paperfeed.models import SourceFailure, SourceState, SyncRun, table_of
from paperfeed.store.engine import write_transaction

runs = table_of(SyncRun)
states = table_of(SourceState)
failures = table_of(SourceFailure)


@dataclass(slots=True)
class RunCounts:
    requests: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    bad: int = 0
    featured: int = 0


@dataclass(slots=True)
class State:
    harvested_until: dt.date | None = None
    resumption_token: str | None = None
    harvest_started: dt.date | None = None


def start_run(engine: Engine, source: str, kind: str, now: dt.datetime) -> int:
    with write_transaction(engine) as conn:
        # A run still marked running while we hold the sync lock was killed: say so.
        conn.execute(
            update(runs)
            .where(runs.c.source == source, runs.c.status == "running")
            .values(status="interrupted")
        )
        run_id = conn.execute(
            insert(runs).values(
                source=source,
                kind=kind,
                status="running",
                started_at=now,
                requests=0,
                new=0,
                updated=0,
                unchanged=0,
                bad=0,
                featured=0,
            )
        ).inserted_primary_key
    assert run_id is not None
    return int(run_id[0])


def finish_run(
    engine: Engine, run_id: int, counts: RunCounts, now: dt.datetime, error: str | None = None
) -> None:
    with write_transaction(engine) as conn:
        conn.execute(
            update(runs)
            .where(runs.c.id == run_id)
            .values(
                status="failed" if error else "done", finished_at=now, error=error,
                requests=counts.requests, new=counts.new, updated=counts.updated,
                unchanged=counts.unchanged, bad=counts.bad, featured=counts.featured,
            )
        )  # fmt: skip


def recent_runs(engine: Engine, limit: int = 10) -> list[SyncRun]:
    with engine.connect() as conn:
        rows = conn.execute(select(runs).order_by(runs.c.id.desc()).limit(limit)).all()
    return [SyncRun(**row._asdict()) for row in rows]


def last_finished(engine: Engine) -> dt.datetime | None:
    """When the last run of any source ended (nodes use it not to sync twice in a period)."""
    with engine.connect() as conn:
        return conn.scalar(
            select(runs.c.finished_at).order_by(runs.c.finished_at.desc().nulls_last()).limit(1)
        )


def load_state(conn: Connection, source: str) -> State:
    row = conn.execute(select(states).where(states.c.source == source)).first()
    if row is None:
        return State()
    return State(row.harvested_until, row.resumption_token, row.harvest_started)


def save_state(conn: Connection, source: str, state: State, now: dt.datetime) -> None:
    values = {
        "harvested_until": state.harvested_until,
        "resumption_token": state.resumption_token,
        "harvest_started": state.harvest_started,
        "updated_at": now,
    }
    changed = conn.execute(update(states).where(states.c.source == source).values(**values))
    if changed.rowcount == 0:
        conn.execute(insert(states).values(source=source, **values))


def record_failures(
    conn: Connection, source: str, items: Sequence[tuple[str, str]], now: dt.datetime
) -> None:
    """Remember ``(item, reason)`` pairs to retry; an item failing again counts an attempt."""
    for item, reason in items:
        changed = conn.execute(
            update(failures)
            .where(failures.c.source == source, failures.c.item == item)
            .values(reason=reason, attempts=failures.c.attempts + 1, last_tried=now)
        )
        if changed.rowcount == 0:
            conn.execute(
                insert(failures).values(
                    source=source, item=item, reason=reason, attempts=1, last_tried=now
                )
            )


def pending_failures(conn: Connection, source: str, limit: int = 1_000) -> list[str]:
    return list(
        conn.scalars(
            select(failures.c.item)
            .where(failures.c.source == source)
            .order_by(failures.c.item)
            .limit(limit)
        )
    )


def forget_failures(conn: Connection, source: str, items: Sequence[str]) -> None:
    if items:
        conn.execute(
            delete(failures).where(failures.c.source == source, failures.c.item.in_(list(items)))
        )
