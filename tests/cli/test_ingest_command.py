"""The ``paperfeed`` command as a user runs it: a real process, real files, both databases."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from sqlalchemy import func, select

from paperfeed.models import IngestRun, Paper
from paperfeed.store.engine import make_engine
from tests.conftest import FIXTURES

SNAPSHOT = FIXTURES / "arxiv-snapshot-sample.jsonl"


def paperfeed(*args: str | Path, db: str, home: Path) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "paperfeed",
        "--data-dir",
        str(home),
        "--db",
        db,
        *map(str, args),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=_env())


def _env() -> dict[str, str]:
    return {**os.environ, "COLUMNS": "200", "PAPERFEED_HOME": "", "PAPERFEED_DB": ""}


def test_init_ingest_and_reingest(db_url: str, tmp_path: Path) -> None:
    assert "migrated from empty" in paperfeed("init", db=db_url, home=tmp_path).stdout
    assert "up to date" in paperfeed("init", db=db_url, home=tmp_path).stdout

    first = paperfeed("ingest", "arxiv-snapshot", SNAPSHOT, db=db_url, home=tmp_path)
    again = paperfeed("ingest", "arxiv-snapshot", SNAPSHOT, db=db_url, home=tmp_path)

    assert first.returncode == 0, first.stderr
    assert "200 new, 0 updated, 0 unchanged, 0 bad" in first.stdout
    assert "0 new, 0 updated, 200 unchanged, 0 bad" in again.stdout
    status = paperfeed("status", db=db_url, home=tmp_path).stdout
    assert "Papers: 200" in status and "hep-ph" in status


def test_bad_lines_are_printed_and_listed_in_a_report(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'p.db'}"
    lines = SNAPSHOT.read_text().splitlines()[:3]
    data = tmp_path / "some-bad.jsonl"
    data.write_text("\n".join([lines[0], lines[1][:100], '{"id": "0704.0003"}', lines[2]]) + "\n")
    paperfeed("init", db=db, home=tmp_path)

    result = paperfeed("ingest", "arxiv-snapshot", data, db=db, home=tmp_path)

    assert result.returncode == 0
    assert "skipped line 2: truncated JSON" in result.stderr
    assert "skipped line 3 (0704.0003): missing title" in result.stderr
    assert "2 new, 0 updated, 0 unchanged, 2 bad" in result.stdout
    report = next((tmp_path / "reports").glob("ingest-*-some-bad.jsonl.bad.tsv"))
    assert report.read_text().splitlines()[1:] == [
        "2\t\tskipped\ttruncated JSON (the line ends before the object does)",
        "3\t0704.0003\tskipped\tmissing title",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "nothing could be read (the file is empty)"),
        (b"not json\n{]\n", "nothing could be read"),
    ],
)
def test_nothing_readable_exits_non_zero(tmp_path: Path, content: bytes, message: str) -> None:
    db = f"sqlite:///{tmp_path / 'p.db'}"
    data = tmp_path / "junk.jsonl"
    data.write_bytes(content)
    paperfeed("init", db=db, home=tmp_path)
    result = paperfeed("ingest", "jsonl", data, db=db, home=tmp_path)
    assert result.returncode == 1
    assert message in result.stderr


def test_clear_errors_for_missing_file_store_and_server(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'p.db'}"
    not_initialised = paperfeed("ingest", "jsonl", SNAPSHOT, db=db, home=tmp_path)
    assert not_initialised.returncode == 1
    assert (
        f"there is no store at {tmp_path / 'p.db'}: run `paperfeed init` first"
        in not_initialised.stderr
    )
    assert not (tmp_path / "p.db").exists()  # asking left no empty store behind
    (tmp_path / "p.db").touch()
    empty = paperfeed("status", db=db, home=tmp_path)
    assert "the store is not initialised: run `paperfeed init` first" in empty.stderr
    (tmp_path / "p.db").unlink()

    paperfeed("init", db=db, home=tmp_path)
    missing = paperfeed("ingest", "jsonl", tmp_path / "nope.jsonl", db=db, home=tmp_path)
    assert missing.returncode == 1 and "nope.jsonl: no such file" in missing.stderr

    unreachable = paperfeed("init", db="postgresql://nobody:secret@127.0.0.1:1/none", home=tmp_path)
    assert unreachable.returncode == 1
    assert (
        "cannot open the store at postgresql://nobody:***@127.0.0.1:1/none: connection failed"
        in unreachable.stderr
    )
    assert "secret" not in unreachable.stderr and "Traceback" not in unreachable.stderr


def test_killed_import_resumes_without_duplicates(db_url: str, tmp_path: Path) -> None:
    data = _many_real_records(tmp_path / "big.jsonl", 40_000)
    paperfeed("init", db=db_url, home=tmp_path)
    engine = make_engine(db_url)
    command = [
        sys.executable,
        "-m",
        "paperfeed",
        "--db",
        db_url,
        "ingest",
        "arxiv-snapshot",
        str(data),
    ]
    process = subprocess.Popen(
        command, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        done = _wait_for_progress(engine, process)
        reader = psutil.Process(process.pid).children()
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        process.kill()
    assert 0 < done < 40_000, "the import finished before it could be killed"
    _gone, alive = psutil.wait_procs(reader, timeout=10)
    assert alive == [], "the reader process outlived the killed import"

    resumed = paperfeed("ingest", "arxiv-snapshot", data, "--resume", db=db_url, home=tmp_path)

    assert resumed.returncode == 0, resumed.stderr
    assert "Resumed run 1 after line" in resumed.stdout
    assert "40,000 new, 0 updated, 0 unchanged, 0 bad" in resumed.stdout
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Paper)) == 40_000
        assert conn.scalar(select(IngestRun.status).where(IngestRun.id == 1)) == "done"
    engine.dispose()


def _wait_for_progress(engine: object, process: subprocess.Popen[bytes]) -> int:
    """Poll the run's progress row until some batches are in, and return the lines done."""
    from sqlalchemy import Engine

    assert isinstance(engine, Engine)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with engine.connect() as conn:
                done = conn.scalar(select(IngestRun.lines_done).where(IngestRun.id == 1))
        except Exception:  # the table may be locked or not yet written; poll again
            done = None
        if done and done >= 6_000:
            return int(done)
        time.sleep(0.05)
    return 0


