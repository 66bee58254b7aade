"""Rank fusion: both methods reward agreement between the two rankings."""

from __future__ import annotations

from paperfeed.search.fusion import convex, distribution_based, reciprocal_rank


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


def test_distribution_based_fusion_is_not_squashed_by_one_outlier() -> None:
    # one keyword score far above the rest: min-max squashes the others to ~0, the
    # distribution-based scaling keeps their differences, so agreement still counts
    keyword = [("a", 100.0), ("b", 5.0), ("c", 4.0), ("d", 3.0), ("e", 2.0), ("f", 1.0)]
    semantic = [("c", 0.62), ("b", 0.61), ("a", 0.30), ("d", 0.2), ("e", 0.1)]
    squashed, kept = (
        dict(convex(keyword, semantic, 0.5)),
        dict(distribution_based(keyword, semantic, 0.5)),
    )
    assert squashed["e"] < 0.01 and squashed["f"] == 0.0  # worth nothing beside "a"
    assert kept["e"] > kept["f"] > 0.1  # still ordered, still worth something
    assert [i for i, _ in distribution_based(keyword, semantic, 0.5)][:3] == ["a", "c", "b"]
    assert distribution_based([], [("x", 0.3)], 0.5) == [("x", 0.5)]
    assert distribution_based([("x", 1.0), ("y", 0.0)], [], 1.0)[0][0] == "x"
