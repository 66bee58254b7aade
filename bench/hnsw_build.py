"""How fast the HNSW graph of a joining node is built, and what a faster build costs in recall.

How the data is made (as ``bench/node_join.py`` makes it): ``--embedded`` real arXiv records of
the shared data folder are embedded by the model; ``--papers`` vectors are each one of those
plus Gaussian noise (sigma 0.02 per dimension, renormalised), rounded to float16 as the store
keeps them. Queries: ``--queries`` real titles of other records cut to 3-8 words, embedded by
the model. The truth is exact cosine search over the same float16 vectors; each way of
building is scored by recall@10 against it (searched as the product searches: the graph
opened as a memory-mapped view, ``VectorIndex.search``).

Ways of building (``--ways``, comma-separated):

- ``chunks``: what a joining node did before 2026-12-07: ``VectorIndex.add`` per 50,000-vector
  chunk (time per chunk printed);
- ``whole``: :func:`paperfeed.search.vectors.build_graph` once, one multi-threaded
  ``Index.add`` of every vector (a joining node now calls it per 10,000 vectors, on a thread
  of its own);
- ``whole-eN``: the same with ``expansion_add`` N instead of the product's;
- ``whole-i8`` (or ``whole-i8-eN``): the same with the graph's vectors stored as int8 (usearch
  scales each unit vector's components to -127…127) instead of the product's float16.

Usage:

    python bench/hnsw_build.py [--papers 1000000] [--embedded 300] [--ways chunks,whole]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

import paperfeed.search  # noqa: F401  (loads ONNX Runtime before usearch)
from paperfeed.search.embedder import MiniLMEmbedder
from paperfeed.search.vectors import EXPANSION_ADD, VectorIndex, build_graph

sys.path.insert(0, str(Path(__file__).parent))
from index_build import real_papers
from search_latency import make_queries

ROOT = Path(__file__).resolve().parents[1]
CHUNK = 50_000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--papers", type=int, default=1_000_000)
    parser.add_argument("--embedded", type=int, default=300)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--ways", default="chunks,whole")
    parser.add_argument("--models", type=Path, default=None, help="a data dir's models/ folder")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; load average at start {os.getloadavg()}")  # fmt: skip
    real = list(real_papers(args.data, args.embedded + 5_000))
    with tempfile.TemporaryDirectory(prefix="paperfeed-hnsw-") as temp:
        embedder = MiniLMEmbedder(args.models or Path(temp) / "models")
        started = time.perf_counter()
        base = embedder.embed_documents([paper.text for paper in real[: args.embedded]])
        print(f"embedded {args.embedded:,} real records in {time.perf_counter() - started:.0f} s")
        queries = np.stack(
            [embedder.embed_query(q) for q in make_queries(real[args.embedded :], args.queries)]
        )
        matrix = noisy_copies(base, args.papers)
        print(f"data: {args.papers:,} float16 vectors from {args.embedded:,} embedded records "
              f"(noise sigma 0.02), {args.queries:,} queries from other titles")  # fmt: skip
        truth = exact_top(matrix, queries, 10)
        for way in args.ways.split(","):
            folder = Path(temp) / way
            folder.mkdir()
            load = os.getloadavg()[0]
            started = time.perf_counter()
            build(way, folder, matrix)
            built = time.perf_counter() - started
            reader = VectorIndex(folder, matrix.shape[1], parse(way)[1], view=True)
            recall = [
                len({hit.key for hit in reader.search(query, 10)} & set(true.tolist())) / 10
                for query, true in zip(queries, truth, strict=True)
            ]
            print(f"{way:10s} built in {built:6.0f} s (load {load:.1f} at start, "
                  f"{os.getloadavg()[0]:.1f} at the end)   recall@10 "
                  f"{statistics.mean(recall):.4f}")  # fmt: skip
            del reader
    print(f"load average at the end {os.getloadavg()}")


def noisy_copies(base: NDArray[np.float32], total: int) -> NDArray[np.float16]:
    rng = np.random.default_rng(20261125)
    out = np.empty((total, base.shape[1]), dtype=np.float16)
    for start in range(0, total, CHUNK):
        rows = np.arange(start, min(start + CHUNK, total))
        chunk = base[rows % len(base)] + rng.normal(0, 0.02, (len(rows), base.shape[1]))
        chunk /= np.linalg.norm(chunk, axis=1, keepdims=True)
        out[rows] = chunk.astype(np.float16)
    return out


def exact_top(
    matrix: NDArray[np.float16], queries: NDArray[np.float32], k: int
) -> NDArray[np.int64]:
    """The keys (row numbers) of each query's ``k`` nearest vectors by cosine, exactly."""
    best = np.full((len(queries), k), -np.inf)
    keys = np.zeros((len(queries), k), dtype=np.int64)
    normed = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    for start in range(0, len(matrix), CHUNK):
        rows = matrix[start : start + CHUNK].astype(np.float32)
        scores = normed @ (rows / np.linalg.norm(rows, axis=1, keepdims=True)).T
        both = np.concatenate([best, scores], axis=1)
        both_keys = np.concatenate(
            [keys, np.broadcast_to(np.arange(start, start + len(rows)), scores.shape)], axis=1
        )
        order = np.argsort(-both, axis=1)[:, :k]
        best = np.take_along_axis(both, order, axis=1)
        keys = np.take_along_axis(both_keys, order, axis=1)
    return keys


def parse(way: str) -> tuple[str, str, int]:
    """``whole-i8-e64`` → ("whole", "i8", 64): how to add, the graph's dtype, expansion_add."""
    how, *options = way.split("-")
    dtype, expansion = "f16", EXPANSION_ADD
    for option in options:
        if option in ("i8", "f16", "f32"):
            dtype = option
        elif option.startswith("e") and option[1:].isdigit():
            expansion = int(option[1:])
        else:
            raise SystemExit(f"unknown option {option!r} in way {way!r}")
    if how not in ("chunks", "whole"):
        raise SystemExit(f"unknown way {way!r}")
    return how, dtype, expansion


def build(way: str, folder: Path, matrix: NDArray[np.float16]) -> None:
    keys = np.arange(len(matrix), dtype=np.uint64)
    how, dtype, expansion = parse(way)
    index = VectorIndex(folder, matrix.shape[1], dtype, expansion_add=expansion)
    if how == "chunks":
        for start in range(0, len(matrix), CHUNK):
            started = time.perf_counter()
            rows = matrix[start : start + CHUNK]
            index.add([int(k) for k in keys[start : start + CHUNK]], rows)  # type: ignore[arg-type]
            print(f"  chunk at {start:>9,}: {time.perf_counter() - started:5.1f} s", flush=True)
    else:
        build_graph(index, keys, matrix)
    index.save()


if __name__ == "__main__":
    main()
