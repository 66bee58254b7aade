"""``check``: the index against the store, on SQLite and PostgreSQL. Consistent after indexing;
papers the indexer has yet to reach are pending, not missing; a paper removed behind the index's
back, or one that slipped in behind its cursor, is reported; a rebuild repairs both; an
unreadable index is reported, not a crash."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from sqlalchemy import Engine, delete, insert, select, update

from paperfeed.models import Paper, PaperAuthor, PaperCategory, PaperSource, PaperVector
from paperfeed.search import indexer
from paperfeed.search.check import check
from paperfeed.search.embedder import HashingEmbedder
from paperfeed.store.engine import write_transaction
from paperfeed.store.vectors import encode

DIMENSIONS = HashingEmbedder().dimensions


def test_check_finds_what_differs_and_a_rebuild_repairs_it(
    engine: Engine, indexed_home: Path
) -> None:
    report = check(engine, indexed_home, DIMENSIONS)
    assert report.consistent and report.papers == 300 and report.pending_keyword == 0

    with write_transaction(engine) as conn:
        first, second = conn.scalars(select(Paper.id).order_by(Paper.id).limit(2)).all()
        for table in (PaperAuthor, PaperCategory, PaperSource):  # gone without a tombstone
            conn.execute(delete(table).where(table.paper_id == first))
        conn.execute(delete(Paper).where(Paper.id == first))
        conn.execute(
            update(Paper).where(Paper.id == second).values(updated_at=dt.datetime.now(dt.UTC))
        )
        old = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # committed later with an earlier time:
        conn.execute(insert(Paper).values(id="9999.99999", title="Slipped in", abstract="",
                                          created_at=old, updated_at=old))  # fmt: skip
        conn.execute(insert(PaperVector).values(
            paper_id="9999.99999", model="hashing", dimensions=DIMENSIONS,
            vector=encode(HashingEmbedder().embed_query("Slipped in")), text_hash="",
            paper_updated_at=old, created_at=old,
        ))  # fmt: skip
    report = check(engine, indexed_home, DIMENSIONS)
    assert not report.consistent
    assert report.extra_keyword == [first] and report.extra_vectors == 1
    assert report.missing_keyword == ["9999.99999"] and report.missing_vectors == ["9999.99999"]
    assert report.pending_keyword == 1  # `second`: not yet reached
    assert report.pending_vectors == 0 and report.waiting_vectors == 0

    indexer.rebuild(engine, indexed_home, HashingEmbedder())
    assert check(engine, indexed_home, DIMENSIONS).consistent

    folder = indexer.current_generation(indexed_home)
    assert folder is not None
    shutil.rmtree(folder / "keyword")
    (folder / "keyword").mkdir()
    (folder / "keyword" / "meta.json").write_text("{not json")
    broken = check(engine, indexed_home, DIMENSIONS)
    assert not broken.consistent and "cannot be read" in broken.problems[0]


def test_a_late_commit_behind_the_cursor_is_caught_by_the_follower(
    engine: Engine, indexed_home: Path
) -> None:
    folder = indexer.current_generation(indexed_home)
    assert folder is not None
    cursor_time = indexer.IndexState.load(folder).keyword_cursor[0]  # type: ignore[index]
    late = cursor_time - dt.timedelta(seconds=5)  # took its time before the last indexed change
    with write_transaction(engine) as conn:
        conn.execute(insert(Paper).values(id="9999.00001", title="Late arrivals in distributed ledgers",
                                          abstract="A commit that lands behind the cursor.",
                                          created_at=late, updated_at=late))  # fmt: skip
    assert check(engine, indexed_home, DIMENSIONS).missing_keyword == ["9999.00001"]
    report = indexer.update(engine, indexed_home, HashingEmbedder())
    assert report.keyword_papers == 1
    assert check(engine, indexed_home, DIMENSIONS).consistent
    assert indexer.update(engine, indexed_home, HashingEmbedder()).keyword_papers == 0  # once
