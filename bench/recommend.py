"""How well "For you" finds a paper like the ones a reader kept: hide-one evaluation on real
judgements, against a keyword baseline.

How the data is made: every query of the BEIR sets in ``--data`` (SciFact in ``../shared/eval``:
real claims and the abstracts judged relevant to them) that has two or more relevant documents
is one "reader". One relevant document is hidden in turn; the others are the reader's positives
(saved papers); the task is to rank the hidden one among all documents. The corpus is imported
and indexed with the product's commands (``paperfeed ingest jsonl``, ``paperfeed index``, real
all-MiniLM-L6-v2), kept in ``--work`` for the next run. Ranked by:

- ``recommend``: ``PaperSearch.recommend`` (centroid of the positives' vectors, fused with a
  BM25 search for their titles),
- ``for-you``: the "For you" tab's likeness (cosine with the centroid, papers below its floor
  dropped), every document counted as new,
- ``keyword``: the baseline, the top BM25 hits of the positives' titles.

Prints hit@10 and nDCG@10 (one relevant document: 1/log2(rank+1)) per split. Usage:

    python bench/recommend.py [--data ../shared/eval] [--work /tmp/paperfeed-recommend]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import tantivy
from eval_search import cli, read_qrels, write_corpus

import paperfeed.search  # noqa: F401  (loads ONNX Runtime before usearch)
from paperfeed.search.embedder import MiniLMEmbedder
from paperfeed.search.hybrid import PaperSearch
from paperfeed.services.new_papers import NewPapers
from paperfeed.store.engine import make_engine

ROOT = Path(__file__).resolve().parents[1]
K = 10


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--work", type=Path, default=Path("/tmp/paperfeed-recommend"))
    args = parser.parse_args()
    for folder in sorted(p for p in args.data.iterdir() if (p / "corpus.jsonl").is_file()):
        home = args.work / folder.name
        if not (home / "paperfeed.db").exists():
            home.mkdir(parents=True, exist_ok=True)
            started = time.perf_counter()
            count = write_corpus(folder / "corpus.jsonl", home / "corpus.jsonl")
            cli(home, "init")
            cli(home, "ingest", "jsonl", str(home / "corpus.jsonl"))
            cli(home, "index")
            print(f"{folder.name}: {count:,} documents imported and indexed in "
                  f"{time.perf_counter() - started:.0f} s (kept in {home})")  # fmt: skip
        evaluate(folder, home)


def evaluate(folder: Path, home: Path) -> None:
    search = PaperSearch(home, MiniLMEmbedder(home / "models"))
    engine = make_engine(f"sqlite:///{home / 'paperfeed.db'}")
    with engine.connect() as conn:
        recent = NewPapers(conn, search, dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
    titles = dict(_titles(search))

    def keyword(positives: Sequence[str]) -> list[str]:
        text = " ".join(titles.get(p, "") for p in positives)
        hits = search.search(text, limit=K + len(positives), mode="keyword", snippets=False).hits
        return [h.id for h in hits if h.id not in positives]

    rankers: dict[str, Callable[[Sequence[str]], list[str]]] = {
        "recommend": lambda positives: [h.id for h in search.recommend(positives, limit=K)],
        "for-you": lambda positives: [p for p, _, _ in recent.liked(positives, (), K)],
        "keyword": keyword,
    }
    for qrels_file in sorted((folder / "qrels").glob("*.tsv")):
        readers = [
            sorted(f"beir:{doc}" for doc in docs)
            for docs in read_qrels(qrels_file).values()
            if len(docs) >= 2
        ]
        trials = [(r[:i] + r[i + 1 :], hidden) for r in readers for i, hidden in enumerate(r)]
        print(f"{folder.name} {qrels_file.stem}: {len(readers)} readers with 2+ relevant "
              f"documents, {len(trials)} hide-one trials, {len(titles):,} documents")  # fmt: skip
        print(f"{'ranker':<10} {'hit@10':>7} {'nDCG@10':>8}")
        for name, rank in rankers.items():
            hits, gains = 0, 0.0
            for positives, hidden in trials:
                ranked = rank(positives)[:K]
                if hidden in ranked:
                    hits += 1
                    gains += 1 / math.log2(ranked.index(hidden) + 2)
            print(f"{name:<10} {hits / len(trials):7.3f} {gains / len(trials):8.3f}")


def _titles(search: PaperSearch) -> list[tuple[str, str]]:
    searcher = search.keyword.index.searcher()
    everything = searcher.search(tantivy.Query.all_query(), searcher.num_docs)
    return [
        (doc["id"][0], doc["title"][0])
        for doc in (searcher.doc(address) for _, address in everything.hits)
    ]


if __name__ == "__main__":
    main()
