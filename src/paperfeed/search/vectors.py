"""The vector index: usearch HNSW over paper embeddings, cosine similarity, saved to one file.

The indexer loads it writable and saves it whole (to a temporary file, then renamed, so a
reader never sees half a file). Servers open it as a memory-mapped view: every worker process
on a machine shares one copy of the pages.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from usearch.index import Index
from usearch.index import search as exact_search

FILE_NAME = "vectors.usearch"


@dataclass(frozen=True, slots=True)
class VectorHit:
    key: int
    similarity: float


class WrongDimensions(ValueError):
    """A query vector's size is not the index's: it was made by another model."""


def check_query(vector: NDArray[np.float32], ndim: int) -> None:
    """Refuse a query vector that is not one vector of ``ndim`` numbers (usearch would read
    past it, or compare unrelated spaces)."""
    if np.shape(vector) != (ndim,):
        raise WrongDimensions(
            f"a query vector of shape {np.shape(vector)} cannot search an index of "
            f"{ndim}-dimensional vectors: it was embedded by another model"
        )


EXPANSION_ADD = 128

#: Indexes of up to this many vectors are searched exhaustively (about 0.7 ms at 20,000).
EXACT_UP_TO = 20_000


class VectorIndex:
    """Vectors of ``ndim`` dimensions stored as ``dtype`` ("i8" or "f16"), keyed by paper key."""

    def __init__(
        self,
        folder: Path,
        ndim: int,
        dtype: str = "i8",
        *,
        view: bool = False,
        expansion_add: int = EXPANSION_ADD,
    ) -> None:
        """``expansion_add``: how wide a search places each added vector in the graph (wider:
        better neighbours, slower adds)."""
        self.file = folder / FILE_NAME
        self.ndim, self.dtype = ndim, dtype
        self.index = Index(
            ndim=ndim,
            metric="cos",
            dtype=dtype,
            connectivity=16,
            expansion_add=expansion_add,
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
        present = key_array[np.asarray(self.index.contains(key_array), dtype=bool)]
        if len(present):
            self.index.remove(present)
        self.index.add(key_array, vectors)

    def remove(self, keys: Sequence[int]) -> int:
        """Remove the vectors of ``keys`` that are stored; returns how many were."""
        present = [key for key in keys if key in self.index]
        if present:
            self.index.remove(np.asarray(present, dtype=np.uint64))
        return len(present)

    def search(self, vector: NDArray[np.float32], limit: int) -> list[VectorHit]:
        check_query(vector, self.ndim)
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
        check_query(vector, self.ndim)
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

    def close(self) -> None:
        """Free the index's memory now (a million vectors' graph is about 1 GB), rather than
        whenever the last reference goes; the object is empty afterwards."""
        self.index.reset()  # type: ignore[no-untyped-call]  # (usearch has no hints for it)


def build_graph(
    index: VectorIndex,
    keys: NDArray[np.uint64],
    rows: NDArray[np.float16],
    *,
    threads: int | None = None,
) -> None:
    """Add ``rows`` (unique ``keys``, none in ``index`` yet) to a graph in one call, on every
    core (or ``threads``): usearch inserts them in parallel."""
    index.index.add(keys, rows, threads=threads or os.cpu_count() or 1)


FLAT_FOLDER = "flat"
#: Vectors added to a graph per call while building it from flat chunks (a stop is seen
#: between two calls: each takes seconds).
BUILD_PIECE = 10_000


class BuildStopped(RuntimeError):
    """A graph's build was asked to stop (the index update around it failed)."""


