"""The vector index: usearch HNSW over paper embeddings, cosine similarity, saved to one file.

The indexer loads it writable and saves it whole (to a temporary file, then renamed, so a
reader never sees half a file). Servers open it as a memory-mapped view: every worker process
on a machine shares one copy of the pages.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from usearch.index import Index

FILE_NAME = "vectors.usearch"


@dataclass(frozen=True, slots=True)
class VectorHit:
    key: int
    similarity: float


#: Indexes of up to this many vectors are searched exhaustively (about 0.7 ms at 20,000).
EXACT_UP_TO = 20_000


class VectorIndex:
    """Vectors of ``ndim`` dimensions stored as ``dtype`` ("i8" or "f16"), keyed by paper key."""

    def __init__(self, folder: Path, ndim: int, dtype: str = "i8", *, view: bool = False) -> None:
        self.file = folder / FILE_NAME
        self.ndim, self.dtype = ndim, dtype
        self.index = Index(
            ndim=ndim,
            metric="cos",
            dtype=dtype,
            connectivity=16,
            expansion_add=128,
            expansion_search=96,
        )
        if self.file.exists():
            if view:
                self.index.view(str(self.file))
            else:
                self.index.load(str(self.file))

    def __len__(self) -> int:
        return len(self.index)

    def add(self, keys: Sequence[int], vectors: NDArray[np.float32]) -> None:
        """Add or replace the vectors of ``keys``."""
        key_array = np.asarray(keys, dtype=np.uint64)
        present = [key for key in keys if key in self.index]
        if present:
            self.index.remove(np.asarray(present, dtype=np.uint64))
        self.index.add(key_array, vectors)

    def remove(self, keys: Sequence[int]) -> int:
        """Remove the vectors of ``keys`` that are stored; returns how many were."""
        present = [key for key in keys if key in self.index]
        if present:
            self.index.remove(np.asarray(present, dtype=np.uint64))
        return len(present)

    def search(self, vector: NDArray[np.float32], limit: int) -> list[VectorHit]:
        if len(self.index) == 0:
            return []
        # A small index is searched exhaustively: under a millisecond, and exact. (The HNSW graph
        # is built on several threads, so its approximate answers for close neighbours vary
        # from one build to the next; on a small corpus that showed as rankings that moved.)
        exact = len(self.index) <= EXACT_UP_TO
        matches = self.index.search(vector, min(limit, len(self.index)), exact=exact)
        return [
            VectorHit(int(key), 1.0 - float(distance))
            for key, distance in zip(matches.keys, matches.distances, strict=True)
        ]

    def vectors(self, keys: Sequence[int]) -> NDArray[np.float32]:
        """The stored vectors of ``keys`` (rows of NaN for keys not in the index)."""
        out = np.full((len(keys), self.ndim), np.nan, dtype=np.float32)
        if not keys:
            return out
        found = self.index.get(np.asarray(keys, dtype=np.uint64), dtype="f32")
        for row, vector in enumerate(found or ()):  # one array per key, None for a key not stored
            if vector is not None:
                out[row] = np.asarray(vector, dtype=np.float32).reshape(self.ndim)
        return out

    def exact_search(
        self, vector: NDArray[np.float32], keys: Sequence[int], limit: int
    ) -> list[VectorHit]:
        """Brute-force top ``limit`` among ``keys`` only (for filters too narrow for HNSW)."""
        keys = [key for key in keys if key in self.index]
        if not keys:
            return []
        matrix = self.vectors(keys)
        norms = np.linalg.norm(matrix, axis=1) * float(np.linalg.norm(vector)) + 1e-12
        scores = matrix @ vector / norms
        order = np.argsort(-scores)[:limit]
        return [VectorHit(keys[i], float(scores[i])) for i in order]

    def save(self) -> None:
        """Write the index to a temporary file and rename it over the old one."""
        partial = self.file.with_suffix(".partial")
        self.index.save(str(partial))
        os.replace(partial, self.file)
