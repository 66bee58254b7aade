"""Keep the search indexes up to date with the store, from its change cursor.

An index lives in a *generation* folder under ``<data dir>/search/``; the ``current`` link
names the one in use. ``update`` brings the current generation up to date: first the keyword
index (fast, so new papers are findable by their words at once), then the vectors (slow:
embedding), each with its own cursor saved after the work it covers. Deletions come first,
from the store's tombstones with a cursor of their own, so a paper deleted and imported again
ends up indexed. ``rebuild`` builds a new
generation from nothing and switches the link atomically: searches keep using the old one
until then, and a killed rebuild leaves it untouched.

A generation holds one model's vectors (its name and size are in ``state.json``). When the
configured model changes, the current generation keeps following the store with the *old*
model's vectors (and searches keep embedding queries with the old model) while workers embed
the store for the new one; once every paper has a vector by the new model, the next catch-up
builds a new generation from them and switches to it, like a rebuild.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from sqlalchemy import Connection, Engine, select

from paperfeed.models import Author, Paper, PaperAuthor, PaperCategory, utc
from paperfeed.search.documents import IndexedPaper, paper_key
from paperfeed.search.embedder import Embedder, ModelName, UnknownModel, model_named
from paperfeed.search.lexical import KeywordIndex
from paperfeed.search.query import Filters
from paperfeed.search.vectors import FILE_NAME, FlatVectors, GraphBuild, VectorIndex
from paperfeed.search.workers import AnotherWorker, embed_backlog
from paperfeed.store.papers import changed_since, count_changed_since, deleted_since
from paperfeed.store.search_nodes import report_node
from paperfeed.store.vectors import (
    StoredVector,
    WrongModel,
    count_vectors_since,
    papers_lacking,
    vectors_since,
)

KEYWORD_PAGE = 5_000
DELETION_PAGE = 5_000
VECTOR_PAGE = 5_000
JOIN_PAGE = 50_000  # vectors a new node reads per chunk before semantic search sees them
VECTOR_DTYPE = "f16"
LATE_CHECK_FILE = "late-check.txt"
LATE_VECTOR_CHECK_FILE = "late-vector-check.txt"
LATE_WINDOW = dt.timedelta(seconds=60)  # how far back the follower looks for late commits
LATE_LIMIT = 20_000

Progress = Callable[[str, int, int], None]
Cursor = tuple[dt.datetime, str]


class VectorModel(Protocol):
    """What a node needs to know of the model to read its vectors: no weights, no inference."""

    @property
    def name(self) -> str: ...

    @property
    def dimensions(self) -> int: ...


@dataclass(slots=True)
class IndexState:
    """How far each index has followed the store's change cursor, and what built the vectors."""

    keyword_cursor: Cursor | None = None
    vector_cursor: Cursor | None = None
    deletion_cursor: Cursor | None = None
    embedder: str | None = None
    #: The size of the vectors (None in indexes built before it was recorded: the model's).
    dimensions: int | None = None
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
            raw.get("dimensions"),
            _late_check(folder),
        )

    def save(self, folder: Path) -> None:
        raw = {
            "keyword_cursor": _raw_cursor(self.keyword_cursor),
            "vector_cursor": _raw_cursor(self.vector_cursor),
            "deletion_cursor": _raw_cursor(self.deletion_cursor),
            "embedder": self.embedder,
            "dimensions": self.dimensions,
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
    embedded_papers: int = 0  # embedded by this run (as a worker), not read from the store
    #: The model the current generation serves, when it is not the one asked for: a switch is
    #: under way, and this many papers still lack a vector by the new model.
    switching_from: str | None = None
    switch_waiting: int = 0
    #: This run built a generation from the new model's vectors and switched searches to it.
    switched: bool = False


def search_root(home: Path) -> Path:
    return home / "search"


def current_generation(home: Path) -> Path | None:
    link = search_root(home) / "current"
    return link.resolve() if link.exists() else None


def serving_model_name(home: Path) -> str | None:
    """The model whose vectors the current generation holds (None: no index, or no vector yet):
    queries must be embedded by this one, whatever model is configured."""
    folder = current_generation(home)
    return IndexState.load(folder).embedder if folder is not None else None


def covering(engine: Engine, model: str) -> int:
    """Papers in the store that lack a vector by ``model`` (0: its vectors cover the store)."""
    with engine.connect() as conn:
        return papers_lacking(conn, model)


def update(
    engine: Engine,
    home: Path,
    model: VectorModel,
    on_progress: Progress | None = None,
    *,
    embed: bool = True,
) -> UpdateReport:
    """Bring the current generation (created if there is none) up to date with the store.

    With ``embed`` (and ``model`` an :class:`Embedder`), first embed what the store lacks, as
    one more worker; without, only read the vectors workers wrote (a node joining a store).
    One writer at a time per data directory (the command line, or a web node's background
    follower): this waits for the other to finish.
    """
    embedded = _embed_first(engine, model, on_progress) if embed else 0
    with writer_lock(home):
        report = _catch_up(engine, home, model, on_progress)
    report.embedded_papers = embedded
    return report


def _catch_up(
    engine: Engine, home: Path, model: VectorModel, on_progress: Progress | None
) -> UpdateReport:
    """Follow the store in the current generation (the writer lock held); during a switch of
    models, with the old model's vectors until the new model's cover the store, then build a
    generation from the new model's and switch to it."""
    folder = current_generation(home)
    if folder is None:
        folder = _new_generation(home)
        _switch(home, folder)
    serving = _serving_model(folder)
    if serving is None or serving.name == model.name:
        return _follow(engine, folder, model, on_progress)
    waiting = covering(engine, model.name)
    if waiting:
        report = _follow(engine, folder, serving, on_progress)
        report.switching_from, report.switch_waiting = serving.name, waiting
        return report
    report = _build_and_switch(engine, home, model, on_progress)
    report.switching_from, report.switched = serving.name, True
    return report


def _serving_model(folder: Path) -> VectorModel | None:
    """The model of ``folder``'s vectors, with their size (None before its first catch-up)."""
    state = IndexState.load(folder)
    if state.embedder is None:
        return None
    if state.dimensions is not None:
        return ModelName(state.embedder, state.dimensions)
    try:  # an index from before sizes were recorded: the model's own
        return model_named(state.embedder)
    except UnknownModel:
        raise RuntimeError(
            f"this index's vectors were made by {state.embedder}, whose size is unknown: "
            "run `paperfeed index --rebuild`"
        ) from None


def _embed_first(engine: Engine, model: VectorModel, on_progress: Progress | None) -> int:
    if not isinstance(model, Embedder):
        raise TypeError(f"{model.name}: embedding needs the model itself, not only its name")

    def show(done: int, total: int) -> None:
        if on_progress:
            on_progress("embeddings", done, total)

    return embed_backlog(engine, model, on_progress=show).embedded


def damage(home: Path, dimensions: int) -> str | None:
    """What is wrong with the current generation, if it cannot be opened (None when it opens,
    or when there is none yet)."""
    folder = current_generation(home)
    if folder is None:
        return None
    try:
        KeywordIndex(folder / "keyword").count()
        state = IndexState.load(folder)
        VectorIndex(folder, state.dimensions or dimensions, VECTOR_DTYPE, view=True)
    except (OSError, ValueError, RuntimeError) as error:
        return (
            f"{type(error).__name__}: {str(error).splitlines()[0][:300] if str(error) else error!r}"
        )
    return None


def follow_if_free(
    engine: Engine, home: Path, model: VectorModel, *, embed: bool = False
) -> UpdateReport | None:
    """For a web node's background follower: catch up with the store (building the index from
    nothing on a node that has none: reading stored vectors is quick), unless another writer
    is at work (None then). Embeds what the store lacks only when asked (``embed``)."""
    if embed and isinstance(model, Embedder):
        # (SQLite: when another process is embedding, this node reads what it writes)
        with suppress(AnotherWorker):
            embed_backlog(engine, model, wait=False)
    with writer_lock(home, wait=False) as held:
        if not held:
            return None
        return _catch_up(engine, home, model, None)


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
    engine: Engine,
    home: Path,
    model: VectorModel,
    on_progress: Progress | None = None,
    *,
    embed: bool = True,
) -> UpdateReport:
    """Build a new generation from scratch, then switch to it and remove the old one."""
    embedded = _embed_first(engine, model, on_progress) if embed else 0
    with writer_lock(home):
        report = _build_and_switch(engine, home, model, on_progress)
    report.embedded_papers = embedded
    return report


