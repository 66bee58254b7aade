"""Search quality on BEIR-layout sets: nDCG@10 and recall@100 for keyword, semantic and hybrid.

For each set folder in ``--data`` (``corpus.jsonl``, ``queries.jsonl``, ``qrels/<split>.tsv``):
the corpus is written in our generic JSONL format (ids ``beir:<doc id>``), imported into a
temporary store with ``paperfeed ingest jsonl``, indexed with ``paperfeed index``, and the judged
queries are run through the batch CLI (``paperfeed search --queries``) in each mode. Metrics are
computed by ranx. With ``--tune``, the keyword and semantic candidate lists are also fused in
process with reciprocal-rank fusion and with the convex combination at weights 0.0-1.0, to pick
the default (do this on training judgements only). Usage:

    python bench/eval_search.py [--data ../shared/eval] [--split train] [--json] [--tune]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ranx import Qrels, Run, evaluate

ROOT = Path(__file__).resolve().parents[1]
MODES = ("keyword", "semantic", "hybrid")
METRICS = ["ndcg@10", "recall@100"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--split", default="train")
    parser.add_argument("--json", action="store_true", help="print one JSON object of all figures")
    parser.add_argument("--tune", action="store_true", help="also sweep fusion methods and weights")
    parser.add_argument(
        "--work",
        type=Path,
        default=None,
        help="keep each set's store and index in WORK/<set> and reuse them (e.g. /tmp/paperfeed-eval)",
    )
    args = parser.parse_args()
    sets = sorted(p for p in args.data.iterdir() if (p / "corpus.jsonl").is_file())
    figures = {}
    for folder in sets:
        qrels_path = folder / "qrels" / f"{args.split}.tsv"
        if not qrels_path.is_file():
            print(f"{folder.name}: no qrels/{args.split}.tsv, skipped", file=sys.stderr)
            continue
        figures[folder.name] = evaluate_set(
            folder, qrels_path, args.tune, quiet=args.json, work=args.work
        )
    if args.json:
        print(json.dumps(figures))


def evaluate_set(
    folder: Path, qrels_path: Path, tune: bool, quiet: bool, work: Path | None = None
) -> dict[str, dict[str, float]]:
    qrels = read_qrels(qrels_path)
    queries = {
        q["_id"]: q["text"]
        for q in map(json.loads, (folder / "queries.jsonl").open())
        if q["_id"] in qrels
    }
    with tempfile.TemporaryDirectory(prefix="paperfeed-eval-") as temp:
        home = work / folder.name if work else Path(temp)
        started = time.perf_counter()
        done = home / "indexed.txt"  # written once the whole set is imported and indexed
        if not done.exists():  # a kept index is reused as it is
            home.mkdir(parents=True, exist_ok=True)
            corpus = home / "corpus.jsonl"
            count = write_corpus(folder / "corpus.jsonl", corpus)
            cli(home, "init")
            cli(home, "ingest", "jsonl", str(corpus))
            cli(home, "index")
            done.write_text(f"{count} documents\n")
            if not quiet:
                print(f"{folder.name}: {count:,} documents imported and indexed in "
                      f"{time.perf_counter() - started:.0f} s")  # fmt: skip
        if not quiet:
            print(f"{folder.name}: {len(queries):,} queries with {qrels_path.name} judgements")
        query_file = home / "queries.jsonl"
        query_file.write_text(
            "".join(json.dumps({"query_id": i, "text": t}) + "\n" for i, t in queries.items())
        )
        figures = {}
        for mode in MODES:
            started = time.perf_counter()
            out = cli(
                home,
                "search",
                "--queries",
                str(query_file),
                "--limit",
                "100",
                "--mode",
                mode,
                "--json",
            )
            run = {}
            for line in out.splitlines():
                item = json.loads(line)
                ids = [doc.removeprefix("beir:") for doc in item["results"]]
                run[str(item["query_id"])] = {doc: 100.0 - rank for rank, doc in enumerate(ids)}
            scores = evaluate(Qrels(qrels), Run(run), METRICS)
            figures[mode] = {metric: round(float(value), 4) for metric, value in scores.items()}
            if not quiet:
                print(
                    f"  {mode:9s} nDCG@10 {figures[mode]['ndcg@10']:.4f}   recall@100 {figures[mode]['recall@100']:.4f}"
                    f"   ({len(queries) / (time.perf_counter() - started):.0f} queries/s, process start included)"
                )
        if tune:
            sweep(home, queries, qrels)
    return figures


def sweep(home: Path, queries: dict[str, str], qrels: dict[str, dict[str, int]]) -> None:
    """Fuse the two candidate lists every way, in process, and print each nDCG@10."""
    os.environ["PAPERFEED_HOME"] = str(home)
    from paperfeed.search import fusion
    from paperfeed.search.embedder import MiniLMEmbedder
    from paperfeed.search.hybrid import PaperSearch

    searcher = PaperSearch(home, MiniLMEmbedder(home / "models"), floor=False)
    lists = {}
    for query_id, text in queries.items():
        results = searcher.search(text, limit=100, mode="keyword", snippets=False)
        keyword = [(h.id.removeprefix("beir:"), h.score) for h in results.hits]
        results = searcher.search(text, limit=100, mode="semantic", snippets=False)
        semantic = [(h.id.removeprefix("beir:"), h.score) for h in results.hits]
        lists[query_id] = (keyword, semantic)

    def score(fuse) -> float:  # type: ignore[no-untyped-def]
        run = {q: {doc: s for doc, s in fuse(k, s)} for q, (k, s) in lists.items()}
        return float(evaluate(Qrels(qrels), Run(run), "ndcg@10"))

    print(
        f"  rrf (k=60)            nDCG@10 {score(lambda k, s: fusion.reciprocal_rank([[d for d, _ in k], [d for d, _ in s]])):.4f}"
    )
    for tenth in range(11):
        weight = tenth / 10
        print(
            f"  convex keyword={weight:.1f}   nDCG@10 {score(lambda k, s, w=weight: fusion.convex(k, s, w)):.4f}"
            f"   distribution-based {score(lambda k, s, w=weight: fusion.distribution_based(k, s, w)):.4f}"
        )


def write_corpus(source: Path, target: Path) -> int:
    count = 0
    with source.open() as lines, target.open("w") as out:
        for line in lines:
            doc = json.loads(line)
            title = doc.get("title") or doc["text"][:120] or doc["_id"]
            out.write(
                json.dumps({"id": f"beir:{doc['_id']}", "title": title, "abstract": doc["text"]})
                + "\n"
            )
            count += 1
    return count


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with path.open() as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if int(row["score"]) > 0:
                qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    return qrels


def cli(home: Path, *args: str) -> str:
    env = {**os.environ, "PAPERFEED_HOME": str(home), "COLUMNS": "200"}
    env.pop("PAPERFEED_DB", None)
    done = subprocess.run(
        [sys.executable, "-m", "paperfeed", *args], capture_output=True, text=True, env=env
    )
    if done.returncode:
        sys.exit(f"paperfeed {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


if __name__ == "__main__":
    main()
