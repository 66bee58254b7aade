"""Fusing keyword and semantic rankings into one.

Two standard ways, both here so the benchmark can compare them on judged queries:
reciprocal-rank fusion (uses ranks only, robust to score scales) and a convex combination of
min-max normalised scores (uses how much better the top hits are, tunable by one weight).
The default and its weight are chosen by ``bench/eval_search.py`` on training judgements.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

_K = TypeVar("_K", bound=Hashable)

RRF_K = 60


def reciprocal_rank(rankings: Sequence[Sequence[_K]], k: int = RRF_K) -> list[tuple[_K, float]]:
    """Σ 1/(k + rank) over the rankings an item appears in, best first (Cormack et al., 2009)."""
    scores: dict[_K, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: -pair[1])


def convex(
    keyword: Sequence[tuple[_K, float]], semantic: Sequence[tuple[_K, float]], keyword_weight: float
) -> list[tuple[_K, float]]:
    """``w·kw + (1-w)·sem`` on scores min-max normalised within each list; absent counts as 0."""
    kw, sem = _min_max(keyword), _min_max(semantic)
    items = dict.fromkeys([item for item, _ in keyword] + [item for item, _ in semantic])
    fused = {
        item: keyword_weight * kw.get(item, 0.0) + (1.0 - keyword_weight) * sem.get(item, 0.0)
        for item in items
    }
    return sorted(fused.items(), key=lambda pair: -pair[1])


def _min_max(scored: Sequence[tuple[_K, float]]) -> dict[_K, float]:
    if not scored:
        return {}
    values = [score for _, score in scored]
    low, high = min(values), max(values)
    if high - low < 1e-12:
        return {item: 1.0 for item, _ in scored}
    return {item: (score - low) / (high - low) for item, score in scored}
