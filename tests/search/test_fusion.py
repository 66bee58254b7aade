"""Rank fusion: both methods reward agreement between the two rankings."""

from __future__ import annotations

from paperfeed.search.fusion import convex, reciprocal_rank


def test_rrf_prefers_items_both_lists_rank_high() -> None:
    fused = reciprocal_rank([["a", "b", "c"], ["b", "d", "a"]])
    assert [item for item, _ in fused][:2] == ["b", "a"]


def test_convex_weights_normalised_scores() -> None:
    keyword = [("a", 12.0), ("b", 6.0), ("c", 0.0)]
    semantic = [("c", 0.9), ("b", 0.8), ("a", 0.1)]
    assert [i for i, _ in convex(keyword, semantic, 1.0)] == ["a", "b", "c"]
    assert [i for i, _ in convex(keyword, semantic, 0.0)] == ["c", "b", "a"]
    scores = dict(convex(keyword, semantic, 0.5))
    assert scores["b"] > scores["c"] > 0


def test_convex_with_one_side_empty() -> None:
    assert convex([], [("x", 0.3)], 0.5) == [("x", 0.5)]
