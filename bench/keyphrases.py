"""Keyphrases: agreement with the public site's ``ai_keywords``, and what extraction costs.

On the 30 real papers of a recorded Daily Papers response (tests/fixtures/hf_daily_papers), runs
``paperfeed.search.keyphrases.extract`` with the bundled model and prints, after lower-casing
and a light lemmatisation (plural endings):

- precision: the share of our phrases equal to one of theirs;
- recall: the share of theirs equal to one of ours;
- the same two with a looser match (one phrase's words all within the other's);
- ours and theirs for the first ``--sample`` papers (10 by default), to read.

Then the cost: seconds to embed the papers (what indexing does) and to extract their
keyphrases given their vectors, on ``--papers`` real arXiv abstracts; the ratio is the share
keyphrases add to the embedding side of indexing. If the ``keybert`` package is importable, it
is run on the same papers with the same model for comparison. Usage:

    python bench/keyphrases.py [--models DIR] [--data ../shared/data] [--papers 300]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import time
from collections.abc import Callable, Sequence
from itertools import islice
from pathlib import Path

import numpy as np

import paperfeed.search  # noqa: F401  (loads ONNX Runtime before usearch)
from paperfeed.search.embedder import MiniLMEmbedder, TokenStates, Vectors
from paperfeed.search.keyphrases import extract, paper_text

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests/fixtures/hf_daily_papers/daily_papers_limit30_2026-06-13.json"
Extractor = Callable[[str, str, Vectors], list[str]]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", type=Path, default=Path("models"))
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--papers", type=int, default=300)
    parser.add_argument("--sample", type=int, default=10)
    args = parser.parse_args()
    embedder = MiniLMEmbedder(args.models)
    print(f"load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} (2 cores)")
    ours: Extractor = lambda t, a, v: extract(embedder, t, a, v)  # noqa: E731
    extractors = {"paperfeed": ours}
    if (theirs := _keybert(embedder)) is not None:
        extractors["keybert 0.9.0"] = theirs
    papers = [entry["paper"] for entry in json.loads(FIXTURE.read_text())]
    for name, run in extractors.items():
        agreement(name, embedder, papers, run, args.sample if name == "paperfeed" else 0)
    abstracts = list(_real_papers(args.data, args.papers))
    cost("paperfeed", embedder, abstracts)
    if "keybert 0.9.0" in extractors:
        cost_apart("keybert 0.9.0", embedder, abstracts[:50], extractors["keybert 0.9.0"])
        apart = HashingLike(embedder)
        phrase_by_phrase: Extractor = lambda t, a, v: extract(apart, t, a, v)  # noqa: E731
        agreement("paperfeed, phrases embedded apart", embedder, papers, phrase_by_phrase)


def agreement(
    name: str,
    embedder: MiniLMEmbedder,
    papers: Sequence[dict[str, object]],
    run: Extractor,
    sample: int = 0,
) -> None:
    texts = [(str(p["title"]), str(p["summary"])) for p in papers]
    vectors = embedder.embed_documents([paper_text(t, a) for t, a in texts])
    exact = [0, 0, 0, 0]  # our matched, ours, their matched, theirs
    loose = [0, 0]
    for n, ((title, abstract), vector, paper) in enumerate(
        zip(texts, vectors, papers, strict=True)
    ):
        phrases = run(title, abstract, vector)
        keywords = [str(k) for k in paper.get("ai_keywords") or []]  # type: ignore[attr-defined]
        if n < sample:
            print(f"  {paper['id']}\n    ours:   {'; '.join(phrases)}")
            print(f"    theirs: {'; '.join(keywords)}")
        got = [_key(k) for k in phrases]
        want = [_key(k) for k in keywords]
        exact[0] += sum(k in want for k in got)
        exact[1] += len(got)
        exact[2] += sum(k in got for k in want)
        exact[3] += len(want)
        loose[0] += sum(any(_overlaps(k, w) for w in want) for k in got)
        loose[1] += sum(any(_overlaps(w, k) for k in got) for w in want)
    print(
        f"{name}: {exact[1] / len(papers):.1f} phrases a paper (theirs {exact[3] / len(papers):.1f}); "
        f"exact match precision {exact[0] / exact[1]:.3f}, recall {exact[2] / exact[3]:.3f}; "
        f"loose precision {loose[0] / exact[1]:.3f}, recall {loose[1] / exact[3]:.3f}"
    )


def cost(name: str, embedder: MiniLMEmbedder, papers: Sequence[tuple[str, str]]) -> None:
    """Indexing's embedding pass alone, then with keyphrases taken from its token states."""
    texts = [paper_text(t, a) for t, a in papers]
    started = time.perf_counter()
    embedder.embed_documents(texts)
    alone = time.perf_counter() - started
    found: dict[int, list[str]] = {}
    spent = [0.0]

    def keyphrases(i: int, tokens: TokenStates) -> None:
        started = time.perf_counter()
        found[i] = extract(embedder, *papers[i], tokens=tokens)
        spent[0] += time.perf_counter() - started

    started = time.perf_counter()
    embedder.embed_documents_with_tokens(texts, keyphrases)
    both = time.perf_counter() - started
    print(
        f"{name}: {len(papers)} papers: embedding {alone:.1f} s ({len(papers) / alone:.1f}/s); "
        f"embedding with keyphrases {both:.1f} s, of which extraction {spent[0]:.2f} s: "
        f"+{spent[0] / (both - spent[0]):.1%} on embedding; "
        f"{sum(map(len, found.values())) / len(papers):.1f} phrases a paper"
    )


