"""Keyword search on real papers: fields, filters, snippets, and hostile input."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from paperfeed.search.documents import paper_key
from paperfeed.search.embedder import HashingEmbedder
from paperfeed.search.hybrid import PaperSearch
from paperfeed.search.lexical import ANY_TERM_CLAUSES, MAX_SLOP
from paperfeed.search.query import Filters, parse_query


@pytest.fixture
def searcher(indexed_home: Path) -> PaperSearch:
    return PaperSearch(indexed_home, HashingEmbedder())


def test_title_words_find_the_paper(searcher: PaperSearch) -> None:
    hits = searcher.search("Deep Sparse Representation-based Classification", mode="keyword").hits
    assert hits[0].id == "1904.11093"
    assert "<b>" in hits[0].snippet


def test_author_category_and_year_filters(searcher: PaperSearch) -> None:
    by_author = searcher.search('author:"Vishal M. Patel"', mode="keyword", limit=50).hits
    assert by_author and all("Vishal M. Patel" in hit.authors for hit in by_author)
    in_category = searcher.search("learning cat:stat.ML", mode="keyword", limit=50).hits
    assert in_category and all("stat.ML" in hit.categories for hit in in_category)
    assert searcher.search("learning year:1990", mode="keyword").hits == []


def test_filters_hold_on_the_semantic_side_and_still_fill_the_page(searcher: PaperSearch) -> None:
    # 17 of the 300 papers are cs.RO, 3 are stat.ML
    robots = searcher.search(
        "image segmentation", mode="semantic", filters=Filters(categories=("cs.RO",))
    ).hits
    assert len(robots) == 10 and all("cs.RO" in hit.categories for hit in robots)
    rare = searcher.search(
        "image segmentation", mode="hybrid", filters=Filters(categories=("stat.ML",))
    ).hits
    assert len(rare) == 3 and all("stat.ML" in hit.categories for hit in rare)


@pytest.mark.parametrize(
    "text",
    [
        '"unbalanced',
        "AND OR NOT",
        "((((",
        "a:b:c",
        "-",
        "\x00\x07\x1b[31m",
        "x" * 10_000,
        "机器学习 графы",
        "title:",
        "year:",
        '""',
        "*",
        "~2^3",
    ],
)
def test_hostile_queries_never_raise(searcher: PaperSearch, text: str) -> None:
    for mode in ("keyword", "semantic", "hybrid"):
        results = searcher.search(text, mode=mode)  # type: ignore[arg-type]
        assert isinstance(results.hits, list)


def test_narrow_filters_fall_back_to_exact_ranking(
    searcher: PaperSearch, monkeypatch: pytest.MonkeyPatch
) -> None:
    from paperfeed.search import hybrid

    monkeypatch.setattr(hybrid, "CANDIDATES", 5)
    monkeypatch.setattr(hybrid, "EXACT_BELOW", 20)
    hits = searcher.search(
        "sparse codes", mode="semantic", limit=5, filters=Filters(categories=("stat.ML",))
    ).hits
    assert len(hits) == 3 and all("stat.ML" in hit.categories for hit in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_papers_are_found_by_key_among_few_or_many(searcher: PaperSearch) -> None:
    """Lookups by key take one term query per key, or a term set beyond ANY_TERM_CLAUSES:
    either way exactly the stored papers come back."""
    hits = searcher.search("learning", mode="keyword", limit=30).hits
    keys = [paper_key(hit.id) for hit in hits]
    unknown = [paper_key(f"2999.{n:05d}") for n in range(ANY_TERM_CLAUSES + 10)]

    for asked in (keys[:5], keys + unknown):
        found = searcher.keyword.papers(asked)
        assert set(found) == set(asked) & set(keys)
        assert {doc["id"][0] for doc in found.values()} == {
            hit.id for hit in hits if paper_key(hit.id) in asked
        }
    assert searcher.keyword.allowed_keys(Filters(), keys + unknown) == set(keys)


def test_a_sloppy_phrase_of_repeated_words_cannot_exhaust_the_machine(
    searcher: PaperSearch,
) -> None:
    """``"model model …"~1000`` (20 words) took 17.7 GB and ten minutes of CPU on the demo
    sample: the slop a query asks for is capped before tantivy sees it."""
    attack = '"' + "learning " * 20 + '"~1000'
    parsed = repr(searcher.keyword._text_query(attack))
    assert f"slop: {MAX_SLOP}" in parsed and "slop: 1000" not in parsed  # before running it
    for mode in ("keyword", "hybrid"):
        assert isinstance(searcher.search(attack, mode=mode).hits, list)
    near = searcher.search('"sparse classification"~3', mode="keyword").hits
    assert near and near[0].id == "1904.11093"  # a real proximity search still works


def test_word_weights_are_bm25_idf_and_say_which_papers_hold_each_word(
    searcher: PaperSearch,
) -> None:
    """What the relevance floor weighs a paper's words by: a rare word weighs more than a
    common one, a word no paper holds the most, and the holders are the asked papers with
    the word (in any text field, stemmed as the index stems)."""
    index = searcher.keyword
    total = index.count()
    sparse = paper_key("1904.11093")  # "Deep Sparse Representation-based Classification"
    others = [paper_key(hit.id) for hit in searcher.search("learning", mode="keyword").hits]
    weights, holders = index.word_weights(
        ["Learning", "sparse", "zzqqxx", "___"], [sparse, *others]
    )
    assert set(weights) == {"learning", "sparse", "zzqqxx", "___"}
    for word in ("learning", "sparse"):
        df = len(index.search(parse_query(word), total))
        assert 0 < df < total
        assert weights[word] == pytest.approx(math.log(1 + (total - df + 0.5) / (df + 0.5)))
    assert weights["zzqqxx"] == weights["___"] > weights["sparse"] > weights["learning"] > 0
    assert sparse in holders["sparse"] and holders["zzqqxx"] == set()
    assert set(others) <= holders["learning"]  # "learning" found them, stemmed
    assert holders["sparse"] <= {sparse, *others}
    assert index.word_weights(["sparse"], []) == ({"sparse": weights["sparse"]}, {"sparse": set()})
