"""The vector index on its own: a small index answers exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from paperfeed.search.vectors import EXACT_UP_TO, VectorIndex


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
