"""Excerpts begin at a sentence (or with "…"), never inside a word, and end on a whole word."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from paperfeed.search.embedder import HashingEmbedder
from paperfeed.search.hybrid import PaperSearch
from paperfeed.search.snippets import REACH_BACK, char_ranges, snippet_html
from tests.conftest import FIXTURES

LISTINGS = FIXTURES / "arxiv-more-1-head300.jsonl"
# A real abstract (1904.11093 in the listing records of tests/fixtures).
ABSTRACT = next(
    json.loads(line)["abstract"]
    for line in (FIXTURES / "arxiv-more-1-head300.jsonl").read_text().splitlines()
    if json.loads(line)["id"] == "1904.11093"
)
TEXT = " ".join(ABSTRACT.split())


def span_of(word: str) -> tuple[int, int]:
    at = TEXT.index(word)
    return at, at + len(word)


def test_a_fragment_cut_inside_a_sentence_is_widened_to_the_sentence_start() -> None:
    match = span_of("autoencoder")
    sentence = TEXT.rfind(". ", 0, match[0]) + 2
    assert sentence > 2 and 0 < match[0] - sentence < REACH_BACK  # (the case under test)

    html = snippet_html(TEXT, (match[0] - 3, match[0] + 120), [match])

    assert not html.startswith("…")
    assert TEXT[sentence:].startswith(html.split("<b>")[0])


def test_a_fragment_far_into_a_sentence_starts_with_an_ellipsis_and_a_whole_word() -> None:
    long = "word " * 40 + "alpha beta gamma delta epsilon"
    match = (long.index("delta"), long.index("delta") + 5)

    html = snippet_html(long, (long.index("beta") + 2, len(long)), [match])

    assert html == "… gamma <b>delta</b> epsilon"


def test_the_end_is_a_whole_word_then_an_ellipsis() -> None:
    match = span_of("sparse")
    end = TEXT.index(" ", match[1] + 40) - 2  # inside a word

    html = snippet_html(TEXT, (0, end), [match])

    assert html.endswith(" …")
    shown = html.removesuffix(" …").replace("<b>", "").replace("</b>", "")
    assert TEXT.startswith(shown) and TEXT[len(shown)] == " "


def test_text_is_escaped_and_only_matches_are_marked() -> None:
    text = "Results: a<b & c>d. Then <b>sparse</b> codes win."
    match = (text.index("sparse"), text.index("sparse") + 6)
    html = snippet_html(text, (0, len(text)), [match])
    assert html == (
        "Results: a&lt;b &amp; c&gt;d. Then &lt;b&gt;<b>sparse</b>&lt;/b&gt; codes win."
    )


def test_byte_offsets_become_character_offsets() -> None:
    text = "Première étude. Ça marche."
    word = "marche"
    low = len(text[: text.index(word)].encode())
    assert char_ranges(text, [(low, low + len(word))]) == [
        (text.index(word), text.index(word) + len(word))
    ]


def test_search_result_snippets_start_at_a_sentence_or_an_ellipsis(indexed_home: Path) -> None:
    searcher = PaperSearch(indexed_home, HashingEmbedder())
    abstracts = {
        record["id"]: " ".join(record["abstract"].split())
        for record in map(json.loads, LISTINGS.read_text().splitlines())
    }
    hits = searcher.search("graph neural network", mode="keyword", limit=20).hits
    shown = [(hit.id, html.unescape(re.sub(r"</?b>", "", hit.snippet))) for hit in hits]
    assert sum(1 for _, text in shown if text) >= 10
    for paper_id, text in shown:
        if not text:
            continue
        core = text.removeprefix("… ").removesuffix(" …")
        abstract = abstracts[paper_id]
        at = abstract.find(core)
        assert at >= 0, text
        if text.startswith("… "):
            assert abstract[at - 1] == " "  # a whole word
        else:
            assert at == 0 or abstract[:at].rstrip()[-1] in ".!?", text
        end = at + len(core)
        assert end == len(abstract) or not abstract[end].isalnum(), text
