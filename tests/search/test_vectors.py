"""The vector index on its own: a small index answers exactly; a graph built from a joining
node's flat chunks holds each paper's latest vector, and its build stops when asked."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from paperfeed.search.vectors import (
    EXACT_UP_TO,
    BuildStopped,
    FlatVectors,
    GraphBuild,
    VectorIndex,
)


def test_a_small_index_is_searched_exhaustively(tmp_path: Path) -> None:
    """Asked for every vector, an approximate (HNSW) search leaves some out; an exact one
    returns them all, best first."""
    rng = np.random.default_rng(7)
    count = min(EXACT_UP_TO, 3_000)
    index = VectorIndex(tmp_path, 64)
    centres = rng.normal(size=(10, 64))  # clustered, as papers are
    vectors = centres[rng.integers(0, 10, count)] + 0.3 * rng.normal(size=(count, 64))
    index.add(list(range(1, count + 1)), vectors.astype(np.float32))

    for query in vectors[:5].astype(np.float32):
        hits = index.search(query, count)

        assert sorted(hit.key for hit in hits) == list(range(1, count + 1))
        similarities = [hit.similarity for hit in hits]
        assert similarities == sorted(similarities, reverse=True)


def flat_chunks(folder: Path, chunks: list[tuple[list[int], np.ndarray]]) -> FlatVectors:
    flat = FlatVectors(folder, 64)
    for keys, rows in chunks:
        flat.append(keys, rows.astype(np.float16))
    return FlatVectors(folder, 64)  # as a builder opens them: from the files


def test_a_graph_built_from_flat_chunks_holds_the_latest_vector_of_each_key(
    tmp_path: Path,
) -> None:
    """A paper re-embedded while a node read the store sits in two chunks: the later wins."""
    rng = np.random.default_rng(3)
    first, second = rng.normal(size=(30_000, 64)), rng.normal(size=(5, 64))
    flat = flat_chunks(tmp_path, [(list(range(30_000)), first), ([7, 30_000, 8, 9, 10], second)])
    build = GraphBuild(tmp_path, 64, "f16")
    graph = build.finish()

    assert len(graph) == 30_001 and len(flat) == 30_005
    held = graph.vectors([7, 30_000, 11])
    expected = np.stack([second[0], second[1], first[11]]).astype(np.float16).astype(np.float32)
    for got, want in zip(held, expected, strict=True):
        assert float(np.dot(got, want) / np.linalg.norm(got) / np.linalg.norm(want)) > 0.999


def test_a_stopped_build_ends_between_pieces(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    flat = flat_chunks(tmp_path, [(list(range(25_000)), rng.normal(size=(25_000, 64)))])
    stop = threading.Event()
    stop.set()
    index = VectorIndex(tmp_path, 64, "f16")
    with pytest.raises(BuildStopped):
        flat.build(index, stop)
    assert len(index) == 0

    build = GraphBuild(tmp_path, 64, "f16")
    build.cancel()  # at once: the thread ends within a piece, not after the whole build
    assert not build._thread.is_alive() and len(build.index) < 25_000


def test_a_graph_build_leaves_a_core_to_its_caller_until_the_caller_waits_for_it(
    tmp_path: Path,
) -> None:
    flat_chunks(tmp_path, [(list(range(100)), np.random.default_rng(9).normal(size=(100, 64)))])
    cores = os.cpu_count() or 1
    build = GraphBuild(tmp_path, 64, "f16")
    assert build._threads() == max(1, cores - 1)  # the keyword index has one meanwhile
    assert len(build.finish()) == 100
    assert build._threads() == cores
