"""Keep the search indexes up to date with the store, from its change cursor.

An index lives in a *generation* folder under ``<data dir>/search/``; the ``current`` link
names the one in use. ``update`` brings the current generation up to date: first the keyword
index (fast, so new papers are findable by their words at once), then the vectors (slow:
embedding), each with its own cursor saved after the work it covers. Deletions come first,
from the store's tombstones with a cursor of their own, so a paper deleted and imported again
ends up indexed. ``rebuild`` builds a new
generation from nothing and switches the link atomically: searches keep using the old one
until then, and a killed rebuild leaves it untouched.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, select

from paperfeed.models import Author, Paper, PaperAuthor, PaperCategory, utc
from paperfeed.search.documents import IndexedPaper, paper_key
from paperfeed.search.embedder import Embedder
from paperfeed.search.embedding import embed_papers
from paperfeed.search.lexical import KeywordIndex
from paperfeed.search.query import Filters
from paperfeed.search.vectors import VectorIndex
from paperfeed.store.papers import changed_since, count_changed_since, deleted_since

KEYWORD_PAGE = 5_000
DELETION_PAGE = 5_000
VECTOR_PAGE = 512
SAVE_VECTORS_EVERY = 120.0  # seconds: a crash loses at most this much embedding work
VECTOR_DTYPE = "f16"
LATE_CHECK_FILE = "late-check.txt"
LATE_WINDOW = dt.timedelta(seconds=60)  # how far back the follower looks for late commits
LATE_LIMIT = 20_000

Progress = Callable[[str, int, int], None]
Cursor = tuple[dt.datetime, str]


@dataclass(slots=True)
class IndexState:
    """How far each index has followed the store's change cursor, and what built the vectors."""

    keyword_cursor: Cursor | None = None
    vector_cursor: Cursor | None = None
    deletion_cursor: Cursor | None = None
    embedder: str | None = None
    #: When the follower last looked for late commits (UTC); see :func:`_late_commits`. Kept
    #: in a file of its own: a searcher reopens the index when ``state.json`` changes.
    late_checked_at: dt.datetime | None = None

    @classmethod
    def load(cls, folder: Path) -> IndexState:
        path = folder / "state.json"
        if not path.exists():
            return cls()
        raw = json.loads(path.read_text())
        return cls(
            _cursor(raw.get("keyword_cursor")),
            _cursor(raw.get("vector_cursor")),
            _cursor(raw.get("deletion_cursor")),
            raw.get("embedder"),
            _late_check(folder),
        )

    def save(self, folder: Path) -> None:
        raw = {
            "keyword_cursor": _raw_cursor(self.keyword_cursor),
            "vector_cursor": _raw_cursor(self.vector_cursor),
            "deletion_cursor": _raw_cursor(self.deletion_cursor),
            "embedder": self.embedder,
        }
        partial = folder / "state.json.partial"
        partial.write_text(json.dumps(raw, indent=1))
        os.replace(partial, folder / "state.json")
        self.save_late_check(folder)

    def save_late_check(self, folder: Path) -> None:
        if self.late_checked_at is not None:
            partial = folder / f"{LATE_CHECK_FILE}.partial"
            partial.write_text(self.late_checked_at.isoformat())
            os.replace(partial, folder / LATE_CHECK_FILE)


@dataclass(slots=True)
class UpdateReport:
    deleted_papers: int = 0
    keyword_papers: int = 0
    vector_papers: int = 0
    seconds_keyword: float = 0.0
    seconds_vectors: float = 0.0


def search_root(home: Path) -> Path:
    return home / "search"


def current_generation(home: Path) -> Path | None:
    link = search_root(home) / "current"
    return link.resolve() if link.exists() else None


def update(
    engine: Engine, home: Path, embedder: Embedder, on_progress: Progress | None = None
) -> UpdateReport:
    """Bring the current generation (created if there is none) up to date with the store.

    One writer at a time per data directory (the command line, or a web node's background
    follower): this waits for the other to finish.
    """
    with writer_lock(home):
        folder = current_generation(home)
        if folder is None:
            folder = _new_generation(home)
            _switch(home, folder)
        return _follow(engine, folder, embedder, on_progress)


def damage(home: Path, dimensions: int) -> str | None:
    """What is wrong with the current generation, if it cannot be opened (None when it opens,
    or when there is none yet)."""
    folder = current_generation(home)
    if folder is None:
        return None
    try:
        KeywordIndex(folder / "keyword").count()
        IndexState.load(folder)
        VectorIndex(folder, dimensions, VECTOR_DTYPE, view=True)
    except (OSError, ValueError, RuntimeError) as error:
        return (
            f"{type(error).__name__}: {str(error).splitlines()[0][:300] if str(error) else error!r}"
        )
    return None


