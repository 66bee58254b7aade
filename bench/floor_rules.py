"""Rules for the relevance floor's query gate, measured side by side on both sets and the nonsense list.

For each corpus — the bundled demo sample and every BEIR-layout set in ``--data`` (SciFact,
Cranfield) — every judged training query and every query of the nonsense list
(``tests/fixtures/nonsense-queries.txt``) is run once through the product's own pieces
(``PaperSearch`` candidates, ``relevance.agreeing``, ``KeywordIndex.word_weights``): both
sides' top 100, the cosines, and the IDF share of the query's words held by each paper both
sides rank. Then each gate rule decides which queries match; the rankings of the matched ones
are the product's (keyword hits, semantic neighbours at 0.30 or more, distribution-based
fusion), so each rule's nDCG@10 and the nonsense it lets through come from one pass.

Rules: the cosines alone (best ≥ 0.45 or agreement ≥ 0.35, the one-word and query-syntax
rules), plus "a paper both sides rank, at cosine ≥ C, holding ≥ S of the query's IDF weight"
for several C and S (the product uses :data:`relevance.NEIGHBOUR_FLOOR` and
:data:`relevance.WORD_SHARE_FLOOR`), and the agreement floor lowered to 0.30 for comparison.
Indexes are built with the CLI on first use and kept in ``--work`` (shared with
``bench/relevance_floor.py`` and ``bench/eval_search.py``). Usage:

    python bench/floor_rules.py [--data ../shared/eval] [--work /tmp/paperfeed-eval]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

import paperfeed.search  # noqa: F401  (loads ONNX Runtime before usearch)
from paperfeed.search import relevance
from paperfeed.search.embedder import MiniLMEmbedder
from paperfeed.search.hybrid import MODES, PaperSearch, fuse
from paperfeed.search.lexical import content_words
from paperfeed.search.query import parse_query

sys.path.insert(0, str(Path(__file__).parent))
from eval_search import read_qrels
from relevance_floor import NONSENSE, sample_home, set_home

#: (cosine floor, share floor) of the words' rule; None: the cosines alone.
RULES: list[tuple[float, float] | None] = [
    None,
    (0.30, 0.30),
    (0.30, 0.35),
    (0.30, 0.40),
    (0.30, 0.45),
    (0.30, 0.60),
    (0.28, 0.40),
    (0.25, 0.50),
]
LOWER_AGREEMENT = 0.30


@dataclass
class Judged:
    """One query's evidence and, per mode, its ranking's nDCG@10 when it matches."""

    cosines_match: bool
    agreement: float
    papers: list[tuple[float, float]]  # (cosine, word share) of each paper both sides rank
    ndcg: dict[str, float]
    ndcg_off: dict[str, float]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path(__file__).parents[2] / "shared" / "eval")
    parser.add_argument("--work", type=Path, default=Path("/tmp/paperfeed-eval"))
    args = parser.parse_args()
    nonsense = [line.strip() for line in NONSENSE.read_text().splitlines() if line.strip()]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; {len(nonsense)} nonsense queries; "
          f"nDCG@10 on training judgements; cost = floor off - floor on")  # fmt: skip
    corpora = [("sample", sample_home(args.work / "sample"), None)]
    for folder in sorted(p for p in args.data.iterdir() if (p / "corpus.jsonl").is_file()):
        corpora.append((folder.name, set_home(args.work / folder.name, folder), folder))
    rules: list[tuple[float, float] | str | None] = [*RULES, "lower"]
    passing: dict[str, dict[str, list[str]]] = {}
    for name, home, folder in corpora:
        searcher = PaperSearch(home, MiniLMEmbedder(home / "models"))
        found = {text: judge(searcher, text, {}) for text in nonsense}
        passing[name] = {
            label(rule): [text for text, j in found.items() if passes(j, rule)] for rule in rules
        }
        if folder is None:
            continue
        qrels = read_qrels(folder / "qrels" / "train.tsv")
        queries = {
            q["_id"]: q["text"]
            for q in map(json.loads, (folder / "queries.jsonl").open())
            if q["_id"] in qrels
        }
        judged = [judge(searcher, text, qrels[qid]) for qid, text in queries.items()]
        for rule in rules:
            cells = []
            for mode in MODES:
                off = sum(j.ndcg_off[mode] for j in judged) / len(judged)
                on = sum(j.ndcg[mode] for j in judged if passes(j, rule)) / len(judged)
                cells.append(f"{mode} {on:.4f} (cost {off - on:.4f})")
            print(f"{name:9s} {label(rule):30s} " + "  ".join(cells))
    for rule in rules:
        counts = "  ".join(
            f"{name} {len(texts[label(rule)])}/{len(nonsense)}" for name, texts in passing.items()
        )
        print(f"nonsense passing, {label(rule):30s} {counts}")
        for name, texts in passing.items():
            for text in texts[label(rule)]:
                print(f"    {name}: {text!r}")


def label(rule: tuple[float, float] | str | None) -> str:
    if rule is None:
        return "cosines alone"
    if isinstance(rule, str):
        return f"agreement floor {LOWER_AGREEMENT} (no words)"
    return f"words: cosine {rule[0]}, share {rule[1]}"


def passes(judged: Judged, rule: tuple[float, float] | str | None) -> bool:
    """Whether the query matches under ``rule`` (see :data:`RULES`; "lower": the agreement
    floor at :data:`LOWER_AGREEMENT` instead of the words)."""
    if judged.cosines_match or rule is None:
        return judged.cosines_match
    if isinstance(rule, str):
        return judged.agreement >= LOWER_AGREEMENT
    return any(cosine >= rule[0] and share >= rule[1] for cosine, share in judged.papers)


def judge(searcher: PaperSearch, text: str, relevant: dict[str, int]) -> Judged:
    """The query's evidence (the product's) and each mode's nDCG@10 with and without the floor."""
    query = parse_query(text)
    keyword, semantic = searcher._candidates(query, "hybrid", 100, True, True)
    evidence = searcher._evidence(query, keyword, semantic)
    papers: list[tuple[float, float]] = []
    both = relevance.agreeing(keyword, semantic, floor=-1.0)
    if both and evidence.best_similarity is not None:
        weights, holders = searcher.keyword.word_weights(content_words(query.text), both)
        cosine = dict(semantic)
        papers = [(cosine[key], relevance.word_share(weights, holders, key)) for key in both]
    ids = {key: doc["id"][0].removeprefix("beir:") for key, doc in
           searcher.keyword.papers(list({k for k, _ in keyword} | {k for k, _ in semantic})).items()}  # fmt: skip
    cut = relevance.neighbours_that_match(semantic)
    ndcg = {mode: ndcg10([ids[k] for k, _ in fuse(mode, keyword, cut)], relevant) for mode in MODES}
    off = {
        mode: ndcg10([ids[k] for k, _ in fuse(mode, keyword, semantic)], relevant) for mode in MODES
    }
    return Judged(
        cosines_match=relevance.matches(evidence),
        agreement=evidence.agreement_similarity or 0.0,
        papers=papers,
        ndcg=ndcg,
        ndcg_off=off,
    )


def ndcg10(ranked: list[str], relevant: dict[str, int]) -> float:
    """nDCG@10 with linear gains (ranx's ``ndcg``, Järvelin and Kekäläinen)."""
    if not relevant:
        return 0.0
    dcg = sum(relevant.get(doc, 0) / math.log2(rank + 2) for rank, doc in enumerate(ranked[:10]))
    ideal = sorted(relevant.values(), reverse=True)[:10]
    return dcg / sum(gain / math.log2(rank + 2) for rank, gain in enumerate(ideal))


if __name__ == "__main__":
    main()