def _build_and_switch(
    engine: Engine, home: Path, model: VectorModel, on_progress: Progress | None
) -> UpdateReport:
    """A new generation built from nothing (the writer lock held), then switched to; the old
    one is removed (open readers keep their mapped files until they close them)."""
    old = current_generation(home)
    folder = _new_generation(home)
    try:
        report = _follow(engine, folder, model, on_progress)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    _switch(home, folder)
    if old is not None and old != folder:
        shutil.rmtree(old, ignore_errors=True)
    return report


def _follow(
    engine: Engine, folder: Path, model: VectorModel, on_progress: Progress | None
) -> UpdateReport:
    state = IndexState.load(folder)
    if state.embedder not in (None, model.name) or state.dimensions not in (
        None,
        model.dimensions,
    ):
        raise WrongModel(
            f"this index holds vectors of {state.embedder} ({state.dimensions} dimensions), "
            f"not of {model.name} ({model.dimensions}): run `paperfeed index --rebuild`"
        )
    state.embedder, state.dimensions = model.name, model.dimensions
    report = UpdateReport()
    report.deleted_papers = _follow_deletions(engine, folder, state, model)
    # A new index (a node joining a store) reads the stored vectors before the keyword
    # index: reading them takes a minute where the keyword index of a large store takes
    # several, and semantic search answers from them (exactly) as soon as they are read.
    # The graph is then built from them on another thread while the keyword index fills.
    joining = not (folder / FILE_NAME).exists()
    started = time.perf_counter()
    graph = None
    if joining:
        report.vector_papers = _read_flat(engine, folder, state, model, on_progress)
        graph = GraphBuild(folder, model.dimensions, VECTOR_DTYPE)
    vector_seconds = time.perf_counter() - started
    started = time.perf_counter()
    try:
        report.keyword_papers = _follow_keywords(engine, folder, state, on_progress)
    except BaseException:
        if graph is not None:
            graph.cancel()
        raise
    report.seconds_keyword = time.perf_counter() - started
    started = time.perf_counter()
    if graph is not None:
        _switch_to_graph(graph, folder, state, on_progress)
    else:
        report.vector_papers = _follow_vectors(engine, folder, state, model, on_progress)
    report.vector_papers += _late_vectors(engine, folder, state, model)
    report.seconds_vectors = vector_seconds + time.perf_counter() - started
    report.keyword_papers += _late_commits(engine, folder, state)
    _report_position(engine, folder, state, report)
    return report