class FlatVectors:
    """Vectors read from the store while a new node's HNSW graph is still being built: chunk
    files of keys and float16 rows, searched exactly (brute force, usearch's SIMD kernels).

    Exact search over a million vectors takes a fraction of a second: slower than HNSW, but
    it lets a node answer by meaning minutes after it starts instead of after the build.
    Chunks are written whole under a temporary name and renamed, so a reader sees whole ones.
    """

    def __init__(self, folder: Path, ndim: int) -> None:
        self.folder = folder / FLAT_FOLDER
        self.ndim = ndim
        self.chunks: list[tuple[NDArray[np.uint64], NDArray[np.float16]]] = []
        names = sorted(self.folder.glob("*.keys.npy")) if self.folder.is_dir() else []
        for name in names:
            rows = name.with_name(name.name.replace(".keys.npy", ".rows.npy"))
            if rows.exists():
                self.chunks.append((np.load(name), np.load(rows, mmap_mode="r")))
        keys = [keys for keys, _ in self.chunks]
        self._keys = np.concatenate(keys) if keys else np.zeros(0, dtype=np.uint64)
        self._order = np.argsort(self._keys, kind="stable")

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def keys(self) -> NDArray[np.uint64]:
        return self._keys

    @staticmethod
    def exists(folder: Path) -> bool:
        return (folder / FLAT_FOLDER).is_dir()

    def append(self, keys: Sequence[int], rows: NDArray[np.float16]) -> None:
        self.folder.mkdir(exist_ok=True)
        number = f"{len(self.chunks):06d}"
        key_array = np.asarray(keys, dtype=np.uint64)
        for suffix, array in (("rows", rows), ("keys", key_array)):  # keys last: they mark it whole
            partial = self.folder / f"{number}.{suffix}.partial.npy"
            np.save(partial, array)
            os.replace(partial, self.folder / f"{number}.{suffix}.npy")
        self.chunks.append((key_array, rows))

    def search(self, vector: NDArray[np.float32], limit: int) -> list[VectorHit]:
        check_query(vector, self.ndim)
        query = np.asarray(vector, dtype=np.float16)
        found: dict[int, float] = {}
        for keys, rows in self.chunks:
            matches = exact_search(rows, query, min(limit, len(keys)), metric="cos", exact=True)
            for row, distance in zip(matches.keys, matches.distances, strict=True):
                key = int(keys[int(row)])
                # A paper whose vector changed while the node was reading sits in two chunks:
                # the later chunk holds the current one.
                found[key] = 1.0 - float(distance)
        ranked = sorted(found.items(), key=lambda item: -item[1])[:limit]
        return [VectorHit(key, similarity) for key, similarity in ranked]

    def vectors(self, keys: Sequence[int]) -> NDArray[np.float32]:
        out = np.full((len(keys), self.ndim), np.nan, dtype=np.float32)
        if not len(self._keys):
            return out
        offsets = np.cumsum([0] + [len(k) for k, _ in self.chunks])
        for row, key in enumerate(keys):
            at = np.searchsorted(self._keys[self._order], np.uint64(key))
            if at < len(self._keys) and self._keys[self._order[at]] == key:
                position = int(self._order[at])
                chunk = int(np.searchsorted(offsets, position, side="right")) - 1
                out[row] = self.chunks[chunk][1][position - offsets[chunk]]
        return out

    def exact_search(
        self, vector: NDArray[np.float32], keys: Sequence[int], limit: int
    ) -> list[VectorHit]:
        check_query(vector, self.ndim)
        matrix = self.vectors(keys)
        present = [not bool(np.isnan(row).any()) for row in matrix]
        kept = [key for key, there in zip(keys, present, strict=True) if there]
        matrix = matrix[np.asarray(present, dtype=bool)]
        if not kept:
            return []
        norms = np.linalg.norm(matrix, axis=1) * float(np.linalg.norm(vector)) + 1e-12
        scores = matrix @ vector / norms
        return [VectorHit(kept[i], float(scores[i])) for i in np.argsort(-scores)[:limit]]

    def build(
        self,
        index: VectorIndex,
        stop: threading.Event | None = None,
        threads: Callable[[], int] | None = None,
    ) -> None:
        """Add every chunk to ``index`` (later chunks replace earlier vectors of a key), a
        piece at a time so that ``stop`` ends it within seconds; each piece on ``threads()``
        threads (default: every core)."""
        for keys, mapped in self.chunks:
            # A chunk's rows are read whole, not through the memory map: pages read through a
            # map stay counted in the process's RSS until it is closed, and a build reads
            # every chunk (0.77 GB of a million vectors, besides the graph's own copy).
            file = mapped.filename if isinstance(mapped, np.memmap) else None
            rows = np.load(file) if file is not None else mapped
            for start in range(0, len(keys), BUILD_PIECE):
                if stop is not None and stop.is_set():
                    raise BuildStopped("the graph's build was stopped")
                piece = keys[start : start + BUILD_PIECE]
                matrix = np.asarray(rows[start : start + BUILD_PIECE])
                if np.any(index.index.contains(piece)):  # a paper re-embedded while it was read
                    index.add([int(k) for k in piece], matrix.astype(np.float32))
                else:
                    build_graph(index, piece, matrix, threads=threads() if threads else None)

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class GraphBuild:
    """The HNSW graph built from a joining node's flat chunks on a thread of its own, while
    the caller goes on (fills the keyword index: the two together take about as long as the
    longer one, not the sum); searches answer from the chunks until the graph is saved.
    usearch releases the GIL while it adds, so the caller's Python keeps running."""

    def __init__(self, folder: Path, ndim: int, dtype: str) -> None:
        self.flat = FlatVectors(folder, ndim)
        self.index = VectorIndex(folder, ndim, dtype)
        self._stop = threading.Event()
        self._caller_done = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="paperfeed-graph", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.flat.build(self.index, self._stop, self._threads)
        except BaseException as error:  # handed to the caller by finish()
            self._error = error

    def _threads(self) -> int:
        """One core fewer than the machine's while the caller works (it keeps one busy: the
        keyword index), every core once it waits in :meth:`finish`."""
        cores = os.cpu_count() or 1
        return cores if self._caller_done.is_set() else max(1, cores - 1)

    def finish(self) -> VectorIndex:
        """The built graph (not saved yet), once the build is done; its error, if it failed."""
        self._caller_done.set()
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self.index

    def cancel(self) -> None:
        """Stop the build (within one piece) and wait for the thread."""
        self._stop.set()
        self._thread.join()


def open_for_search(folder: Path, ndim: int) -> VectorIndex | FlatVectors:
    """What a searcher reads: the HNSW graph once built (memory-mapped), else the flat chunks
    a joining node has read so far."""
    if not (folder / FILE_NAME).exists() and FlatVectors.exists(folder):
        return FlatVectors(folder, ndim)
    return VectorIndex(folder, ndim, "f16", view=True)
