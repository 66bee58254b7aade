"""Switching models: the index keeps searching the old model's vectors (queries embedded by
the old model) until the new model's vectors cover the store, then switches to a generation
built from them; a query vector of another model or size is refused, never searched."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine

from paperfeed.ingest import ingest_file
from paperfeed.search import indexer
from paperfeed.search.check import check
from paperfeed.search.embedder import HashingEmbedder, UnknownModel, load_model, model_named
from paperfeed.search.hybrid import ModelMismatch, PaperSearch
from paperfeed.search.vectors import WrongDimensions
from paperfeed.search.workers import embed_backlog
from paperfeed.store.vectors import papers_lacking
from tests.conftest import FIXTURES

PAPERS = FIXTURES / "arxiv-more-1-head300.jsonl"
QUERIES = ["hand gesture recognition", "graph neural networks", "protein structure"]
OLD, NEW = HashingEmbedder(), HashingEmbedder(64)


def semantic(home: Path, embedder: HashingEmbedder) -> list[list[str]]:
    search = PaperSearch(home, embedder)
    return [
        [hit.id for hit in search.search(q, mode="semantic", limit=20, snippets=False).hits]
        for q in QUERIES
    ]


def embed_some(engine: Engine, embedder: HashingEmbedder, batches: int) -> None:
    """A worker that stops after ``batches`` batches of 50."""
    stop, done = threading.Event(), [0]

    def count(*_: int) -> None:
        done[0] += 1
        if done[0] >= batches:
            stop.set()

    embed_backlog(engine, embedder, batch=50, on_progress=count, stop=stop)


def test_the_old_vectors_serve_until_the_new_ones_cover_the_store(
    engine: Engine, tmp_path: Path
) -> None:
    ingest_file(engine, "arxiv-snapshot", PAPERS)
    home = tmp_path / "node"
    indexer.update(engine, home, OLD)  # embeds with the old model, then indexes
    before = semantic(home, OLD)
    assert all(before)
    first = indexer.current_generation(home)

    report = indexer.update(engine, home, NEW, embed=False)  # the node now wants NEW
    assert (report.switching_from, report.switch_waiting, report.switched) == (OLD.name, 300, False)
    embed_some(engine, NEW, 2)
    report = indexer.follow_if_free(engine, home, NEW)
    assert report is not None and report.switch_waiting == 200 and not report.switched
    assert indexer.current_generation(home) == first
    assert indexer.serving_model_name(home) == OLD.name
    assert semantic(home, OLD) == before  # still the old model's vectors, old-model queries
    with pytest.raises(ModelMismatch, match="cannot search it"):
        PaperSearch(home, NEW)
    assert check(engine, home, NEW.dimensions).consistent  # the old index, read at its own size

    embed_backlog(engine, NEW)
    with engine.connect() as conn:
        assert papers_lacking(conn, NEW.name) == 0
    report = indexer.follow_if_free(engine, home, NEW)
    assert report is not None and report.switched and report.switching_from == OLD.name
    assert indexer.current_generation(home) != first and not first.exists()
    assert indexer.serving_model_name(home) == NEW.name
    reference = tmp_path / "reference"  # a node built from NEW's vectors from the start
    indexer.rebuild(engine, reference, NEW, embed=False)
    after = semantic(home, NEW)
    assert after == semantic(reference, NEW) and after != before
    with pytest.raises(ModelMismatch):
        PaperSearch(home, OLD)
    assert indexer.follow_if_free(engine, home, NEW).switching_from is None  # type: ignore[union-attr]


def test_a_query_vector_of_another_size_is_refused(engine: Engine, tmp_path: Path) -> None:
    ingest_file(engine, "arxiv-snapshot", PAPERS)
    indexer.update(engine, tmp_path, NEW)
    search = PaperSearch(tmp_path, NEW)
    assert search.vectors is not None
    for wrong in (np.ones(384, dtype=np.float32), np.ones((1, 64), dtype=np.float32)):
        with pytest.raises(WrongDimensions, match="another model"):
            search.vectors.search(wrong, 10)
        with pytest.raises(WrongDimensions):
            search.vectors.exact_search(wrong, [1, 2], 10)
    # An embedder of the same size but another name is refused too (its space differs).
    with pytest.raises(ModelMismatch, match="hashing-64"):
        PaperSearch(tmp_path, HashingEmbedder(64, name="other-64"))
    search.embedder = HashingEmbedder(64, name="other-64")  # swapped under a searcher
    with pytest.raises(ModelMismatch):
        search.search("gesture recognition", mode="semantic")


def test_models_by_name() -> None:
    assert model_named("all-MiniLM-L6-v2-int8").dimensions == 384
    assert model_named("all-MiniLM-L6-v2").dimensions == 384
    assert model_named("hashing-64").dimensions == 64
    assert load_model("hashing-64", Path("unused")).name == "hashing-64"
    for wrong in ("hashing-0", "hashing-x", "bert", "hashing-100000"):
        with pytest.raises(UnknownModel, match="all-MiniLM-L6-v2-int8"):
            model_named(wrong)
