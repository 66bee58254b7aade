"""``/healthz`` and ``/readyz``: ready only once the node is warm (store answers, model
loaded, indexes open and read, a SQLite store read), 503 with the reason before that, and
while the store is down."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from paperfeed.config import Settings
from paperfeed.search.embedder import HashingEmbedder
from paperfeed.store.engine import make_engine
from paperfeed.store.migrate import upgrade
from paperfeed.web.app import create_app
from paperfeed.web.health import sqlite_files
from paperfeed.web.rendering import TEMPLATES
from tests.postgres_server import own_postgres
from tests.web.conftest import fill_store


def ready_within(site: TestClient, seconds: float) -> dict[str, object]:
    deadline = time.monotonic() + seconds
    while True:
        answer = site.get("/readyz")
        if answer.status_code == 200 or time.monotonic() > deadline:
            body: dict[str, object] = answer.json()
            return body
        assert answer.status_code == 503 and answer.json()["reason"]
        time.sleep(0.05)


def test_ready_once_warm(site_home: Path, db_url: str) -> None:
    settings = Settings(home=site_home, db=db_url, base_url="http://testserver")
    with TestClient(create_app(settings, HashingEmbedder)) as site:
        assert site.get("/healthz").text == "ok\n"
        assert ready_within(site, 30) == {"ready": True}


def test_ready_only_once_the_files_are_in_memory(site_home: Path, db_url: str) -> None:
    """The index files, and on SQLite the store's, are out of the page cache when the node
    starts; by the first 200 from ``/readyz`` all of them are back in it (PostgreSQL's store
    is the database server's to cache)."""
    files = [p for p in site_home.rglob("*") if p.is_file() and p.stat().st_size > 0]
    files += [p for p in sqlite_files(db_url) if p.exists()]
    assert any(p.name == "paperfeed.db" for p in files) == db_url.startswith("sqlite")
    evict(files)
    assert cached(files) < 0.1 * size(files)
    settings = Settings(home=site_home, db=db_url, base_url="http://testserver")
    with TestClient(create_app(settings, HashingEmbedder)) as site:
        assert ready_within(site, 30) == {"ready": True}
        assert cached(files) == size(files)


def evict(files: list[Path]) -> None:
    """Push the files out of the OS page cache (written to disk first: dirty pages stay)."""
    for path in files:
        handle = os.open(path, os.O_RDONLY)
        try:
            os.fsync(handle)
            os.posix_fadvise(handle, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(handle)


def cached(files: list[Path]) -> int:
    """Bytes of the files in the page cache, as util-linux's ``fincore`` counts them."""
    done = subprocess.run(
        ["fincore", "--bytes", "--noheadings", "--raw", "--output", "RES", *map(str, files)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return sum(int(n) for n in done.stdout.split())


def size(files: list[Path]) -> int:
    """Bytes of the files, counted in whole pages as the page cache holds them."""
    page = os.sysconf("SC_PAGE_SIZE")
    return sum(-(-p.stat().st_size // page) * page for p in files)


def test_ready_only_once_the_templates_are_compiled(site_home: Path, db_url: str) -> None:
    """A fresh node's first page does not compile its template (``paper.html``: 125-443 ms)."""
    TEMPLATES.env.cache.clear()  # (the process's earlier tests rendered pages)
    settings = Settings(home=site_home, db=db_url, base_url="http://testserver")
    with TestClient(create_app(settings, HashingEmbedder)) as site:
        assert ready_within(site, 30) == {"ready": True}
        compiled = {name for _, name in TEMPLATES.env.cache}
        assert compiled >= {"paper.html", "feed.html", "base.html"}
        assert compiled == set(TEMPLATES.env.list_templates())


def test_not_ready_without_an_index(engine: object, db_url: str, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, db=db_url, base_url="http://testserver")
    with TestClient(create_app(settings, HashingEmbedder)) as site:
        time.sleep(1.0)
        answer = site.get("/readyz")
        assert answer.status_code == 503
        assert answer.json() == {"ready": False, "reason": "there is no search index yet"}
        assert site.get("/healthz").status_code == 200


def test_not_ready_while_the_store_is_down(tmp_path: Path) -> None:
    with own_postgres() as server:
        engine = make_engine(server.url)
        upgrade(engine)
        fill_store(engine, tmp_path)
        engine.dispose()
        settings = Settings(home=tmp_path, db=server.url, base_url="http://testserver")
        with TestClient(create_app(settings, HashingEmbedder)) as site:
            assert ready_within(site, 30) == {"ready": True}
            server.stop()
            down = site.get("/readyz")
            assert down.status_code == 503
            assert down.json() == {"ready": False, "reason": "the store is not answering"}
            assert site.get("/healthz").status_code == 200
            server.start()
            assert ready_within(site, 30) == {"ready": True}


def test_warming_keeps_the_stores_locks_so_a_second_command_leaves_the_log_alone(
    site_home: Path, db_url: str
) -> None:
    """A node reads the SQLite file to warm the page cache; if it opened and closed the file
    itself, POSIX drops the node's locks on it, and the next ``paperfeed`` command (here, a
    process that opens and closes the store) took itself for the last user and deleted the
    write-ahead log under the running node: later writes were lost and the store ended
    malformed (outside check, a CLI command beside ``make demo``)."""
    if not db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's files are the server's")
    database, log = sqlite_files(db_url)
    settings = Settings(home=site_home, db=db_url, base_url="http://testserver")
    node = make_engine(db_url)
    with node.connect() as held, TestClient(create_app(settings, HashingEmbedder)) as site:
        held.execute(text("SELECT count(*) FROM papers")).scalar_one()
        assert ready_within(site, 60) == {"ready": True}
        assert log.exists()
        subprocess.run(
            [sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
             "c.execute('SELECT count(*) FROM papers').fetchone(); c.close()", str(database)],
            check=True, timeout=120,
        )  # fmt: skip
        assert log.exists(), "the write-ahead log was deleted under the running node"
        deleted = [os.readlink(fd) for fd in Path("/proc/self/fd").iterdir() if fd.exists()]
        assert not [t for t in deleted if t.endswith("(deleted)") and database.name in t]
    node.dispose()
    check = sqlite3.connect(database)
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    check.close()
