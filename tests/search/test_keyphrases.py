"""Keyphrases: candidates from the paper's own words, scored with the real model, kept diverse."""

from __future__ import annotations

import json

import numpy as np

from paperfeed.search.embedder import HashingEmbedder, MiniLMEmbedder, TokenEmbedder, TokenStates
from paperfeed.search.keyphrases import (
    MAX_PHRASES,
    STOP_WORDS,
    candidates,
    extract,
    mmr,
    paper_text,
)
from tests.conftest import FIXTURES

DAILY = json.loads(
    (FIXTURES / "hf_daily_papers" / "daily_papers_limit30_2026-06-13.json").read_text()
)
PAPERS = [(entry["paper"]["title"], entry["paper"]["summary"]) for entry in DAILY]


def test_candidates_are_runs_of_the_papers_own_words() -> None:
    title, abstract = PAPERS[0]
    text = paper_text(title, abstract)
    found = candidates(title, abstract)
    assert found
    for candidate in found:
        words = candidate.text.split()
        assert 1 <= len(words) <= 3
        assert not {w.lower() for w in words} & STOP_WORDS
        assert text[candidate.start : candidate.end].lower() == candidate.text.lower()


def test_a_phrase_never_spans_punctuation_or_a_stop_word() -> None:
    found = {c.text for c in candidates("Sparse codes, dense models", "Graphs of molecules.")}
    assert "codes dense" not in found and "graphs molecules" not in found
    assert {"sparse codes", "dense models", "Graphs", "molecules"} <= found


def test_the_abstracts_casing_wins_over_the_titles() -> None:
    found = {c.text for c in candidates("Heterogeneous Agents With LoRA", "heterogeneous agents")}
    assert "heterogeneous agents" in found and "LoRA" in found


def test_real_papers_get_five_to_ten_phrases_of_their_own_words(minilm: MiniLMEmbedder) -> None:
    for title, abstract in PAPERS[:5]:
        phrases = extract(minilm, title, abstract)
        assert 5 <= len(phrases) <= MAX_PHRASES
        assert len({p.lower() for p in phrases}) == len(phrases)
        text = paper_text(title, abstract).lower()
        assert all(phrase.lower() in text for phrase in phrases)


def test_the_token_states_of_the_indexing_pass_give_the_same_phrases(
    minilm: MiniLMEmbedder,
) -> None:
    assert isinstance(minilm, TokenEmbedder)
    title, abstract = PAPERS[2]
    states: list[TokenStates] = []
    vector = minilm.embed_documents_with_tokens(
        [paper_text(title, abstract)], lambda _, s: states.append(s)
    )[0]
    assert np.allclose(vector, minilm.embed_documents([paper_text(title, abstract)])[0])
    assert extract(minilm, title, abstract, tokens=states[0]) == extract(minilm, title, abstract)


def test_an_embedder_without_token_states_embeds_each_phrase() -> None:
    title, abstract = PAPERS[1]
    phrases = extract(HashingEmbedder(), title, abstract)
    assert 5 <= len(phrases) <= MAX_PHRASES


def test_mmr_keeps_the_most_relevant_then_skips_near_copies() -> None:
    vectors = np.array([[1, 0, 0], [0.99, 0.14, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    relevance = np.array([0.9, 0.89, 0.5, 0.4], dtype=np.float32)
    assert mmr(relevance, vectors, 3) == [0, 2, 3]
    assert mmr(relevance, vectors, 3, diversity=0.0) == [0, 1, 2]


def test_a_paper_without_content_words_has_no_phrases() -> None:
    assert extract(HashingEmbedder(), "On the", "") == []
