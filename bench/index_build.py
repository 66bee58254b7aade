"""Index-building speed: papers/s for the keyword index and for embedding, on real arXiv text.

Takes the first ``--keyword`` records (default 100,000) and ``--embed`` records (default 2,000)
of the real files in the shared data folder (``arxiv-more-1.jsonl.gz`` then the others), indexes
them with the same code ``paperfeed index`` uses (tantivy; all-MiniLM-L6-v2 int8 on ONNX
Runtime, 2 threads), and prints the rates and what they mean for all of arXiv (2.8 million papers).
Usage:

    python bench/index_build.py [--data ../shared/data] [--keyword 100000] [--embed 2000]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import paperfeed.search  # noqa: F401  (loads ONNX Runtime before usearch)
from paperfeed.normalize import InvalidRecord, normalise
from paperfeed.search.documents import IndexedPaper
from paperfeed.search.embedder import MiniLMEmbedder
from paperfeed.search.lexical import KeywordIndex
from paperfeed.sources.arxiv_snapshot import to_record

ROOT = Path(__file__).resolve().parents[1]
FILES = ("arxiv-more-1.jsonl.gz", "arxiv-more-3.jsonl.gz", "arxiv-more-2.jsonl.gz")
ARXIV = 2_800_000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--keyword", type=int, default=100_000)
    parser.add_argument("--embed", type=int, default=2_000)
    args = parser.parse_args()
    papers = list(real_papers(args.data, max(args.keyword, args.embed)))
    print(f"data: {len(papers):,} real records from {args.data} ({', '.join(FILES)})")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory(prefix="paperfeed-index-bench-") as work:
        keyword = KeywordIndex(Path(work) / "keyword")
        started = time.perf_counter()
        keyword.add(papers[: args.keyword])
        seconds = time.perf_counter() - started
        rate = args.keyword / seconds
        print(
            f"keyword index: {args.keyword:,} papers in {seconds:.1f} s = {rate:,.0f} papers/s "
            f"(all of arXiv: {ARXIV / rate / 60:,.0f} min)"
        )
        embedder = MiniLMEmbedder(Path(work) / "models")
        sample = [paper.text for paper in papers[: args.embed]]
        embedder.embed_documents(sample[:64])  # warm-up
        started = time.perf_counter()
        embedder.embed_documents(sample)
        seconds = time.perf_counter() - started
        rate = args.embed / seconds
        print(
            f"embedding ({embedder.name}, ONNX Runtime, 2 threads): {args.embed:,} papers in {seconds:.1f} s = "
            f"{rate:,.1f} papers/s (all of arXiv: {ARXIV / rate / 3600:,.1f} h)"
        )


def real_papers(data: Path, count: int) -> Iterator[IndexedPaper]:
    produced = 0
    for name in FILES:
        with gzip.open(data / name) as lines:
            for line in lines:
                try:
                    record = normalise(to_record(json.loads(line)))
                except (InvalidRecord, ValueError):
                    continue
                yield IndexedPaper(
                    record.id, record.title, record.abstract, tuple(record.authors), tuple(record.categories),
                    record.published.year if record.published else None, record.code_url is not None,
                )  # fmt: skip
                produced += 1
                if produced == count:
                    return


if __name__ == "__main__":
    main()
