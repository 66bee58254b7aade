"""Where a new paper stops "matching" a saved search by meaning: cosine floors on real judgements.

A digest looks for matches among the day's new papers only, and every paper has *some* cosine
with the query, so it needs a floor: above it a paper matches by meaning (papers with every word
of the query match anyway). This measures, for floors 0.30-0.55, the share of judged-relevant
(query, document) pairs that pass and the share of other pairs that pass.

How the data is made: SciFact from ``../shared/eval`` (BEIR layout; real scientific claims and
abstracts), training judgements only: the first ``--queries`` judged queries (default 400),
their relevant documents, and ``--others`` (default 1,500) documents drawn at random (seed 1)
as the "other papers of the day". Embedded with the product's model (all-MiniLM-L6-v2, int8
ONNX, the one the site uses). Usage:

    python bench/match_floor.py [--data ../shared/eval/scifact] [--queries 400] [--others 1500]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import tempfile
from pathlib import Path

import numpy as np

import paperfeed.search  # noqa: F401  (loads ONNX Runtime before usearch)
from paperfeed.search.embedder import MiniLMEmbedder

ROOT = Path(__file__).resolve().parents[1]
FLOORS = (0.30, 0.35, 0.40, 0.45, 0.50, 0.55)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "eval" / "scifact")
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--others", type=int, default=1_500)
    parser.add_argument(
        "--models", type=Path, default=Path(tempfile.gettempdir()) / "paperfeed-models"
    )
    args = parser.parse_args()
    corpus = {}
    with (args.data / "corpus.jsonl").open() as lines:
        for line in lines:
            doc = json.loads(line)
            corpus[doc["_id"]] = f"{doc.get('title', '')}. {doc['text']}".strip(". ")
    with (args.data / "queries.jsonl").open() as lines:
        queries = {q["_id"]: q["text"] for q in map(json.loads, lines)}
    relevant: dict[str, set[str]] = {}
    with (args.data / "qrels" / "train.tsv").open() as table:
        for row in csv.DictReader(table, delimiter="\t"):
            if int(row["score"]) > 0:
                relevant.setdefault(row["query-id"], set()).add(row["corpus-id"])
    query_ids = sorted(relevant)[: args.queries]
    others = random.Random(1).sample(sorted(corpus), args.others)
    doc_ids = sorted({d for q in query_ids for d in relevant[q]} | set(others))
    embedder = MiniLMEmbedder(args.models)  # the ONNX export is made there once
    docs = embedder.embed_documents([corpus[d] for d in doc_ids])
    asked = embedder.embed_documents([queries[q] for q in query_ids])
    row_of = {d: n for n, d in enumerate(doc_ids)}
    pairs = np.array(
        [asked[n] @ docs[row_of[d]] for n, q in enumerate(query_ids) for d in relevant[q]]
    )
    rest = asked @ docs[[row_of[d] for d in others]].T
    print(f"data: SciFact train, {len(query_ids)} queries, {len(pairs)} relevant pairs, "
          f"{args.others:,} other documents per query; model all-MiniLM-L6-v2 int8")  # fmt: skip
    print("floor  relevant pairs passing  other pairs passing  others passing per query")
    for floor in FLOORS:
        print(f"{floor:5.2f}  {np.mean(pairs >= floor):22.1%}  {np.mean(rest >= floor):19.2%}"
              f"  {np.mean((rest >= floor).sum(axis=1)):24.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