def _many_real_records(path: Path, count: int) -> Path:
    """``count`` lines of real records, each given a distinct (valid) arXiv id."""
    records = [
        json.loads(line)
        for line in (FIXTURES / "arxiv-more-1-head300.jsonl").read_text().splitlines()
    ]
    with path.open("w") as out:
        for n in range(count):
            out.write(json.dumps(dict(records[n % len(records)], id=f"2501.{n:05d}")) + "\n")
    return path


def test_the_summary_says_what_was_merged_and_what_was_kept_apart(
    db_url: str, tmp_path: Path
) -> None:
    """Two papers without an arXiv id (a lab's copy of an arXiv paper, and a capture of another
    paper whose title happens to be that of an arXiv paper), then the arXiv records."""
    title = "Attention Is All You Need"
    others = [
        {"id": "lab:aiayn", "title": title, "num_authors": 8, "date_shown": "Jun 14"},
        {"id": "capture:rnn", "title": "Long short-term memory, revisited", "num_authors": 3},
    ]
    arxiv = [
        {"id": "1706.03762", "title": title, "published": "2017-06-12",
         "authors": [f"Author {n} Of{n}" for n in range(8)]},
        {"id": "2401.00001", "title": "Long Short-Term Memory, Revisited", "authors": ["A B"]},
    ]  # fmt: skip
    (tmp_path / "others.jsonl").write_text("".join(json.dumps(r) + "\n" for r in others))
    (tmp_path / "arxiv.jsonl").write_text("".join(json.dumps(r) + "\n" for r in arxiv))
    home = tmp_path / "home"
    paperfeed("init", db=db_url, home=home)
    paperfeed("ingest", "jsonl", tmp_path / "others.jsonl", db=db_url, home=home)

    done = paperfeed("ingest", "jsonl", tmp_path / "arxiv.jsonl", db=db_url, home=home)

    assert done.returncode == 0, done.stderr
    assert (
        "2 new, 0 updated, 0 unchanged, 0 bad, 1 merged into its arXiv paper, "
        "1 same-title pair not merged (the records disagree)"
    ) in done.stdout
    assert (
        "not merged: capture:rnn and 2401.00001 share a title, but 3 authors here, 1 on arXiv"
        in done.stdout
    )