def cost_apart(
    name: str, embedder: MiniLMEmbedder, papers: Sequence[tuple[str, str]], run: Extractor
) -> None:
    """An extractor that embeds on its own, given each paper's vector."""
    started = time.perf_counter()
    vectors = embedder.embed_documents([paper_text(t, a) for t, a in papers])
    embedding = time.perf_counter() - started
    started = time.perf_counter()
    for (title, abstract), vector in zip(papers, vectors, strict=True):
        run(title, abstract, vector)
    extracting = time.perf_counter() - started
    print(
        f"{name}: {len(papers)} papers: embedding {embedding:.1f} s, "
        f"keyphrases {extracting:.1f} s: +{extracting / embedding:.0%}"
    )


def _keybert(embedder: MiniLMEmbedder) -> Extractor | None:
    """KeyBERT with our model as its backend, if the package is there (it is not a dependency)."""
    try:
        from keybert import KeyBERT
        from keybert.backend import BaseEmbedder
    except ImportError:
        print("keybert is not installed: comparison skipped")
        return None

    class Ours(BaseEmbedder):  # type: ignore[misc]
        def embed(self, documents: list[str], verbose: bool = False) -> np.ndarray:  # type: ignore[type-arg]
            return embedder.embed_documents(documents)

    model = KeyBERT(model=Ours())

    def run(title: str, abstract: str, vector: Vectors) -> list[str]:
        found = model.extract_keywords(
            f"{title}. {abstract}",
            keyphrase_ngram_range=(1, 3),
            stop_words="english",
            use_mmr=True,
            diversity=0.6,
            top_n=10,
            doc_embeddings=vector[None, :],
        )
        return [phrase for phrase, _ in found]

    return run


class HashingLike:
    """The model without its token states: each candidate phrase is embedded on its own."""

    def __init__(self, embedder: MiniLMEmbedder) -> None:
        self.name, self.dimensions, self._embedder = embedder.name, embedder.dimensions, embedder

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return self._embedder.embed_documents(texts)

    def embed_query(self, text: str) -> Vectors:
        return self._embedder.embed_query(text)


def _real_papers(data: Path, count: int) -> list[tuple[str, str]]:
    with gzip.open(data / "arxiv-more-1.jsonl.gz") as lines:
        records = (json.loads(line) for line in lines)
        return [
            (" ".join(r["title"].split()), " ".join(r["abstract"].split()))
            for r in islice(records, count)
        ]


def _key(phrase: str) -> str:
    """Lower-cased, hyphens as spaces, plural endings off: "LLMs" and "llm" agree."""
    words = re.sub(r"[-_/]", " ", phrase.lower()).split()
    return " ".join(_singular(word) for word in words)


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def _overlaps(phrase: str, other: str) -> bool:
    return set(phrase.split()) <= set(other.split())


if __name__ == "__main__":
    main()
