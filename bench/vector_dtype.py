"""f16 or i8 vectors in the HNSW index: recall of the true nearest neighbours, size, speed.

How the data is made: ``--embedded`` (default 10,000) real arXiv records from the shared data
folder are embedded with the model (title + abstract, as the indexer does). ``--papers``
(default 200,000) vectors are then made as in ``search_latency.py``: each one the vector of a
real record plus Gaussian noise (sigma 0.02 per dimension, normalised), so the index is as
dense as a real one. Queries: ``--queries`` (default 1,000) real titles of other records, cut
to 3-8 words, embedded with the model. The truth is exact float32 cosine search over the same
vectors; each dtype's usearch index (same HNSW settings as the product) is scored by recall@10
and recall@100 against it. Usage:

    python bench/vector_dtype.py [--data ../shared/data] [--papers 200000] [--embedded 10000]
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

import paperfeed.search  # noqa: F401  (loads ONNX Runtime before usearch)
from paperfeed.search.embedder import MiniLMEmbedder
from paperfeed.search.vectors import VectorIndex

sys.path.insert(0, str(Path(__file__).parent))
from index_build import real_papers
from search_latency import make_queries

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--papers", type=int, default=200_000)
    parser.add_argument("--embedded", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=1_000)
    args = parser.parse_args()
    real = list(real_papers(args.data, args.embedded + 20_000))
    documents, others = real[: args.embedded], real[args.embedded :]
    print(
        f"data: {len(documents):,} real arXiv records embedded, {args.papers:,} vectors "
        f"(noisy copies, sigma 0.02); {args.queries:,} queries from titles of other records"
    )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory(prefix="paperfeed-dtype-") as temp:
        embedder = MiniLMEmbedder(Path(temp) / "models")
        started = time.perf_counter()
        base = embedder.embed_documents([paper.text for paper in documents])
        print(f"embedded {len(documents):,} papers in {time.perf_counter() - started:.0f} s")
        rng = np.random.default_rng(20261125)
        rows = np.arange(args.papers) % len(documents)
        matrix = base[rows] + rng.normal(0, 0.02, (args.papers, base.shape[1])).astype(np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        queries = np.stack(
            [embedder.embed_query(text) for text in make_queries(others, args.queries)]
        )
        truth = np.argsort(-(queries @ matrix.T), axis=1)[:, :100]
        keys = np.arange(args.papers, dtype=np.uint64)
        for dtype in ("f16", "i8"):
            folder = Path(temp) / dtype
            folder.mkdir()
            index = VectorIndex(folder, base.shape[1], dtype)
            started = time.perf_counter()
            index.index.add(keys, matrix)
            built = time.perf_counter() - started
            index.save()
            reader = VectorIndex(folder, base.shape[1], dtype, view=True)
            recall10, recall100, times = [], [], []
            for query, true in zip(queries, truth, strict=True):
                started = time.perf_counter()
                found = [hit.key for hit in reader.search(query, 100)]
                times.append((time.perf_counter() - started) * 1000)
                recall10.append(len(set(found[:10]) & set(true[:10].tolist())) / 10)
                recall100.append(len(set(found) & set(true.tolist())) / 100)
            print(
                f"{dtype:4s} recall@10 {statistics.mean(recall10):.4f}   "
                f"recall@100 {statistics.mean(recall100):.4f}   "
                f"search p50 {statistics.median(times):.2f} ms   "
                f"file {index.file.stat().st_size / 2**20:,.0f} MiB   built in {built:.0f} s"
            )


if __name__ == "__main__":
    main()
