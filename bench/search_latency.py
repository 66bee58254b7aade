"""Search latency at scale: p50/p99 per mode over a large index, and the searcher's memory.

How the data is made: the real arXiv records in the shared data folder (about 125,000) are
indexed for keyword search over and over with new ids until ``--papers`` (default 1,000,000);
titles, abstracts, authors and categories are real. Embedding a million abstracts here takes
about four hours, so only ``--embedded`` (default 5,000) real records are embedded with the
model; every other paper's vector is the vector of the real record its text came from plus
small Gaussian noise (sigma 0.02 per dimension, then normalised), so the vector index has the
density and shape of real embeddings. Queries: ``--queries`` (default 1,000) real titles of
records, cut to their first 3-8 words, as people type them. Each query is embedded for real
(the LRU cache is bypassed). Usage:

    python bench/search_latency.py [--data ../shared/data] [--papers 1000000] [--queries 1000]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

import paperfeed.search  # noqa: F401  (loads ONNX Runtime before usearch)
from paperfeed.search import indexer
from paperfeed.search.documents import IndexedPaper
from paperfeed.search.embedder import MiniLMEmbedder
from paperfeed.search.hybrid import CANDIDATES, MODES, PaperSearch
from paperfeed.search.lexical import KeywordIndex
from paperfeed.search.query import parse_query
from paperfeed.search.vectors import VectorIndex

sys.path.insert(0, str(Path(__file__).parent))
from index_build import real_papers

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--papers", type=int, default=1_000_000)
    parser.add_argument("--embedded", type=int, default=5_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument(
        "--work", type=Path, default=None, help="keep the index here (default: a temp dir)"
    )
    parser.add_argument("--measure-only", action="store_true", help="only time searches on --work")
    args = parser.parse_args()
    if args.measure_only:
        queries = make_queries(list(real_papers(args.data, 20_000)), args.queries)
        measure(args.work, MiniLMEmbedder(args.work / "models"), queries)
        return
    real = list(real_papers(args.data, 200_000))
    print(
        f"data: {len(real):,} real records reused to make {args.papers:,} papers; "
        f"{args.embedded:,} embedded for real, the rest noisy copies of those vectors"
    )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory(prefix="paperfeed-latency-") as temp:
        home = args.work or Path(temp)
        embedder = MiniLMEmbedder(home / "models")
        folder = build(home, real, args.papers, args.embedded, embedder)
        print(
            f"index on disk: {sum(f.stat().st_size for f in folder.rglob('*') if f.is_file()) / 2**30:.2f} GiB"
        )
        # Searches are timed in a fresh process, as a server opens the index.
        command = [sys.executable, __file__, "--measure-only", "--work", str(home),
                   "--data", str(args.data), "--queries", str(args.queries)]  # fmt: skip
        subprocess.run(command, check=True)


def build(
    home: Path, real: list[IndexedPaper], total: int, embedded: int, embedder: MiniLMEmbedder
) -> Path:
    folder = indexer._new_generation(home)
    indexer._switch(home, folder)
    started = time.perf_counter()
    keyword = KeywordIndex(folder / "keyword")
    keyword.add(copy(real[n % len(real)], n) for n in range(total))
    print(f"keyword index: {total:,} papers in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    base = embedder.embed_documents([paper.text for paper in real[:embedded]])
    print(f"embedded {embedded:,} real papers in {time.perf_counter() - started:.0f} s")
    rng = np.random.default_rng(20261125)
    vectors = VectorIndex(folder, embedder.dimensions, indexer.VECTOR_DTYPE)
    started = time.perf_counter()
    for start in range(0, total, 50_000):
        rows = np.arange(start, min(start + 50_000, total))
        chunk = base[rows % embedded] + rng.normal(
            0, 0.02, (len(rows), embedder.dimensions)
        ).astype(np.float32)
        chunk /= np.linalg.norm(chunk, axis=1, keepdims=True)
        vectors.index.add(
            np.asarray([copy(real[n % len(real)], n).key for n in rows], dtype=np.uint64), chunk
        )
    vectors.save()
    print(
        f"vector index (usearch HNSW, {indexer.VECTOR_DTYPE}): {total:,} vectors in {time.perf_counter() - started:.0f} s"
    )
    return folder


def copy(paper: IndexedPaper, n: int) -> IndexedPaper:
    return IndexedPaper(
        f"bench:{n}",
        paper.title,
        paper.abstract,
        paper.authors,
        paper.categories,
        paper.year,
        paper.has_code,
    )


def make_queries(real: list[IndexedPaper], count: int) -> list[str]:
    rng = random.Random(7)
    return [" ".join(p.title.split()[: rng.randint(3, 8)]) for p in rng.sample(real, count)]


def measure(home: Path, embedder: MiniLMEmbedder, queries: list[str]) -> None:
    searcher = PaperSearch(home, embedder)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for mode in MODES:
        times = []
        for text in queries:
            embedder._cache.clear()
            started = time.perf_counter()
            searcher.search(text, limit=10, mode=mode)
            times.append((time.perf_counter() - started) * 1000)
        print(
            f"{mode:9s} p50 {percentile(times, 50):6.1f} ms   p99 {percentile(times, 99):6.1f} ms   "
            f"(10 results with snippets, query embedding included)"
        )
    stages(searcher, embedder, queries)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"searcher RSS after {len(queries) * len(MODES):,} searches, in a fresh process with the "
        f"model, keyword index and memory-mapped vectors open: "
        f"{psutil.Process().memory_info().rss / 2**30:.2f} GiB"
    )


def stages(searcher: PaperSearch, embedder: MiniLMEmbedder, queries: list[str]) -> None:
    """Each step of a hybrid search timed on its own, one after the other: where the tail is."""
    assert searcher.vectors is not None
    steps: dict[str, list[float]] = {}
    for text in queries:
        embedder._cache.clear()
        query = parse_query(text)
        clock = Clock(steps)
        searcher.keyword.search(query, CANDIDATES)
        clock.lap("keyword top 100")
        vector = embedder.embed_query(query.text)
        clock.lap("embed query")
        hits = searcher.vectors.search(vector, CANDIDATES)
        clock.lap("vectors top 100")
        searcher.keyword.search(query, 10, every_word=True)
        clock.lap("every-word check")
        searcher._hits(query, [(hit.key, hit.similarity) for hit in hits[:10]])
        clock.lap("papers + snippets")
    for name, times in steps.items():
        print(f"  hybrid step {name:18s} p50 {percentile(times, 50):6.1f} ms   "
              f"p99 {percentile(times, 99):6.1f} ms")  # fmt: skip


class Clock:
    def __init__(self, steps: dict[str, list[float]]) -> None:
        self.steps, self.last = steps, time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.steps.setdefault(name, []).append((now - self.last) * 1000)
        self.last = now


def percentile(times: list[float], q: float) -> float:
    return float(np.percentile(times, q))


if __name__ == "__main__":
    main()
