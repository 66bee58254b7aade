"""What the query syntax excludes (``-word``, ``NOT word``, ``NOT "a phrase"``) is excluded in
every mode: the semantic side knows no syntax, so its papers are checked against the keyword
index, and it embeds the query without the excluded words."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from paperfeed.search.embedder import HashingEmbedder
from paperfeed.search.hybrid import MODES, Mode, PaperSearch
from paperfeed.search.lexical import excluded_clauses, without_exclusions
from tests.conftest import FIXTURES

# Of the 300 papers, 154 mention "image", 24 of them a word stemmed to "segment" and 5 of
# them the phrase "semantic segmentation" (the phrase, not its words, is what is excluded).
WANTED = re.compile(r"\bimage", re.I)
SEGMENT = re.compile(r"\bsegment", re.I)
PHRASE = re.compile(r"\bsemantic\s+segmentation", re.I)


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    """Each fixture paper's indexed text (title, abstract, authors), by id: what the tests
    check hits against, read from the fixture rather than from the index under test."""
    lines = (FIXTURES / "arxiv-more-1-head300.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    return {r["id"]: f"{r['title']} {r['abstract']} {r['authors']}" for r in rows}


@pytest.fixture
def searcher(indexed_home: Path) -> PaperSearch:
    return PaperSearch(indexed_home, HashingEmbedder())


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("query", "excluded"),
    [
        ("image -segmentation", SEGMENT),
        ("image NOT segmentation", SEGMENT),
        ("image NOT segmented", SEGMENT),  # the stemmer's match, as the keyword side's
        ('image NOT "semantic segmentation"', PHRASE),
        ('image -"semantic segmentation"', PHRASE),
    ],
)
def test_no_mode_returns_a_paper_holding_an_excluded_word_or_phrase(
    searcher: PaperSearch, texts: dict[str, str], mode: Mode, query: str, excluded: re.Pattern[str]
) -> None:
    hits = searcher.search(query, mode=mode, limit=40).hits
    assert len(hits) == 40  # 130 papers hold "image" and no excluded word: the page fills
    holding = [hit.id for hit in hits if excluded.search(texts[hit.id])]
    assert holding == [], f"{mode} {query!r} returned papers holding what it excludes"
    assert sum(bool(WANTED.search(texts[hit.id])) for hit in hits) >= 30


def test_a_phrase_excludes_the_phrase_not_its_words(
    searcher: PaperSearch, texts: dict[str, str]
) -> None:
    hits = searcher.search('image NOT "semantic segmentation"', mode="keyword", limit=200).hits
    assert any(SEGMENT.search(texts[hit.id]) for hit in hits)


def test_the_semantic_side_embeds_the_query_without_its_exclusions(
    searcher: PaperSearch, texts: dict[str, str]
) -> None:
    """``image -segmentation`` ranks as ``image`` does, less the papers holding "segment":
    embedding "segmentation" too would pull segmentation papers' neighbours up."""
    plain = searcher.search("image", mode="semantic", limit=100).hits
    expected = [hit.id for hit in plain if not SEGMENT.search(texts[hit.id])][:20]
    for query in ("image -segmentation", "image NOT segmentation"):
        ranked = [hit.id for hit in searcher.search(query, mode="semantic", limit=20).hits]
        assert ranked == expected, query


def test_field_filters_in_the_text_hold_in_every_mode(
    searcher: PaperSearch,
) -> None:
    for mode in MODES:
        in_category = searcher.search("image cat:cs.RO -segmentation", mode=mode).hits
        assert in_category and all("cs.RO" in hit.categories for hit in in_category), mode
        by_author = searcher.search('sparse author:"Vishal M. Patel"', mode=mode, limit=50).hits
        assert by_author and all("Vishal M. Patel" in hit.authors for hit in by_author), mode
        assert searcher.search("image year:1990", mode=mode).hits == [], mode


@pytest.mark.parametrize(
    ("text", "clauses", "rest"),
    [
        ("diffusion -policy", ["policy"], "diffusion"),
        ("diffusion NOT policy", ["policy"], "diffusion"),
        ('diffusion NOT "policy gradient"', ['"policy gradient"'], "diffusion"),
        ('a -"b c"~3 -title:d NOT (e OR f) g', ['"b c"~3', "title:d", "(e OR f)"], "a g"),
        ("zzqqxx-model self-supervised", [], "zzqqxx-model self-supervised"),
        ("diffusion policy", [], "diffusion policy"),
    ],
)
def test_excluded_clauses_are_taken_out_of_the_text(
    text: str, clauses: list[str], rest: str
) -> None:
    assert excluded_clauses(text) == clauses
    assert without_exclusions(text) == rest


def test_a_negated_field_filter_leaves_its_papers_out_in_every_mode(
    searcher: PaperSearch,
) -> None:
    """``-author:x``/``NOT author:x`` and ``-cat:x``/``NOT cat:x``: "NOT author:x" was read
    as the filter author:x, the very opposite, and "-author:x" was ignored."""
    for mode in MODES:
        everyone = searcher.search("sparse", mode=mode, limit=50).hits
        assert any("Vishal M. Patel" in hit.authors for hit in everyone), mode
        for query in ('sparse -author:"Vishal M. Patel"', 'sparse NOT author:"Vishal M. Patel"'):
            hits = searcher.search(query, mode=mode, limit=50).hits
            assert hits and not any("Vishal M. Patel" in hit.authors for hit in hits), query
        robots = searcher.search("image", mode=mode, limit=50).hits
        assert any("cs.RO" in hit.categories for hit in robots), mode
        for query in ("image -cat:cs.RO", "image NOT cat:cs.RO"):
            hits = searcher.search(query, mode=mode, limit=50).hits
            assert len(hits) == 50 and not any("cs.RO" in h.categories for h in hits), query