def follow_if_free(engine: Engine, home: Path, embedder: Embedder) -> UpdateReport | None:
    """For a web node's background follower: catch up the existing index with the store, unless
    another writer is at work (None then) or there is no index yet (a first build of a whole
    corpus is `paperfeed index`'s job, not a web server's)."""
    with writer_lock(home, wait=False) as held:
        folder = current_generation(home)
        if not held or folder is None:
            return None
        return _follow(engine, folder, embedder, None)


@contextmanager
def writer_lock(home: Path, wait: bool = True) -> Iterator[bool]:
    """An ``flock`` on ``<data dir>/search/.writer.lock`` (released by the kernel if we die)."""
    root = search_root(home)
    root.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(root / ".writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(descriptor)


def rebuild(
    engine: Engine, home: Path, embedder: Embedder, on_progress: Progress | None = None
) -> UpdateReport:
    """Build a new generation from scratch, then switch to it and remove the old one."""
    with writer_lock(home):
        old = current_generation(home)
        folder = _new_generation(home)
        try:
            report = _follow(engine, folder, embedder, on_progress)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        _switch(home, folder)
    if old is not None and old != folder:
        shutil.rmtree(old, ignore_errors=True)  # open readers keep their mapped files until closed
    return report


def _follow(
    engine: Engine, folder: Path, embedder: Embedder, on_progress: Progress | None
) -> UpdateReport:
    state = IndexState.load(folder)
    if state.embedder not in (None, embedder.name):
        raise RuntimeError(
            f"this index's vectors were made by {state.embedder}, not {embedder.name}: "
            "run `paperfeed index --rebuild`"
        )
    state.embedder = embedder.name
    report = UpdateReport()
    report.deleted_papers = _follow_deletions(engine, folder, state, embedder)
    started = time.perf_counter()
    report.keyword_papers = _follow_keywords(engine, folder, state, on_progress)
    report.seconds_keyword = time.perf_counter() - started
    started = time.perf_counter()
    report.vector_papers = _follow_vectors(engine, folder, state, embedder, on_progress)
    report.seconds_vectors = time.perf_counter() - started
    report.keyword_papers += _late_commits(engine, folder, state, embedder)
    return report


def _late_commits(engine: Engine, folder: Path, state: IndexState, embedder: Embedder) -> int:
    """Papers whose change committed after the cursor had passed its time.

    The cursor is the application's clock: with several writers (web nodes, syncs) a
    transaction that took its timestamp before another's, and committed after it, lands behind
    a cursor that already moved on. Once caught up, the follower looks again at the last
    :data:`LATE_WINDOW` before its cursor and indexes what the indexes lack (at most
    :data:`LATE_LIMIT` papers: the window is seconds of writes, not an import's worth).
    """
    if state.keyword_cursor is None:
        return 0
    at = utc(state.keyword_cursor[0])
    if state.late_checked_at is not None and utc(state.late_checked_at) >= at + LATE_WINDOW:
        # Looked after every transaction stamped before the cursor had ended (none lasts the
        # window): nothing more can land behind it until the cursor moves.
        return 0
    state.late_checked_at = dt.datetime.now(dt.UTC)
    state.save_late_check(folder)  # (before the look: what commits meanwhile is seen next time)
    since = (state.keyword_cursor[0] - LATE_WINDOW, "")
    with engine.connect() as conn:
        recent = [paper_id for paper_id, _ in changed_since(conn, since, LATE_LIMIT)]
    if not recent:
        return 0
    keyword = KeywordIndex(folder / "keyword")
    keys = {paper_key(paper_id): paper_id for paper_id in recent}
    indexed = keyword.allowed_keys(Filters(), list(keys))
    missing = [paper_id for key, paper_id in keys.items() if key not in indexed]
    # Membership through a memory-mapped view: loading a million vectors writable every few
    # seconds, to find them all present, was most of a busy node's CPU.
    stored = VectorIndex(folder, embedder.dimensions, VECTOR_DTYPE, view=True).index
    unembedded = [paper_id for key, paper_id in keys.items() if key not in stored]
    del stored
    with engine.connect() as conn:
        if missing:
            keyword.add(load_papers(conn, missing))
        papers = load_papers(conn, unembedded)
    if papers and state.vector_cursor is not None:
        vectors = VectorIndex(folder, embedder.dimensions, VECTOR_DTYPE)
        vectors.add([p.key for p in papers], embed_papers(engine, embedder, papers))
        vectors.save()
    return len(missing)


def _follow_deletions(engine: Engine, folder: Path, state: IndexState, embedder: Embedder) -> int:
    """Drop deleted papers from both indexes (dropping twice is harmless, so a crash is too)."""
    done = 0
    while True:
        with engine.connect() as conn:
            page = deleted_since(conn, state.deletion_cursor, DELETION_PAGE)
        if not page:
            return done
        paper_ids = [paper_id for paper_id, _ in page]
        KeywordIndex(folder / "keyword").delete(paper_ids)
        vectors = VectorIndex(folder, embedder.dimensions, VECTOR_DTYPE)
        if vectors.remove([paper_key(paper_id) for paper_id in paper_ids]):
            vectors.save()
        state.deletion_cursor = (page[-1][1], page[-1][0])
        state.save(folder)
        done += len(page)


def _follow_keywords(
    engine: Engine, folder: Path, state: IndexState, on_progress: Progress | None
) -> int:
    keyword = KeywordIndex(folder / "keyword")
    total, done = _pending(engine, state.keyword_cursor), 0
    while True:
        with engine.connect() as conn:
            page = changed_since(conn, state.keyword_cursor, KEYWORD_PAGE)
            papers = load_papers(conn, [paper_id for paper_id, _ in page])
        if not page:
            return done
        keyword.add(papers)
        state.keyword_cursor = (page[-1][1], page[-1][0])
        state.save(folder)
        done += len(page)
        if on_progress:
            on_progress("keyword index", done, total)


def _follow_vectors(
    engine: Engine,
    folder: Path,
    state: IndexState,
    embedder: Embedder,
    on_progress: Progress | None,
) -> int:
    total, done = _pending(engine, state.vector_cursor), 0
    if not total:  # the usual case for a web node's follower: do not load the vectors at all
        return 0
    vectors = VectorIndex(folder, embedder.dimensions, VECTOR_DTYPE)
    position, saved_at = state.vector_cursor, time.monotonic()
    while True:
        with engine.connect() as conn:
            page = changed_since(conn, position, VECTOR_PAGE)
            papers = load_papers(conn, [paper_id for paper_id, _ in page])
        if page:
            vectors.add([p.key for p in papers], embed_papers(engine, embedder, papers))
            position = (page[-1][1], page[-1][0])
            done += len(page)
            if on_progress:
                on_progress("embeddings", done, total)
        if position != state.vector_cursor and (
            not page or time.monotonic() - saved_at > SAVE_VECTORS_EVERY
        ):
            vectors.save()  # the cursor is saved only after the vectors it covers
            state.vector_cursor = position
            state.save(folder)
            saved_at = time.monotonic()
        if not page:
            return done


def load_papers(conn: Connection, paper_ids: Sequence[str]) -> list[IndexedPaper]:
    """The indexed fields of ``paper_ids``, in that order (ids missing from the store are left out)."""
    if not paper_ids:
        return []
    rows = conn.execute(
        select(
            Paper.id, Paper.title, Paper.abstract, Paper.published, Paper.listed_on, Paper.code_url
        ).where(Paper.id.in_(paper_ids))
    ).all()
    authors: dict[str, list[str]] = {}
    for paper_id, name in conn.execute(
        select(PaperAuthor.paper_id, Author.name)
        .join(Author, Author.id == PaperAuthor.author_id)
        .where(PaperAuthor.paper_id.in_(paper_ids), PaperAuthor.hidden.is_(False))
        .order_by(PaperAuthor.paper_id, PaperAuthor.position)
    ):
        authors.setdefault(paper_id, []).append(name)
    categories: dict[str, list[str]] = {}
    for paper_id, category in conn.execute(
        select(PaperCategory.paper_id, PaperCategory.category).where(
            PaperCategory.paper_id.in_(paper_ids)
        )
    ):
        categories.setdefault(paper_id, []).append(category)
    by_id = {
        row.id: IndexedPaper(
            id=row.id,
            title=row.title,
            abstract=row.abstract,
            authors=tuple(authors.get(row.id, ())),
            categories=tuple(categories.get(row.id, ())),
            year=(row.published or row.listed_on).year
            if (row.published or row.listed_on)
            else None,
            has_code=row.code_url is not None,
        )
        for row in rows
    }
    return [by_id[paper_id] for paper_id in paper_ids if paper_id in by_id]


def _pending(engine: Engine, cursor: Cursor | None) -> int:
    with engine.connect() as conn:
        return count_changed_since(conn, cursor)


def _new_generation(home: Path) -> Path:
    root = search_root(home)
    root.mkdir(parents=True, exist_ok=True)
    folder = root / f"generation-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S-%f}"
    folder.mkdir()
    return folder


def _switch(home: Path, folder: Path) -> None:
    """Point ``current`` at ``folder`` in one rename, so readers see the old or the new, never none."""
    root = search_root(home)
    partial = root / "current.partial"
    partial.unlink(missing_ok=True)
    partial.symlink_to(folder.name)
    os.replace(partial, root / "current")


def _late_check(folder: Path) -> dt.datetime | None:
    path = folder / LATE_CHECK_FILE
    return dt.datetime.fromisoformat(path.read_text()) if path.exists() else None


def _cursor(raw: list[str] | None) -> Cursor | None:
    return (dt.datetime.fromisoformat(raw[0]), raw[1]) if raw else None


def _raw_cursor(cursor: Cursor | None) -> list[str] | None:
    return [cursor[0].isoformat(), cursor[1]] if cursor else None
