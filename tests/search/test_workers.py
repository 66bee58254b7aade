"""Embedding workers as deployed: real ``paperfeed embed`` processes on one PostgreSQL store,
the real model. Every paper is written exactly once (a trigger in the store counts each write
to ``paper_vectors``), none is missed, and a worker killed mid-batch leaves its claim to
another once the lease has passed."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from paperfeed.ingest import ingest_file
from paperfeed.store.engine import make_engine
from paperfeed.store.migrate import upgrade
from tests.conftest import FIXTURES, new_postgres_database

PAPERS = FIXTURES / "arxiv-more-1-head300.jsonl"
AUDIT = """
CREATE TABLE vector_writes (paper_id text, op text);
CREATE FUNCTION note_vector_write() RETURNS trigger AS $$
BEGIN INSERT INTO vector_writes VALUES (NEW.paper_id, TG_OP); RETURN NEW; END $$
LANGUAGE plpgsql;
CREATE TRIGGER vector_writes AFTER INSERT OR UPDATE ON paper_vectors
FOR EACH ROW EXECUTE FUNCTION note_vector_write();
"""


@pytest.fixture
def backlog() -> Iterator[tuple[str, Engine]]:
    """A PostgreSQL store with 300 papers and no vectors, whose vector writes are counted."""
    with new_postgres_database() as url:
        engine = make_engine(url)
        upgrade(engine)
        ingest_file(engine, "arxiv-snapshot", PAPERS)
        with engine.begin() as conn:
            conn.exec_driver_sql(AUDIT)
        yield url, engine
        engine.dispose()


def worker(home: Path, url: str, model_dir: Path, *args: str) -> subprocess.Popen[str]:
    if not (home / "models").exists():
        shutil.copytree(model_dir, home / "models")
    env = {**os.environ, "PAPERFEED_HOME": str(home), "PAPERFEED_DB": url, "COLUMNS": "200"}
    command = [sys.executable, "-m", "paperfeed", "embed", *args]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def embedded(output: str) -> int:
    found = re.search(r"Embedded ([\d,]+) papers", output)
    return int(found.group(1).replace(",", "")) if found else 0


def writes(engine: Engine) -> dict[str, list[str]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT paper_id, op FROM vector_writes")).all()
    out: dict[str, list[str]] = {}
    for paper_id, op in rows:
        out.setdefault(paper_id, []).append(op)
    return out


def test_two_workers_embed_one_backlog_each_paper_exactly_once(
    backlog: tuple[str, Engine], tmp_path: Path, model_dir: Path
) -> None:
    url, engine = backlog
    workers = [worker(tmp_path / name, url, model_dir, "--batch", "8") for name in ("a", "b")]
    outputs = [process.communicate(timeout=600) for process in workers]
    for process, (_, err) in zip(workers, outputs, strict=True):
        assert process.returncode == 0, err
    counts = [embedded(out) for out, _ in outputs]
    assert all(count > 0 for count in counts), counts  # both took a share
    assert sum(counts) == 300
    written = writes(engine)
    assert len(written) == 300 and all(ops == ["INSERT"] for ops in written.values())
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM vector_jobs")) == 0


def test_a_worker_killed_mid_batch_leaves_its_claim_to_another_after_the_lease(
    backlog: tuple[str, Engine], tmp_path: Path, model_dir: Path
) -> None:
    url, engine = backlog
    lease_minutes = "0.1"  # six seconds
    doomed = worker(tmp_path / "a", url, model_dir, "--batch", "50", "--lease", lease_minutes)
    held: list[str] = []
    deadline = time.monotonic() + 120
    while not held:  # the moment its claim is committed, before its vectors are
        assert time.monotonic() < deadline and doomed.poll() is None
        with engine.connect() as conn:
            held = list(
                conn.scalars(text("SELECT paper_id FROM vector_jobs WHERE worker IS NOT NULL"))
            )
        time.sleep(0.02)
    doomed.send_signal(signal.SIGKILL)
    doomed.communicate(timeout=10)
    with engine.connect() as conn:
        still_held = set(
            conn.scalars(text("SELECT paper_id FROM vector_jobs WHERE worker IS NOT NULL"))
        )
    assert still_held, "the worker finished its batch before it was killed"

    started = time.monotonic()
    rescuer = worker(tmp_path / "b", url, model_dir, "--batch", "50", "--lease", lease_minutes)
    _, err = rescuer.communicate(timeout=600)
    assert rescuer.returncode == 0, err
    assert time.monotonic() - started >= 3  # it waited for the dead worker's lease to pass
    written = writes(engine)
    assert len(written) == 300 and all(ops == ["INSERT"] for ops in written.values())
    assert still_held <= set(written)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM vector_jobs")) == 0
        assert conn.scalar(text("SELECT count(*) FROM paper_vectors")) == 300
