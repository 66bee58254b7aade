"""A node joining a store that holds the vectors, on SQLite and PostgreSQL: it reads the stored
vectors before its keyword index, so semantic search answers (exactly, from flat chunks) while
the keyword index is still filling; the HNSW graph built from the chunks then ranks as the exact
search did; papers deleted and vectors rewritten during the join are followed afterwards."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine

from paperfeed.ingest import ingest_file
from paperfeed.search import indexer, vectors
from paperfeed.search.documents import paper_key
from paperfeed.search.embedder import Embedder, HashingEmbedder, MiniLMEmbedder
from paperfeed.search.hybrid import PaperSearch
from paperfeed.search.vectors import FILE_NAME, FlatVectors, VectorIndex
from paperfeed.search.workers import embed_backlog
from paperfeed.store.engine import write_transaction
from paperfeed.store.papers import delete_papers
from paperfeed.store.vectors import vectors_since
from tests.conftest import FIXTURES

PAPERS = FIXTURES / "arxiv-more-1-head300.jsonl"
QUERIES = ["hand gesture recognition", "graph neural networks", "protein structure", "speech"]
MODEL = HashingEmbedder()
TOLERANCE = 2e-3  # float16 rows and queries against float32 arithmetic


@pytest.fixture
def small_pages(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """300 papers; small pages, so a join reads several chunks of vectors and the keyword
    index fills in several steps."""
    ingest_file(engine, "arxiv-snapshot", PAPERS)
    monkeypatch.setattr(indexer, "KEYWORD_PAGE", 40)
    monkeypatch.setattr(indexer, "JOIN_PAGE", 100)
    return engine


@pytest.fixture
def embedded(small_pages: Engine) -> Engine:
    """... each with its vector stored by a worker (the hashing stand-in)."""
    embed_backlog(small_pages, MODEL)
    return small_pages


def exact(engine: Engine, query: str, among: set[str], model: Embedder = MODEL) -> dict[str, float]:
    """Every paper of ``among`` by its cosine with ``query``, from the store's vectors."""
    with engine.connect() as conn:
        rows = vectors_since(conn, model.name, model.dimensions, None, 10_000)
    vector = model.embed_query(query)
    return {
        row.paper_id: float(
            np.dot(row.vector.astype(np.float32), vector)
            / (np.linalg.norm(row.vector.astype(np.float32)) * np.linalg.norm(vector))
        )
        for row in rows
        if row.paper_id in among
    }


def assert_ranked_as_exact(hits: list[tuple[str, float]], truth: dict[str, float], k: int) -> None:
    """``hits`` are the ``k`` best of ``truth`` (ties within the tolerance may swap), each
    with its exact cosine."""
    assert len(hits) == min(k, len(truth))
    for paper_id, similarity in hits:
        assert similarity == pytest.approx(truth[paper_id], abs=TOLERANCE)
    left_out = [s for paper_id, s in truth.items() if paper_id not in dict(hits)]
    if left_out:
        assert min(truth[p] for p, _ in hits) >= max(left_out) - TOLERANCE


def test_semantic_search_answers_from_stored_vectors_while_the_keyword_index_fills(
    embedded: Engine, tmp_path: Path
) -> None:
    home = tmp_path / "node"
    seen: list[tuple[int, int, int, list[str]]] = []

    def watch(stage: str, done: int, total: int) -> None:
        if stage != "keyword index" or done >= total:
            return
        search = PaperSearch(home, MODEL)
        assert isinstance(search.vectors, FlatVectors) and len(search.vectors) == 300
        indexed = in_keyword_index(search, embedded)
        hits = search.search(QUERIES[1], mode="semantic", limit=300, snippets=False).hits
        assert {hit.id for hit in hits} == indexed  # every paper it can show, by meaning
        assert_ranked_as_exact(
            [(h.id, h.score) for h in hits][:10], exact(embedded, QUERIES[1], indexed), 10
        )
        seen.append((done, search.keyword.count(), len(hits), [h.id for h in hits]))

    indexer.update(embedded, home, MODEL, watch, embed=False)

    assert seen, "the keyword index was never seen filling"
    done, in_keyword, found, _ = seen[0]
    assert done == in_keyword == found == 40  # one page of the keyword index, of 300 papers
    folder = indexer.current_generation(home)
    assert folder is not None
    assert (folder / FILE_NAME).exists() and not FlatVectors.exists(folder)


