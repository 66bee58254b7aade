"""The relevance floor, measured: nonsense returns nothing, and real queries lose (almost) nothing.

For each corpus — the bundled demo sample (3,257 arXiv records and 75 Daily Papers ones) and
every BEIR-layout set in ``--data`` (SciFact, Cranfield) — every query of the nonsense list
(``tests/fixtures/nonsense-queries.txt``: gibberish, random letter strings, everyday
questions) is searched in each mode, and the ones that still return papers are printed. On
the sets with training judgements, nDCG@10 and recall@100 of each mode are printed with the
floor on and off (the floor's cost). Indexes are built with the CLI on first use and kept in
``--work`` (default /tmp/paperfeed-eval; ``bench/eval_search.py --work`` shares them).
Usage:

    python bench/relevance_floor.py [--data ../shared/eval] [--work /tmp/paperfeed-eval]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

from ranx import Qrels, Run, evaluate

import paperfeed.search  # noqa: F401  (loads ONNX Runtime before usearch)
from paperfeed.search.embedder import MiniLMEmbedder
from paperfeed.search.hybrid import MODES, PaperSearch

sys.path.insert(0, str(Path(__file__).parent))
from eval_search import cli, read_qrels, write_corpus

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "src" / "paperfeed" / "data" / "sample"
NONSENSE = ROOT / "tests" / "fixtures" / "nonsense-queries.txt"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--work", type=Path, default=Path("/tmp/paperfeed-eval"))
    args = parser.parse_args()
    nonsense = [line.strip() for line in NONSENSE.read_text().splitlines() if line.strip()]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; {len(nonsense)} nonsense queries")  # fmt: skip
    nonsense_check("sample", sample_home(args.work / "sample"), nonsense)
    for folder in sorted(p for p in args.data.iterdir() if (p / "corpus.jsonl").is_file()):
        home = set_home(args.work / folder.name, folder)
        nonsense_check(folder.name, home, nonsense)
        floor_cost(folder, home)


def sample_home(home: Path) -> Path:
    if not (home / "indexed.txt").exists():
        home.mkdir(parents=True, exist_ok=True)
        cli(home, "init")
        cli(home, "ingest", "arxiv-snapshot", str(SAMPLE / "arxiv-sample.jsonl.gz"))
        cli(home, "ingest", "jsonl", str(SAMPLE / "daily-papers.jsonl"))
        cli(home, "index")
        (home / "indexed.txt").write_text("sample\n")
    return home


def set_home(home: Path, folder: Path) -> Path:
    if not (home / "indexed.txt").exists():
        home.mkdir(parents=True, exist_ok=True)
        count = write_corpus(folder / "corpus.jsonl", home / "corpus.jsonl")
        cli(home, "init")
        cli(home, "ingest", "jsonl", str(home / "corpus.jsonl"))
        cli(home, "index")
        (home / "indexed.txt").write_text(f"{count} documents\n")
    return home


def nonsense_check(name: str, home: Path, nonsense: list[str]) -> None:
    searcher = PaperSearch(home, MiniLMEmbedder(home / "models"))
    for mode in MODES:
        found = {}
        for text in nonsense:
            hits = searcher.search(text, limit=10, mode=mode, snippets=False).hits
            if hits:
                found[text] = hits[0].title[:70]
        print(f"{name:9s} {mode:9s} nonsense queries with results: {len(found)}/{len(nonsense)}")
        for text, title in found.items():
            print(f"    {text!r} -> {title!r}")


def floor_cost(folder: Path, home: Path) -> None:
    qrels = read_qrels(folder / "qrels" / "train.tsv")
    queries = {
        q["_id"]: q["text"]
        for q in map(json.loads, (folder / "queries.jsonl").open())
        if q["_id"] in qrels
    }
    embedder = MiniLMEmbedder(home / "models")
    for floor in (False, True):
        searcher = PaperSearch(home, embedder, floor=floor)
        for mode in MODES:
            run = {}
            for query_id, text in queries.items():
                hits = searcher.search(text, limit=100, mode=mode, snippets=False).hits
                ranked = [hit.id.removeprefix("beir:") for hit in hits]
                run[query_id] = {doc: 100.0 - rank for rank, doc in enumerate(ranked)} or {
                    "(none)": 0.0
                }
            scores = evaluate(Qrels(qrels), Run(run), ["ndcg@10", "recall@100"])
            print(f"{folder.name:9s} {mode:9s} floor {'on ' if floor else 'off'}  "
                  f"nDCG@10 {scores['ndcg@10']:.4f}  recall@100 {scores['recall@100']:.4f}  "
                  f"({len(queries)} train queries)")  # fmt: skip


if __name__ == "__main__":
    main()
