"""Fusing keyword and semantic rankings into one.

Three standard ways, here so the benchmark can compare them on judged queries:
reciprocal-rank fusion (uses ranks only, robust to score scales), and convex combinations of
scores normalised within each list, min-max or by the list's mean and spread
(distribution-based). The default and its weight are chosen by ``bench/eval_search.py`` on
the training judgements of SciFact and Cranfield together (docs/search-tuning.md).
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


def distribution_based(
    keyword: Sequence[tuple[_K, float]], semantic: Sequence[tuple[_K, float]], keyword_weight: float
) -> list[tuple[_K, float]]:
    """``w·kw + (1-w)·sem`` on scores scaled within each list from mean - 3 sd (0) to mean + 3 sd
    (1): distribution-based score fusion (Mazzeschi, 2023). Unlike min-max, one outlier at
    either end does not squash the rest, and a flat list (no clear winner) stays flat instead
    of being stretched to 0..1. Absent counts as 0."""
    kw, sem = _three_sigma(keyword), _three_sigma(semantic)
    items = dict.fromkeys([item for item, _ in keyword] + [item for item, _ in semantic])
    fused = {
        item: keyword_weight * kw.get(item, 0.0) + (1.0 - keyword_weight) * sem.get(item, 0.0)
        for item in items
    }
    return sorted(fused.items(), key=lambda pair: -pair[1])


def _three_sigma(scored: Sequence[tuple[_K, float]]) -> dict[_K, float]:
    if not scored:
        return {}
    values = [score for _, score in scored]
    mean = sum(values) / len(values)
    sigma = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
    if sigma < 1e-12:
        return {item: 1.0 for item, _ in scored}
    low = mean - 3 * sigma
    return {item: (score - low) / (6 * sigma) for item, score in scored}


def _min_max(scored: Sequence[tuple[_K, float]]) -> dict[_K, float]:
    if not scored:
        return {}
    values = [score for _, score in scored]
    low, high = min(values), max(values)
    if high - low < 1e-12:
        return {item: 1.0 for item, _ in scored}
    return {item: (score - low) / (high - low) for item, score in scored}
