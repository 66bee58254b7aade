"""Is the search index consistent with the store? ``paperfeed check`` asks this after a crash.

Every paper the store holds must be in the keyword index, and every stored vector (once the
index's vector cursor has passed it) in the vector index; nothing else may be in them. Papers
that changed after the index's cursors are *pending*, not missing: the indexer has yet to reach
them; papers no worker has embedded yet are *waiting*. Whatever else differs is reported; ``paperfeed
index --rebuild`` repairs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tantivy
from sqlalchemy import Engine, func, select

from paperfeed.models import Paper, PaperVector
from paperfeed.search.documents import paper_key
from paperfeed.search.indexer import VECTOR_DTYPE, Cursor, IndexState, current_generation
from paperfeed.search.lexical import KeywordIndex
from paperfeed.search.vectors import FILE_NAME, FlatVectors, VectorIndex
from paperfeed.store.papers import deleted_since
from paperfeed.wording import count

SHOWN = 10
#: Deletions read to tell pending ones from damage; beyond this many, the rest count as damage
#: (a rebuild is then as quick as catching up).
MAX_PENDING_DELETIONS = 100_000


@dataclass(slots=True)
class CheckReport:
    papers: int = 0
    pending_keyword: int = 0
    pending_vectors: int = 0
    #: Deleted from the store after the indexer's deletion cursor: still in the indexes, and
    #: the next ``paperfeed index`` drops them (no rebuild needed).
    pending_deletions: list[str] = field(default_factory=list)
    waiting_vectors: int = 0  # papers no worker has embedded yet
    missing_keyword: list[str] = field(default_factory=list)
    extra_keyword: list[str] = field(default_factory=list)
    missing_vectors: list[str] = field(default_factory=list)
    extra_vectors: int = 0
    problems: list[str] = field(default_factory=list)
    no_index: bool = False  # nothing is built yet: `paperfeed index` builds it, no repair needed

    @property
    def pending(self) -> bool:
        return bool(self.pending_keyword or self.pending_vectors or self.pending_deletions)

    @property
    def consistent(self) -> bool:
        return not (
            self.missing_keyword or self.extra_keyword or self.missing_vectors
            or self.extra_vectors or self.problems
        )  # fmt: skip


def check(engine: Engine, home: Path, dimensions: int) -> CheckReport:
    report = CheckReport()
    folder = current_generation(home)
    if folder is None:
        with engine.connect() as conn:
            report.papers = int(conn.scalar(select(func.count()).select_from(Paper)) or 0)
        report.no_index = True
        return report
    state = IndexState.load(folder)
    dimensions = state.dimensions or dimensions  # (during a switch of models: the old model's)
    with engine.connect() as conn:
        rows = conn.execute(select(Paper.id, Paper.updated_at)).all()
        deleted = deleted_since(conn, state.deletion_cursor, MAX_PENDING_DELETIONS)
        vector_rows = conn.execute(
            select(PaperVector.paper_id, PaperVector.created_at).where(
                PaperVector.model == (state.embedder or "")
            )
        ).all()
    report.papers = len(rows)
    stored = {paper_id for paper_id, _ in rows}
    report.pending_deletions = sorted({paper_id for paper_id, _ in deleted} - stored)
    known = stored | set(report.pending_deletions)
    keyword_seen = _behind(rows, state.keyword_cursor)
    # The vector index follows the store's vectors (written by workers) by their own cursor.
    vector_seen = _behind(vector_rows, state.vector_cursor)
    report.pending_keyword = len(stored) - len(keyword_seen)
    report.pending_vectors = len(vector_rows) - len(vector_seen)
    report.waiting_vectors = len(stored) - len(vector_rows)
    try:
        indexed = _keyword_ids(KeywordIndex(folder / "keyword"))
    except (ValueError, OSError) as error:
        report.problems.append(f"the keyword index cannot be read ({error})")
        indexed = set()
    report.missing_keyword = sorted(keyword_seen - indexed)
    report.extra_keyword = sorted(indexed - known)
    joining = not (folder / FILE_NAME).exists() and FlatVectors.exists(folder)
    if (folder / FILE_NAME).exists() or joining:
        try:
            if joining:  # (a node reading the store's vectors before it builds its graph)
                keys = {int(k) for k in FlatVectors(folder, dimensions).keys}
            else:
                vectors = VectorIndex(folder, dimensions, VECTOR_DTYPE, view=True)
                keys = {int(k) for k in np.asarray(vectors.index.keys)}
        except (ValueError, RuntimeError, OSError) as error:
            report.problems.append(f"the vector index cannot be read ({error})")
            keys = set()
        report.missing_vectors = sorted(p for p in vector_seen if paper_key(p) not in keys)
        report.extra_vectors = len(keys - {paper_key(p) for p in known})
    elif vector_seen:
        report.problems.append("the vector index file is missing")
    return report


def pending_in_words(report: CheckReport) -> str:
    """What the indexer has yet to do, as a sentence (``paperfeed check`` prints it)."""
    todo = [
        f"{count(report.pending_keyword, 'paper')} to add to keyword search"
        if report.pending_keyword else "",
        f"{count(report.pending_vectors, 'stored vector')} to add to semantic search"
        if report.pending_vectors else "",
        f"{count(report.waiting_vectors, 'paper')} to embed (`paperfeed embed`)"
        if report.waiting_vectors else "",
        f"{count(len(report.pending_deletions), 'deleted paper')} to drop"
        if report.pending_deletions else "",
    ]  # fmt: skip
    todo = [item for item in todo if item]
    if not todo:
        return "The indexer has caught up with it."
    return "Waiting for `paperfeed index`: " + ", ".join(todo) + "."


def _behind(rows: Sequence[Any], cursor: Cursor | None) -> set[str]:
    """The papers at or before the cursor: the ones the index must have by now."""
    if cursor is None:
        return set()
    when, last_id = cursor
    when = when.replace(tzinfo=None)
    return {
        paper_id for paper_id, updated in rows
        if (updated.replace(tzinfo=None), paper_id) <= (when, last_id)
    }  # fmt: skip


def _keyword_ids(index: KeywordIndex) -> set[str]:
    searcher = index.index.searcher()
    found = searcher.search(tantivy.Query.all_query(), max(searcher.num_docs, 1))
    return {searcher.doc(address)["id"][0] for _, address in found.hits}
