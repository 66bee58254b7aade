"""Keyphrases: candidates from the paper's own words, scored with the real model, kept diverse."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from paperfeed.search import keyphrases
from paperfeed.search.embedder import HashingEmbedder, MiniLMEmbedder, TokenEmbedder, TokenStates
from paperfeed.search.keyphrases import (
    MAX_PHRASES,
    STOP_WORDS,
    candidates,
    extract,
    mmr,
    paper_text,
    stem,
)
from tests.conftest import FIXTURES

DAILY = json.loads(
    (FIXTURES / "hf_daily_papers" / "daily_papers_limit30_2026-06-13.json").read_text()
)
PAPERS = [(entry["paper"]["title"], entry["paper"]["summary"]) for entry in DAILY]
BY_ID = {
    entry["paper"]["id"]: (entry["paper"]["title"], entry["paper"]["summary"]) for entry in DAILY
}
SAMPLE = [
    json.loads(line)
    for line in (Path(keyphrases.__file__).parents[1] / "data/sample/daily-papers.jsonl")
    .read_text()
    .splitlines()
]
SAMPLE_BY_ID = {record["id"]: record for record in SAMPLE}


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
    found = {
        c.text for c in candidates("Sparse codes, dense models", "Graphs of molecular crystals.")
    }
    assert "codes dense" not in found and "graphs molecular" not in found
    assert {"sparse codes", "dense models", "molecular crystals"} <= found


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


def test_filler_words_seen_on_the_demos_cards_are_no_phrases() -> None:
    """An outside run found these single words among the demo papers' keyphrases."""
    filler = {"becoming", "aims", "excel", "lacks", "analysis", "boundary"}
    for record in SAMPLE:
        found = {c.text.lower() for c in candidates(record["title"], record["abstract"] or "")}
        assert not found & filler, record["id"]


def test_latex_never_reaches_a_phrase() -> None:
    """2606.10917's abstract has "\\textcolor{black}{a framework}" and "4\\%"."""
    title = "Role-Agent: Bootstrapping LLM Agents via Dual-Role Evolution"
    abstract = (
        "To address these limitations, this paper introduces Role-Agent, \\textcolor{black}{a "
        "framework} that harnesses a single LLM. Experiments yield an average gain of over 4\\% "
        "over strong baselines, with $\\alpha$-scaled rewards and \\emph{world models}."
    )
    found = {c.text for c in candidates(title, abstract)}
    assert "world models" in found and "strong baselines" in found
    for phrase in found:
        assert not {"textcolor", "black", "alpha", "emph"} & set(phrase.lower().split()), phrase


def test_a_token_like_2d_or_1d_is_never_cut_into_fragments() -> None:
    """2606.12303 showed "D token" (from "1D token") and "D feature" (from "2D feature")."""
    title, abstract = BY_ID["2606.12303"]
    text = paper_text(title, abstract)
    found = candidates(title, abstract) + candidates("Fusing 2D/1D token grids", "")
    assert "2D feature grids" in {c.text for c in found}
    for c in found:
        if c.text.startswith("D ") or c.text.startswith("D-"):
            raise AssertionError(c.text)
    for c in candidates(title, abstract):  # each phrase starts and ends at a whole token
        before, after = text[c.start - 1 : c.start], text[c.end : c.end + 1]
        assert not before.isalnum() and not after.isalnum() and before not in "/.", c.text
    assert not any("D token" in c.text for c in candidates("Fusing 2D/1D token grids", ""))


def test_no_phrase_repeats_a_word_and_none_repeats_another(minilm: MiniLMEmbedder) -> None:
    """2504.06514 showed "losing" twice; no phrase may be a verb's stray object either."""
    record = SAMPLE_BY_ID["2504.06514"]
    phrases = extract(minilm, record["title"], record["abstract"])
    assert 5 <= len(phrases) <= MAX_PHRASES
    assert not [p for p in phrases if "losing" in p.lower()]
    _assert_distinct(phrases)


def test_a_title_alone_gives_few_phrases_and_no_repeats(minilm: MiniLMEmbedder) -> None:
    """A title-only paper showed "synthetic minority over-sampling SMOTE technique synthetic
    over-sampling technique minority minority ...": its title's n-grams over and over."""
    phrases = extract(minilm, "SMOTE: Synthetic Minority Over-sampling Technique", "")
    assert phrases and len(phrases) < 5  # never padded
    assert "SMOTE" in phrases
    _assert_distinct(phrases)


def test_no_phrase_repeats_a_word_within_itself() -> None:
    found = candidates("Minority minority classes", "Deep deep networks and token token mixing.")
    for c in found:
        stems = [stem(w) for w in c.text.split()]
        assert len(set(stems)) == len(stems), c.text


def test_phrases_read_as_noun_phrases() -> None:
    """No adverb, no verb after a plural subject, no participle or adjective at the end."""
    abstract = (
        "Reasoning models losing critical skills drastically increases costs. Our pipeline "
        "trained on sparse retrieval excels. Methods modeling local structure are common. "
        "The LLM analyzes failure modes."
    )
    found = {c.text.lower() for c in candidates("", abstract)}
    for bad in ("models losing", "drastically increases", "pipeline trained", "modeling local"):
        assert bad not in found
    assert not any(p.endswith("analyzes") for p in found)
    assert {
        "reasoning models",
        "sparse retrieval",
        "modeling local structure",
        "failure modes",
    } <= found


def test_mmr_never_pads_when_every_row_clashes() -> None:
    vectors = np.eye(4, dtype=np.float32)
    relevance = np.array([0.9, 0.8, 0.7, 0.6], dtype=np.float32)
    assert mmr(relevance, vectors, 3, clash=lambda a, b: True) == [0]
    assert mmr(relevance, vectors, 3, clash=lambda a, b: {a, b} == {0, 1}) == [0, 2, 3]


def _assert_distinct(phrases: list[str]) -> None:
    """No stem in two phrases (beyond the one they may share of three), none twice in one."""
    for i, phrase in enumerate(phrases):
        words = {stem(w) for w in phrase.split()}
        assert len(words) == len(phrase.split()), phrase
        for other in phrases[:i]:
            theirs = {stem(w) for w in other.split()}
            assert 2 * len(words & theirs) < min(len(words), len(theirs)), (phrase, other)