_reported: dict[Path, float] = {}
REPORT_EVERY = 30.0  # seconds: a node's row in the store says it is alive and how far it is


def node_name(home: Path) -> str:
    """This node as ``paperfeed status`` lists it: the machine and the data directory."""
    return f"{socket.gethostname()}:{home.resolve()}"


def _report_position(engine: Engine, folder: Path, state: IndexState, report: UpdateReport) -> None:
    """Tell the store how far this node's index is (when it moved, or now and then)."""
    moved = report.keyword_papers or report.vector_papers or report.deleted_papers
    if not moved and time.monotonic() - _reported.get(folder, -REPORT_EVERY) < REPORT_EVERY:
        return
    home = folder.parent.parent
    report_node(
        engine, node_name(home), state.embedder or "",
        state.keyword_cursor[0] if state.keyword_cursor else None,
        state.vector_cursor[0] if state.vector_cursor else None,
        dt.datetime.now(dt.UTC),
    )  # fmt: skip
    _reported[folder] = time.monotonic()


def _late_commits(engine: Engine, folder: Path, state: IndexState) -> int:
    """Papers whose change committed after the cursor had passed its time.

    The cursor is the application's clock: with several writers (web nodes, syncs) a
    transaction that took its timestamp before another's, and committed after it, lands behind
    a cursor that already moved on. Once caught up, the follower looks again at the last
    :data:`LATE_WINDOW` before its cursor and indexes what the keyword index lacks (at most
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
    if missing:
        with engine.connect() as conn:
            keyword.add(load_papers(conn, missing))
    return len(missing)


def _late_vectors(engine: Engine, folder: Path, state: IndexState, model: VectorModel) -> int:
    """Vectors whose transaction committed after the vector cursor had passed their time (two
    workers, one slower to commit): like :func:`_late_commits`, once the cursor has moved,
    look again at the window behind it for vectors the index lacks or holds differently."""
    if state.vector_cursor is None or not (folder / FILE_NAME).exists():
        return 0
    at = utc(state.vector_cursor[0])
    checked = _read_stamp(folder / LATE_VECTOR_CHECK_FILE)
    if checked is not None and checked >= at + LATE_WINDOW:
        return 0
    _write_stamp(folder / LATE_VECTOR_CHECK_FILE, dt.datetime.now(dt.UTC))
    since = (state.vector_cursor[0] - LATE_WINDOW, "")
    with engine.connect() as conn:
        recent = vectors_since(conn, model.name, model.dimensions, since, LATE_LIMIT)
    if not recent:
        return 0
    # Membership and contents through a memory-mapped view: loading a million vectors
    # writable every few seconds, to find them all present, was most of a busy node's CPU.
    stored = VectorIndex(folder, model.dimensions, VECTOR_DTYPE, view=True)
    held = stored.vectors([paper_key(row.paper_id) for row in recent])
    del stored
    late = [
        row
        for row, vector in zip(recent, held, strict=True)
        if not np.array_equal(vector, np.asarray(row.vector, dtype=np.float32))
    ]
    if late:
        vectors = VectorIndex(folder, model.dimensions, VECTOR_DTYPE)
        _add(vectors, late)
        vectors.save()
    return len(late)


def _add(vectors: VectorIndex, rows: Sequence[StoredVector]) -> None:
    matrix = np.stack([row.vector for row in rows]).astype(np.float32)
    vectors.add([paper_key(row.paper_id) for row in rows], matrix)


def _follow_deletions(engine: Engine, folder: Path, state: IndexState, model: VectorModel) -> int:
    """Drop deleted papers from both indexes (dropping twice is harmless, so a crash is too)."""
    done = 0
    while True:
        with engine.connect() as conn:
            page = deleted_since(conn, state.deletion_cursor, DELETION_PAGE)
        if not page:
            return done
        paper_ids = [paper_id for paper_id, _ in page]
        KeywordIndex(folder / "keyword").delete(paper_ids)
        if (folder / FILE_NAME).exists():
            vectors = VectorIndex(folder, model.dimensions, VECTOR_DTYPE)
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
    model: VectorModel,
    on_progress: Progress | None,
) -> int:
    """Add the vectors written since the cursor to the graph: the model never runs here."""
    with engine.connect() as conn:
        total = count_vectors_since(conn, model.name, state.vector_cursor)
    if not total:  # the usual case for a web node's follower: do not load the vectors at all
        return 0
    vectors, done = VectorIndex(folder, model.dimensions, VECTOR_DTYPE), 0
    while True:
        with engine.connect() as conn:
            page = vectors_since(
                conn, model.name, model.dimensions, state.vector_cursor, VECTOR_PAGE
            )
        if not page:
            return done
        _add(vectors, page)
        vectors.save()  # the cursor is saved only after the vectors it covers
        state.vector_cursor = (page[-1].created_at, page[-1].paper_id)
        state.save(folder)
        done += len(page)
        if on_progress:
            on_progress("vectors", done, total)


def _read_flat(
    engine: Engine,
    folder: Path,
    state: IndexState,
    model: VectorModel,
    on_progress: Progress | None,
) -> int:
    """A new index, first step: read every stored vector into flat chunks (semantic search
    answers from them, exactly, as soon as the first is written). Always from the start: a
    join that died left chunks that the deletions since then have not touched."""
    flat = FlatVectors(folder, model.dimensions)
    if flat.exists(folder):
        flat.remove()
        flat = FlatVectors(folder, model.dimensions)
    with engine.connect() as conn:
        total = count_vectors_since(conn, model.name, None)
    state.vector_cursor, done = None, 0
    while True:
        with engine.connect() as conn:
            page = vectors_since(conn, model.name, model.dimensions, state.vector_cursor, JOIN_PAGE)
        if not page:
            return done
        flat.append([paper_key(row.paper_id) for row in page], np.stack([r.vector for r in page]))
        state.vector_cursor = (page[-1].created_at, page[-1].paper_id)
        state.save(folder)  # searchers reopen and see the new chunk
        done += len(page)
        if on_progress:
            on_progress("vectors (read)", done, total)


def _switch_to_graph(
    graph: GraphBuild, folder: Path, state: IndexState, on_progress: Progress | None
) -> None:
    """A new index, last step: once the HNSW graph is built from the flat chunks, save it
    and switch searches to it (they answered from the chunks meanwhile). Vectors written
    since the chunks were read, and deletions since, are followed by the next update, once
    the graph exists. A crash before the graph is saved starts the join again."""
    vectors = graph.finish()
    built = len(vectors)
    if not built:  # the store holds no vector by this model yet
        graph.flat.remove()
        return
    vectors.save()
    vectors.close()  # searchers map the saved file: the built copy would only double the RSS
    state.save(folder)  # searchers reopen on the graph
    graph.flat.remove()
    if on_progress:
        on_progress("vectors (graph)", built, built)


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
    return _read_stamp(folder / LATE_CHECK_FILE)


def _read_stamp(path: Path) -> dt.datetime | None:
    return dt.datetime.fromisoformat(path.read_text()) if path.exists() else None


def _write_stamp(path: Path, stamp: dt.datetime) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(stamp.isoformat())
    os.replace(partial, path)


def _cursor(raw: list[str] | None) -> Cursor | None:
    return (dt.datetime.fromisoformat(raw[0]), raw[1]) if raw else None


def _raw_cursor(cursor: Cursor | None) -> list[str] | None:
    return [cursor[0].isoformat(), cursor[1]] if cursor else None
