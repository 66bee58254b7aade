"""``feature``, ``delete`` and ``check`` as an admin runs them (issue 21): a featured paper moves
only when asked and keeps its submitter, ``check`` says in words what the indexer has yet to do
(and that a deletion needs no rebuild), ``delete`` of an unknown id says it was not found."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, select

from paperfeed.ingest import ingest_file
from paperfeed.models import FeedEntry
from paperfeed.search import indexer
from paperfeed.search.embedder import HashingEmbedder
from paperfeed.store.engine import write_transaction
from paperfeed.store.feed import feature
from tests.conftest import FIXTURES

PAPER = "1904.11093"
DAY = dt.date(2026, 6, 9)


def run(db_url: str, home: Path, *args: str) -> tuple[int, str]:
    """The command in a process of its own, as an admin runs it (stdout and stderr together)."""
    env = {**os.environ, "PAPERFEED_HOME": str(home), "PAPERFEED_DB": db_url, "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "paperfeed", *args],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr


def entry(engine: Engine) -> tuple[dt.date, str | None]:
    with engine.connect() as conn:
        row = conn.execute(
            select(FeedEntry.day, FeedEntry.submitter_name).where(FeedEntry.paper_id == PAPER)
        ).one()
    return row.day, row.submitter_name


def test_feature_moves_a_paper_only_when_asked_and_keeps_its_submitter(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    ingest_file(engine, "arxiv-snapshot", FIXTURES / "arxiv-more-1-head300.jsonl")
    with write_transaction(engine) as conn:
        feature(conn, PAPER, DAY, dt.datetime.now(dt.UTC), "alice", "Alice A.")

    code, out = run(db_url, tmp_path, "feature", PAPER)
    assert code == 0 and entry(engine) == (DAY, "Alice A.")
    assert f"{PAPER}: stays on {DAY}" in out and "--move" in out

    code, out = run(db_url, tmp_path, "feature", PAPER, "--date", "2026-06-10", "--move")
    assert code == 0 and f"moved from {DAY} to 2026-06-10" in out
    assert entry(engine) == (dt.date(2026, 6, 10), "Alice A.")

    code, out = run(db_url, tmp_path, "feature", PAPER, "--date", str(DAY), "--move")
    assert entry(engine) == (DAY, "Alice A.")
    assert "0 papers featured, 0 already featured, 1 moved" in out


def test_check_after_delete_asks_for_index_not_rebuild(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    ingest_file(engine, "arxiv-snapshot", FIXTURES / "arxiv-more-1-head300.jsonl")
    indexer.update(engine, tmp_path, HashingEmbedder())
    code, out = run(db_url, tmp_path, "check")
    assert code == 0 and "Store: 300 papers. The indexer has caught up with it." in out

    code, out = run(db_url, tmp_path, "delete", PAPER)
    assert code == 0 and "Deleted 1 paper. Run `paperfeed index` to remove it" in out
    code, out = run(db_url, tmp_path, "check")
    assert code == 0, out
    assert "Waiting for `paperfeed index`: 1 deleted paper to drop." in out
    assert "--rebuild" not in out

    indexer.update(engine, tmp_path, HashingEmbedder())
    code, out = run(db_url, tmp_path, "check")
    assert code == 0 and "Store: 299 papers. The indexer has caught up" in out


def test_delete_of_an_unknown_id_says_it_was_not_found(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    code, out = run(db_url, tmp_path, "delete", "2412.99999")
    assert code == 1
    assert "Not in the store: 2412.99999" in out and "Nothing was deleted." in out
    assert "Deleted 0" not in out
