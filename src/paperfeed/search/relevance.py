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

from collections.abc import Sequence
from dataclasses import dataclass

from paperfeed.search.model_files import MODEL_NAME

#: The embedders the floors were measured for (int8 and fp32 weights of the bundled model).
#: Another embedder's cosines mean something else: it gets no floor until it is measured
#: (the hashing stand-in of the plumbing tests among them).
CALIBRATED = frozenset({MODEL_NAME, f"{MODEL_NAME}-int8"})
QUERY_FLOOR = 0.45
AGREEMENT_FLOOR = 0.35
NEIGHBOUR_FLOOR = 0.30
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


def matches(evidence: Evidence) -> bool:
    """Whether the query is worth showing results for."""
    if evidence.best_similarity is None:
        return evidence.every_word
    if evidence.best_similarity >= QUERY_FLOOR:
        return True
    return (
        evidence.agreement_similarity is not None
        and evidence.agreement_similarity >= AGREEMENT_FLOOR
    )


def agreement(
    keyword: Sequence[tuple[int, float]], semantic: Sequence[tuple[int, float]]
) -> float | None:
    """Best cosine among the semantic hits that the keyword side also found (both ranked)."""
    found = {key for key, _ in keyword[:AGREEMENT_DEPTH]}
    both = [similarity for key, similarity in semantic[:AGREEMENT_DEPTH] if key in found]
    return max(both) if both else None


def neighbours_that_match(
    semantic: Sequence[tuple[int, float]], floor: float = NEIGHBOUR_FLOOR
) -> list[tuple[int, float]]:
    """The semantic hits at or above the floor (the list is ranked, so a prefix)."""
    return [(key, similarity) for key, similarity in semantic if similarity >= floor]


def applies_to(embedder_name: str | None) -> bool:
    """Whether the floor can judge searches made with this embedder (None: words alone)."""
    return embedder_name is None or embedder_name in CALIBRATED
