"""``/healthz`` (the process answers) and ``/readyz`` (it may take traffic), for load balancers
and service managers.

A node that has just started answers its first requests slowly: the model is not loaded, the
index files and a SQLite store are not in the page cache. So a node warms itself in the
background at start — waits for the store, loads the embedder, opens the indexes, reads their
files and a SQLite store's file once, runs a search of each kind and compiles the page
templates — and ``/readyz`` answers 503 with the reason until that is done, and again
whenever the store stops answering.

Reading the SQLite file matters most (``bench/pages.py --cold``, 200,000 papers): without it a
day's feed and the daily_papers API answered their first 1,000 requests with about twice
their warm p99, every random paper or day a few reads from disk. A PostgreSQL store is not
read: its cache is the database server's, which outlives a node's restart.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import make_url, text
from sqlalchemy.exc import InterfaceError, OperationalError

from paperfeed.search.indexer import IndexState, current_generation
from paperfeed.store.papers import count_changed_since
from paperfeed.web.rendering import TEMPLATES
from paperfeed.web.site import SearchUnavailable, Site

router = APIRouter(include_in_schema=False)
log = logging.getLogger("paperfeed.web.health")
RETRY_SECONDS = 1.0
READ_CHUNK = 1 << 20
#: A node whose index is further behind the store than this is still joining, not ready.
CATCH_UP_SLACK = 1_000


class Warmup:
    """Makes a node warm once, in a thread of its own; says what it is still waiting for."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.waiting_for: str | None = "the node is starting"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="warmup", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        for reason, step in (
            ("the store is not answering", self._store_answers),
            ("loading the embedding model", self._model_loaded),
            ("there is no search index yet", self._indexes_open),
            ("reading the store into memory", self._store_read),
        ):
            self.waiting_for = reason
            while not self._stop.is_set():
                try:
                    if step():
                        break
                except (
                    OperationalError,
                    InterfaceError,
                    OSError,
                    RuntimeError,
                    subprocess.SubprocessError,
                ) as error:
                    log.info("not ready (%s): %s", reason, str(error).splitlines()[0][:200])
                self._stop.wait(RETRY_SECONDS)
        self.waiting_for = None

    def _store_answers(self) -> bool:
        return store_answers(self.site)

    def _model_loaded(self) -> bool:
        self.site.embedder()  # (None when the model is not installed: keyword search only)
        return True

    def _indexes_open(self) -> bool:
        try:
            search = self.site.search()
        except SearchUnavailable:
            return False
        folder = current_generation(self.site.settings.home)
        if folder is None:
            return False
        behind = _papers_behind(self.site, folder)
        if behind > CATCH_UP_SLACK:  # a joining node: its index is still being built
            self.waiting_for = f"the search index is being built ({behind:,} papers to go)"
            return False
        _read_once([folder])
        for mode in ("keyword", "semantic", "hybrid"):
            search.search("warm up the index", mode=mode, limit=10)
        compile_templates()
        return True

    def _store_read(self) -> bool:
        files = sqlite_files(str(self.site.engine.url))
        size = sum(path.stat().st_size for path in files if path.exists())
        if size > physical_memory() // 2:  # it would only push itself out of the cache again
            log.info("the store (%d MiB) is too big to read into memory", size >> 20)
            return True
        _read_once(files)
        return True


def _papers_behind(site: Site, folder: Path) -> int:
    """Papers the keyword index has yet to reach."""
    with site.engine.connect() as conn:
        return count_changed_since(conn, IndexState.load(folder).keyword_cursor)


def compile_templates() -> None:
    """Compile every page template now, not in a visitor's request: compiling ``paper.html``
    (with the templates it extends and includes) took 125-443 ms on two loaded cores."""
    for name in TEMPLATES.env.list_templates():
        TEMPLATES.env.get_template(name)


def sqlite_files(url: str) -> list[Path]:
    """A SQLite store's database file and its write-ahead log; nothing for PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return []
    database = Path(str(parsed.database))
    return [database, database.with_name(database.name + "-wal")]


def physical_memory() -> int:
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


#: Reads files in a process of its own (see :func:`_read_once`).
_READER = """
import sys
from pathlib import Path
size = 0
for top in map(Path, sys.argv[2:]):
    for path in [top] if top.is_file() else top.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                while chunk := handle.read(int(sys.argv[1])):
                    size += len(chunk)
print(size)
"""


def _read_once(paths: list[Path]) -> None:
    """Read these files (and the files under these folders) once, so that the first requests
    find their pages in memory.

    The reading happens in a child process, never in this one: closing any descriptor of a
    SQLite file drops every POSIX lock this process holds on it (fcntl locks belong to the
    process, not the descriptor), so the next ``paperfeed`` command took itself for the store's
    last user, checkpointed and deleted the write-ahead log under the running node, and the
    store ended "malformed" (outside check). A child's locks and closes are its own.
    """
    started = time.perf_counter()
    existing = [str(path) for path in paths if path.exists()]
    if not existing:
        return
    done = subprocess.run(
        [sys.executable, "-c", _READER, str(READ_CHUNK), *existing],
        capture_output=True, text=True, check=True, timeout=3600,
    )  # fmt: skip
    size = int(done.stdout.strip() or 0)
    log.info("read %d MiB of %s in %.1f s", size >> 20, paths, time.perf_counter() - started)


def store_answers(site: Site) -> bool:
    try:
        with site.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (OperationalError, InterfaceError):
        return False
    return True


@router.get("/healthz")
def healthz() -> PlainTextResponse:
    """The process answers (nothing more is checked: a restart would not help otherwise)."""
    return PlainTextResponse("ok\n")


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """200 once the node is warm and while the store answers; 503 and the reason otherwise."""
    warmup: Warmup = request.app.state.warmup
    reason = warmup.waiting_for
    if reason is None and not store_answers(request.app.state.site):
        reason = "the store is not answering"
    if reason is not None:
        return JSONResponse(
            {"ready": False, "reason": reason}, status_code=503, headers={"Retry-After": "1"}
        )
    return JSONResponse({"ready": True})