def test_the_graph_ranks_as_the_exact_search_it_replaces(
    small_pages: Engine, minilm: MiniLMEmbedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the real model's vectors (an HNSW graph of the hashing stand-in's sparse vectors
    is a poor one: many of them share no word, and their graph does not connect them)."""
    embed_backlog(small_pages, minilm)
    home = tmp_path / "node"
    before: dict[str, list[tuple[str, float]]] = {}

    def watch(stage: str, done: int, total: int) -> None:
        if stage == "keyword index" and done == total:  # every paper in; the graph is next
            search = PaperSearch(home, minilm, floor=False)
            assert isinstance(search.vectors, FlatVectors)
            for query in QUERIES:
                hits = search.search(query, mode="semantic", limit=10, snippets=False).hits
                before[query] = [(hit.id, hit.score) for hit in hits]

    indexer.update(small_pages, home, minilm, watch, embed=False)

    monkeypatch.setattr(vectors, "EXACT_UP_TO", 0)  # search the graph, not exhaustively
    search = PaperSearch(home, minilm, floor=False)
    assert isinstance(search.vectors, VectorIndex) and len(search.vectors) == 300
    assert set(before) == set(QUERIES)
    for query in QUERIES:
        hits = search.search(query, mode="semantic", snippets=False).hits
        after = [(hit.id, hit.score) for hit in hits]
        truth = exact(small_pages, query, _all_ids(small_pages, minilm), minilm)
        assert_ranked_as_exact(before[query], truth, 10)
        assert_ranked_as_exact(after, truth, 10)


def test_papers_deleted_and_vectors_rewritten_during_the_join_are_followed(
    embedded: Engine, tmp_path: Path
) -> None:
    home = tmp_path / "node"
    ids = sorted(_all_ids(embedded))
    gone, changed = ids[0], ids[1]
    acted: list[bool] = []

    def meanwhile(stage: str, done: int, total: int) -> None:
        if stage != "keyword index" or acted:
            return
        acted.append(True)  # the vectors are read; the graph is not built yet
        now = dt.datetime.now(dt.UTC)
        with write_transaction(embedded) as conn:
            delete_papers(conn, [gone], now)
        record = {"id": changed, "title": "Zeolite catalysts",
                  "abstract": "Zeolite catalysis in porous crystals."}  # fmt: skip
        path = tmp_path / "changed.jsonl"
        path.write_text(json.dumps(record) + "\n")
        ingest_file(embedded, "jsonl", path)
        embed_backlog(embedded, MODEL)

    indexer.update(embedded, home, MODEL, meanwhile, embed=False)
    assert acted
    report = indexer.update(embedded, home, MODEL, embed=False)
    assert report.deleted_papers == 1 and report.vector_papers == 1

    folder = indexer.current_generation(home)
    assert folder is not None
    graph = VectorIndex(folder, MODEL.dimensions, "f16", view=True)
    assert len(graph) == 299
    assert np.isnan(graph.vectors([paper_key(gone)])).all()
    stored = MODEL.embed_query("Zeolite catalysts. Zeolite catalysis in porous crystals.")
    held = graph.vectors([paper_key(changed)])[0]
    assert float(np.dot(held, stored)) == pytest.approx(1.0, abs=TOLERANCE)
    search = PaperSearch(home, MODEL)
    hits = search.search("porous crystal catalysis", mode="semantic", limit=5).hits
    assert hits[0].id == changed and gone not in {hit.id for hit in hits}


def _all_ids(engine: Engine, model: Embedder = MODEL) -> set[str]:
    with engine.connect() as conn:
        rows = vectors_since(conn, model.name, model.dimensions, None, 10_000)
    return {row.paper_id for row in rows}


def in_keyword_index(search: PaperSearch, engine: Engine) -> set[str]:
    held = search.keyword.papers([paper_key(paper_id) for paper_id in _all_ids(engine)])
    return {doc["id"][0] for doc in held.values()}


def test_a_join_that_fails_while_filling_the_keyword_index_stops_its_graph_and_starts_again(
    embedded: Engine, tmp_path: Path
) -> None:
    home = tmp_path / "node"

    def failing(stage: str, done: int, total: int) -> None:
        if stage == "keyword index":
            raise OSError("disk full")  # as if the keyword index could not be written

    with pytest.raises(OSError, match="disk full"):
        indexer.update(embedded, home, MODEL, failing, embed=False)
    assert not [t for t in threading.enumerate() if t.name == "paperfeed-graph"]
    folder = indexer.current_generation(home)
    assert folder is not None and not (folder / FILE_NAME).exists()
    assert isinstance(PaperSearch(home, MODEL).vectors, FlatVectors)  # still answers

    report = indexer.update(embedded, home, MODEL, embed=False)
    assert report.vector_papers == 300 and report.keyword_papers == 260
    assert (folder / FILE_NAME).exists() and not FlatVectors.exists(folder)
    assert len(VectorIndex(folder, MODEL.dimensions, "f16", view=True)) == 300
