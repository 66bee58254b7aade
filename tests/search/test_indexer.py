"""The indexer follows the store: new and changed papers only; rebuilds switch atomically."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, text

from paperfeed.ingest import ingest_file
from paperfeed.models import utc
from paperfeed.search import indexer
from paperfeed.search.embedder import HashingEmbedder, MiniLMEmbedder
from paperfeed.search.hybrid import IndexMissing, PaperSearch
from paperfeed.services.cards import load_cards
from paperfeed.store.engine import write_transaction
from paperfeed.store.keyphrases import keyphrases_of
from paperfeed.store.papers import delete_papers
from tests.conftest import FIXTURES


def write(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_update_indexes_only_what_changed(engine: Engine, tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = [
        {"id": "2606.00001", "title": "Graph neural networks for molecules"},
        {"id": "2606.00002", "title": "Sparse attention"},
    ]
    ingest_file(engine, "jsonl", write(tmp_path / "a.jsonl", first))
    assert indexer.update(engine, home, HashingEmbedder()).keyword_papers == 2
    assert indexer.update(engine, home, HashingEmbedder()).keyword_papers == 0

    changed = [
        {"id": "2606.00002", "title": "Sparse attention for protein folding"},
        {"id": "2606.00003", "title": "Protein design"},
    ]
    ingest_file(engine, "jsonl", write(tmp_path / "b.jsonl", changed))
    report = indexer.update(engine, home, HashingEmbedder())

    assert (report.keyword_papers, report.vector_papers) == (2, 2)
    search = PaperSearch(home, HashingEmbedder())
    assert {h.id for h in search.search("protein", mode="keyword").hits} == {
        "2606.00002",
        "2606.00003",
    }
    assert search.keyword.count() == 3
    assert {h.id for h in search.search("protein folding", mode="semantic", limit=3).hits} >= {
        "2606.00002"
    }


def test_deleted_papers_leave_both_indexes_and_come_back_when_imported_again(
    engine: Engine, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    papers = [
        {"id": "2606.00001", "title": "Graph neural networks for molecules"},
        {"id": "2606.00002", "title": "Graph attention for proteins"},
    ]
    ingest_file(engine, "jsonl", write(tmp_path / "a.jsonl", papers))
    indexer.update(engine, home, HashingEmbedder())
    with write_transaction(engine) as conn:
        assert delete_papers(conn, ["2606.00001", "2699.99999"], dt.datetime.now(dt.UTC)) == [
            "2606.00001"
        ]

    report = indexer.update(engine, home, HashingEmbedder())

    assert report.deleted_papers == 1
    search = PaperSearch(home, HashingEmbedder())
    for mode in ("keyword", "semantic", "hybrid"):
        assert [h.id for h in search.search("graph", mode=mode).hits] == ["2606.00002"]  # type: ignore[arg-type]
    assert indexer.update(engine, home, HashingEmbedder()).deleted_papers == 0

    # Deleted, then imported again before the indexer ran: it must end up indexed.
    with write_transaction(engine) as conn:
        delete_papers(conn, ["2606.00002"], dt.datetime.now(dt.UTC))
    ingest_file(engine, "jsonl", write(tmp_path / "b.jsonl", papers[1:]))
    indexer.update(engine, home, HashingEmbedder())
    search = PaperSearch(home, HashingEmbedder())
    assert [h.id for h in search.search("graph", mode="hybrid").hits] == ["2606.00002"]


def test_rebuild_switches_generations_and_a_failed_one_leaves_the_old(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    ingest_file(
        engine, "jsonl", write(tmp_path / "a.jsonl", [{"id": "2606.00001", "title": "Old index"}])
    )
    indexer.update(engine, home, HashingEmbedder())
    old = indexer.current_generation(home)

    def killed(*args: object) -> None:
        raise KeyboardInterrupt  # as if the rebuild were killed while building the graph

    with monkeypatch.context() as patched:
        patched.setattr(indexer.FlatVectors, "build", killed)
        with pytest.raises(KeyboardInterrupt):
            indexer.rebuild(engine, home, HashingEmbedder())
    assert indexer.current_generation(home) == old
    assert [p.name for p in (home / "search").iterdir() if p.name.startswith("generation-")] == [
        old.name
    ]  # type: ignore[union-attr]

    indexer.rebuild(engine, home, HashingEmbedder())
    new = indexer.current_generation(home)
    assert new != old and not old.exists()  # type: ignore[union-attr]
    assert (
        PaperSearch(home, HashingEmbedder()).search("old index", mode="keyword").hits[0].id
        == "2606.00001"
    )


def test_search_without_an_index_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(IndexMissing, match="run `paperfeed index`"):
        PaperSearch(tmp_path, HashingEmbedder())


def test_similar_papers_exclude_the_paper_and_handle_unknown_ids(indexed_home: Path) -> None:
    search = PaperSearch(indexed_home, HashingEmbedder())
    similar = search.similar("1904.11093", limit=5)
    assert len(similar) == 5 and "1904.11093" not in {hit.id for hit in similar}
    assert search.similar("2999.99999") == []
    keys = [0, 1]  # keys no paper has
    assert search.vectors is not None and np.isnan(search.vectors.vectors(keys)).all()


def test_recommend_finds_papers_like_the_positives(
    engine: Engine, tmp_path: Path, minilm: MiniLMEmbedder
) -> None:
    ingest_file(engine, "arxiv-snapshot", FIXTURES / "arxiv-more-1-head300.jsonl")
    indexer.update(engine, tmp_path, minilm)
    search = PaperSearch(tmp_path, minilm)
    gestures = ["1812.06145", "2503.12419"]  # hand-gesture recognition papers

    ids = [hit.id for hit in search.recommend(gestures, limit=10)]

    assert (
        "2503.12485" in ids[:3]
    )  # "Cross-Modal Consistency Learning for Sign Language Recognition"
    assert "2503.12769" in ids  # the third paper of the 300 about gestures
    assert not set(gestures) & set(ids)
    unlike = search.recommend(gestures[:1], negative_ids=["2503.12485"], limit=10)
    assert "2503.12485" not in [hit.id for hit in unlike]
    assert search.recommend([]) == [] and search.recommend(["2999.99999"]) == []


def test_a_change_committed_behind_the_cursor_is_indexed_and_old_cursors_are_left_alone(
    engine: Engine, tmp_path: Path
) -> None:
    """Another writer's transaction stamped its change before the cursor but committed after the
    follower passed it: the follower still finds it, while the cursor is recent. Once it has
    looked after the window that can hold such commits, it stops looking until the cursor moves
    (a busy node otherwise re-read the last minute of an import every few seconds)."""
    home = tmp_path / "home"
    ingest_file(engine, "jsonl", write(tmp_path / "a.jsonl", [
        {"id": "2606.00001", "title": "Graph neural networks for molecules"},
    ]))  # fmt: skip
    indexer.update(engine, home, HashingEmbedder())
    state = indexer.IndexState.load(indexer.current_generation(home))  # type: ignore[arg-type]
    assert state.keyword_cursor is not None and state.late_checked_at is not None
    cursor_time = state.keyword_cursor[0]
    written = (indexer.current_generation(home) / "state.json").stat().st_mtime_ns  # type: ignore[operator]
    indexer.update(engine, home, HashingEmbedder())  # looks again, finds nothing
    assert (indexer.current_generation(home) / "state.json").stat().st_mtime_ns == written  # type: ignore[operator]

    ingest_file(engine, "jsonl", write(tmp_path / "b.jsonl", [
        {"id": "2606.00002", "title": "Zeolite catalysis, committed late"},
    ]))  # fmt: skip
    with write_transaction(engine) as conn:  # stamped 5 s before the cursor, as a slow writer's
        conn.execute(
            text("UPDATE papers SET updated_at = :t WHERE id = '2606.00002'"),
            {"t": cursor_time - dt.timedelta(seconds=5)},
        )
    report = indexer.update(engine, home, HashingEmbedder())
    assert report.keyword_papers == 1
    search = PaperSearch(home, HashingEmbedder())
    assert [h.id for h in search.search("zeolite", mode="keyword").hits] == ["2606.00002"]
    assert [h.id for h in search.search("zeolite catalysis", mode="semantic", limit=1).hits] == [
        "2606.00002"
    ]

    folder = indexer.current_generation(home)
    assert folder is not None
    state = indexer.IndexState.load(folder)
    state.late_checked_at = utc(cursor_time) + indexer.LATE_WINDOW  # looked long after
    state.save(folder)
    ingest_file(engine, "jsonl", write(tmp_path / "c.jsonl", [
        {"id": "2606.00003", "title": "Zeolite catalysis, far too late"},
    ]))  # fmt: skip
    with write_transaction(engine) as conn:
        conn.execute(
            text("UPDATE papers SET updated_at = :t WHERE id = '2606.00003'"),
            {"t": cursor_time - dt.timedelta(seconds=5)},
        )
    assert indexer.update(engine, home, HashingEmbedder()).keyword_papers == 0  # not looked for


def test_indexing_stores_every_embedded_papers_keyphrases(engine: Engine, tmp_path: Path) -> None:
    ingest_file(engine, "arxiv-snapshot", FIXTURES / "arxiv-more-1-head300.jsonl")
    indexer.update(engine, tmp_path / "home", HashingEmbedder())

    with engine.connect() as conn:
        ids = [row[0] for row in conn.execute(text("SELECT id FROM papers"))]
        stored = keyphrases_of(conn, ids)
        cards = load_cards(conn, ids[:3])
    assert set(stored) == set(ids)
    assert all(5 <= len(phrases) <= 10 for phrases in stored.values())
    assert [card.keyphrases for card in cards] == [stored[card.id] for card in cards]
