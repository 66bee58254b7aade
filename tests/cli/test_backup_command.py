"""``paperfeed backup`` and ``restore`` as a user runs them: a backup taken while another
process writes to the store is one consistent moment of it; a restore brings it back whole;
what is not a paperfeed store is refused; a PostgreSQL store is pointed to pg_dump."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from paperfeed.models import Paper
from paperfeed.store.engine import make_engine
from tests.cli.test_ingest_command import SNAPSHOT, _env, paperfeed

WRITER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=30)
db.execute("PRAGMA journal_mode=WAL")
n = 0
while True:
    with db:
        db.execute("UPDATE papers SET comments = ? WHERE id = (SELECT id FROM papers ORDER BY id LIMIT 1)", (str(n),))
        db.execute("INSERT INTO audit_log (action, target, at) VALUES ('test', ?, '2026-01-01 00:00:00')", (f"w{n}",))
    n += 1
"""


def test_backup_while_writing_then_restore(tmp_path: Path) -> None:
    home, store = tmp_path / "home", f"sqlite:///{tmp_path / 'home' / 'paperfeed.db'}"
    assert paperfeed("init", db=store, home=home).returncode == 0
    assert paperfeed("ingest", "arxiv-snapshot", SNAPSHOT, db=store, home=home).returncode == 0
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(home / "paperfeed.db")])
    try:
        done = paperfeed("backup", tmp_path / "copy.db", db=store, home=home)
    finally:
        writer.kill()
        writer.wait()
    assert done.returncode == 0, done.stderr
    assert "Backed up" in done.stdout
    with sqlite3.connect(tmp_path / "copy.db") as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        written = copy.execute("SELECT count(*) FROM audit_log").fetchone()[0]
        last = copy.execute("SELECT comments FROM papers ORDER BY id LIMIT 1").fetchone()[0]
    assert written and last == str(written - 1)  # both writes of a transaction, or neither
    again = paperfeed("backup", tmp_path / "copy.db", db=store, home=home)
    assert again.returncode == 1 and "exists already" in again.stderr

    other = tmp_path / "elsewhere"
    target = f"sqlite:///{other / 'paperfeed.db'}"
    restored = paperfeed("restore", tmp_path / "copy.db", "--yes", db=target, home=other)
    assert restored.returncode == 0, restored.stderr
    assert "paperfeed index --rebuild" in restored.stdout
    with make_engine(target).connect() as conn:
        expected = make_engine(store).connect().scalar(select(func.count()).select_from(Paper))
        assert conn.scalar(select(func.count()).select_from(Paper)) == expected

    (tmp_path / "notes.db").write_text("not a database")
    refused = paperfeed("restore", tmp_path / "notes.db", "--yes", db=target, home=other)
    assert refused.returncode == 1 and "not an SQLite database" in refused.stderr
    sqlite3.connect(tmp_path / "empty.db").execute("CREATE TABLE t (x)").connection.commit()
    refused = paperfeed("restore", tmp_path / "empty.db", "--yes", db=target, home=other)
    assert refused.returncode == 1 and "not a paperfeed store" in refused.stderr


def test_postgresql_stores_are_pointed_to_pg_dump(db_url: str, tmp_path: Path) -> None:
    if db_url.startswith("sqlite"):
        return  # (the SQLite case is above)
    done = subprocess.run(
        [sys.executable, "-m", "paperfeed", "--db", db_url, "backup", str(tmp_path / "x.db")],
        capture_output=True, text=True, env=_env(), timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and "pg_dump" in done.stderr
