"""The relevance floor: whether a query matches anything at all, and which neighbours count.

Every paper has *some* cosine with any text, so the semantic side always returns k
neighbours, and the keyword side matches any paper holding any one of the words: without a
floor, ``zzqqxx flibbertigibbet`` or ``best pizza in naples`` showed a page of unrelated
papers. Per query, both retrievers' evidence decides, in every mode (each mode asks both):

- a paper close in meaning (cosine at or above :data:`QUERY_FLOOR`) is a match by itself;
- otherwise a paper that both sides rank among their top candidates, with a cosine at or
  above :data:`AGREEMENT_FLOOR`, is one: the claims of SciFact about rare genes have low
  cosines (1% under 0.35) but their words find the same papers their meaning does, while an
  off-topic query's few matching words ("best", "how", "fix") point elsewhere than its meaning;
- otherwise a paper that both sides rank, at or above :data:`NEIGHBOUR_FLOOR`, holding at least
  :data:`WORD_SHARE_FLOOR` of the query's words weighted by their IDF (BM25's word weight) is
  one: a claim naming rare things ("MafA ubiquitination increases the recruitment of P/CAF")
  sits at cosines near 0.35 while the paper it is about holds its rare names, whereas an
  everyday question near the floor finds a paper through one of its words ("how to remove red
  wine stains from carpet": 0.35 of its weight at most, "how to bake banana bread" 0.27);
- a one-word query that some paper holds matches (one word has too little meaning for a cosine);
- without vectors (not built yet, or no model) only the words decide: a paper with every word;
  so do they for a paper with no vector yet (``PaperSearch._unembedded_match``).

When the query matches, semantic neighbours below :data:`NEIGHBOUR_FLOOR` are dropped (they
are the k nearest of anything, not matches); keyword hits stay, they hold the query's words.
The floors are measured by ``bench/relevance_floor.py`` on SciFact and Cranfield (training
judgements) and the nonsense list ``tests/fixtures/nonsense-queries.txt``; see
docs/search-tuning.md. They hold for the bundled model only (:data:`CALIBRATED`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from paperfeed.search.model_files import MODEL_NAME

#: The embedders the floors were measured for (int8 and fp32 weights of the bundled model).
#: Another embedder's cosines mean something else: it gets no floor until it is measured
#: (the hashing stand-in of the plumbing tests among them).
CALIBRATED = frozenset({MODEL_NAME, f"{MODEL_NAME}-int8"})
QUERY_FLOOR = 0.45
AGREEMENT_FLOOR = 0.35
NEIGHBOUR_FLOOR = 0.30
#: Share of the query's IDF weight that a paper both sides rank must hold when its cosine is
#: between :data:`NEIGHBOUR_FLOOR` and :data:`AGREEMENT_FLOOR` (docs/search-tuning.md).
WORD_SHARE_FLOOR = 0.45
#: How deep each side's ranking is read for papers both sides agree on.
AGREEMENT_DEPTH = 100


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the two retrievers say about a query as a whole."""

    #: Best cosine between the query and any paper (None: no vectors to ask).
    best_similarity: float | None
    #: Best cosine among the papers both sides rank in their top :data:`AGREEMENT_DEPTH`.
    agreement_similarity: float | None = None
    #: Some paper holds every word of the query (asked only when there are no vectors).
    every_word: bool = False
    #: Largest IDF-weighted share of the query's words held by one of the papers
    #: :func:`agreeing` returns (None: not asked, the cosines decided).
    word_share: float | None = None


def matches(evidence: Evidence) -> bool:
    """Whether the query is worth showing results for."""
    if evidence.best_similarity is None:
        return evidence.every_word
    if evidence.best_similarity >= QUERY_FLOOR:
        return True
    if (
        evidence.agreement_similarity is not None
        and evidence.agreement_similarity >= AGREEMENT_FLOOR
    ):
        return True
    return evidence.word_share is not None and evidence.word_share >= WORD_SHARE_FLOOR


def agreement(
    keyword: Sequence[tuple[int, float]], semantic: Sequence[tuple[int, float]]
) -> float | None:
    """Best cosine among the semantic hits that the keyword side also found (both ranked)."""
    found = {key for key, _ in keyword[:AGREEMENT_DEPTH]}
    both = [similarity for key, similarity in semantic[:AGREEMENT_DEPTH] if key in found]
    return max(both) if both else None


def agreeing(
    keyword: Sequence[tuple[int, float]],
    semantic: Sequence[tuple[int, float]],
    floor: float = NEIGHBOUR_FLOOR,
) -> list[int]:
    """The papers both sides rank in their top :data:`AGREEMENT_DEPTH`, at a cosine at or above
    ``floor``: the ones whose words :func:`word_share` weighs."""
    found = {key for key, _ in keyword[:AGREEMENT_DEPTH]}
    return [
        key
        for key, similarity in semantic[:AGREEMENT_DEPTH]
        if key in found and similarity >= floor
    ]


def word_share(weights: Mapping[str, float], holders: Mapping[str, set[int]], key: int) -> float:
    """The share of the query's word weight (``weights``: IDF by word) that paper ``key``
    holds (``holders``: the papers holding each word)."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    return sum(weight for word, weight in weights.items() if key in holders.get(word, ())) / total


def neighbours_that_match(
    semantic: Sequence[tuple[int, float]], floor: float = NEIGHBOUR_FLOOR
) -> list[tuple[int, float]]:
    """The semantic hits at or above the floor (the list is ranked, so a prefix)."""
    return [(key, similarity) for key, similarity in semantic if similarity >= floor]


def applies_to(embedder_name: str | None) -> bool:
    """Whether the floor can judge searches made with this embedder (None: words alone)."""
    return embedder_name is None or embedder_name in CALIBRATED
