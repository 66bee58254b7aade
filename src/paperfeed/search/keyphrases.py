"""A paper's keyphrases (the public API's ``ai_keywords``), KeyBERT-style over our own embedder.

Candidates are the noun-phrase-like runs of one to three words in the title and abstract
(split at stop words and punctuation, as KeyBERT's default vectoriser does, but never joining
words across them). Each is scored by cosine similarity to the paper's own vector, and the
phrases kept are picked by maximal marginal relevance, so that they are relevant and not five
wordings of one idea.

A phrase's vector is the mean of its word pieces' contextual vectors from the pass that embeds
the paper, so extraction costs no model run of its own (KeyBERT embeds every candidate
separately: several times the cost of embedding the paper). The ``keybert`` package itself
loads PyTorch on import and agreed less with the public site's keywords (docs/bench-papers.md).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from paperfeed.search.embedder import Embedder, TokenEmbedder, TokenStates, Vectors

MAX_PHRASES = 10
MAX_WORDS = 3
MAX_CANDIDATES = 64  # the most frequent and earliest
DIVERSITY = 0.6  # MMR: 0 ranks by relevance alone, 1 by novelty alone

# Words that end a candidate run. The usual English stop words, plus the verbs, adverbs and
# paper-speak ("propose", "results", "novel") that abstracts use around their real subjects.
_STOP_WORDS = """
    a about above across after again against all almost along also although always am among
    an and another any are around as at be because been before being below between both but
    by can cannot could did do does doing done down during each either else enough etc even
    ever every few for from further had has have having he her here hers him his how however
    i if in into is it its itself just least less many may me might more most much must my
    neither no nor not now of off often on once one only onto or other others otherwise our
    ours out over own per perhaps rather same several she should since so some such than
    that the their theirs them then there therefore these they this those though through
    thus to too toward towards under until up upon us use used uses using very via was we
    well were what when where whether which while who whom whose why will with within
    without would yet you your achieve achieves achieved address addresses allow allows
    approach approaches based demonstrate demonstrates demonstrated different effective
    efficient enable enables enabling existing experiment experiments extensive furthermore
    introduce introduces introduced key make makes new novel paper present presents proposed
    propose proposes provide provides remains result results show shows shown significant
    significantly state-of-the-art study studies task tasks including compared improve
    improves improved method methods outperforms outperform performance various work works
    first second third two three four five
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())
_WORD = re.compile(r"[A-Za-z][\w+-]*[\w+]|[A-Za-z]")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A phrase as first written (its casing is kept for display), where that is in
    :func:`paper_text` (characters), how often it occurs, and whether the title has it."""

    text: str
    start: int
    end: int
    count: int
    in_title: bool


def extract(
    embedder: Embedder,
    title: str,
    abstract: str,
    vector: Vectors | None = None,
    tokens: TokenStates | None = None,
    *,
    top: int = MAX_PHRASES,
) -> list[str]:
    """Up to ``top`` keyphrases of the paper, the most relevant first.

    ``vector`` and ``tokens`` are the paper's embedding of :func:`paper_text` and its token
    states, when the caller has them already (the indexer does): with both, extraction runs
    the model not at all. Phrases are then scored by their words' contextual vectors; an
    embedder without token states embeds each candidate phrase instead.
    """
    found = candidates(title, abstract)
    if not found:
        return []
    text = paper_text(title, abstract)
    if tokens is None and isinstance(embedder, TokenEmbedder):
        states: list[TokenStates] = []
        vectors = embedder.embed_documents_with_tokens([text], lambda _, t: states.append(t))
        tokens, vector = states[0], vector if vector is not None else vectors[0]
    if vector is None and tokens is not None:
        vector = tokens.vectors.mean(axis=0)  # the paper's vector: mean-pooled, as embedded
    if vector is None:
        vector = embedder.embed_documents([text])[0]
    if tokens is not None:
        found, phrase_vectors = _in_context(found, tokens)
    else:
        phrase_vectors = embedder.embed_documents([c.text for c in found])
    if not found:
        return []
    relevance = phrase_vectors @ (vector / max(float(np.linalg.norm(vector)), 1e-12))
    return [found[i].text for i in mmr(relevance, phrase_vectors, top)]


def paper_text(title: str, abstract: str) -> str:
    """The text a paper is embedded as (``IndexedPaper.text``)."""
    return f"{title}. {abstract}" if abstract else title


def candidates(title: str, abstract: str) -> list[Candidate]:
    """Runs of one to ``MAX_WORDS`` content words, the frequent and early ones first.

    Words are in one run only when nothing but a space separates them: punctuation, a stop
    word or a number ends the run."""
    seen: dict[str, Candidate] = {}
    for part, offset, in_title in ((title, 0, True), (abstract, len(title) + 2, False)):
        run: list[re.Match[str]] = []
        for word in [*_WORD.finditer(part), None]:
            joined = word is not None and (not run or part[run[-1].end() : word.start()] == " ")
            if joined and word is not None and _content_word(word[0]):
                run.append(word)
                continue
            _count_phrases(seen, run, offset, in_title)
            run = [word] if word is not None and _content_word(word[0]) else []
    ranked = sorted(seen.values(), key=lambda c: (-(c.count + 2 * c.in_title), c.start))
    return ranked[:MAX_CANDIDATES]


def mmr(relevance: Vectors, vectors: Vectors, top: int, diversity: float = DIVERSITY) -> list[int]:
    """Indexes of ``top`` rows chosen by maximal marginal relevance (Carbonell & Goldstein)."""
    chosen = [int(np.argmax(relevance))]
    similarity = vectors @ vectors.T
    while len(chosen) < min(top, len(relevance)):
        redundancy = similarity[:, chosen].max(axis=1)
        score = (1 - diversity) * relevance - diversity * redundancy
        score[chosen] = -np.inf
        chosen.append(int(np.argmax(score)))
    return chosen


def _uncapitalised(word: str) -> str:
    """A title's capitalised word in lower case; names such as "LoRA" or "GPU" stay."""
    return word.lower() if word[:1].isupper() and word[1:].islower() else word


def _content_word(word: str) -> bool:
    return word.lower() not in STOP_WORDS and not word.isdigit()


def _count_phrases(
    seen: dict[str, Candidate], run: Sequence[re.Match[str]], offset: int, in_title: bool
) -> None:
    """Count the n-grams of ``run`` (words of a text that starts at ``offset``)."""
    for size in range(1, MAX_WORDS + 1):
        for first in range(len(run) - size + 1):
            words = [m[0] for m in run[first : first + size]]
            if size == 1 and not (len(words[0]) > 3 or (len(words[0]) > 1 and words[0].isupper())):
                continue  # a lone short word ("GPU" is kept: capitals say it is a name)
            phrase = " ".join(words if not in_title else map(_uncapitalised, words))
            key = phrase.lower()
            old = seen.get(key)
            if old is None:
                start, end = run[first].start(), run[first + size - 1].end()
                seen[key] = Candidate(phrase, offset + start, offset + end, 1, in_title)
            else:  # the abstract's casing wins over the title's ("Heterogeneous Agents")
                text = old.text if not old.in_title or in_title else phrase
                seen[key] = replace(
                    old, text=text, count=old.count + 1, in_title=old.in_title or in_title
                )


def _in_context(found: list[Candidate], tokens: TokenStates) -> tuple[list[Candidate], Vectors]:
    """The candidates within the embedded tokens, each with the normalised mean of its word
    pieces' contextual vectors (at its first occurrence)."""
    pieces = [i for i, (start, end) in enumerate(tokens.offsets) if end > start]  # not [CLS]
    starts = [tokens.offsets[i][0] for i in pieces]
    kept: list[Candidate] = []
    rows: list[Vectors] = []
    for candidate in found:
        first = last = bisect_left(starts, candidate.start)
        while last < len(pieces) and tokens.offsets[pieces[last]][1] <= candidate.end:
            last += 1
        if last > first:  # (none: the text was cut at MAX_TOKENS before the phrase)
            mean = tokens.vectors[pieces[first:last]].mean(axis=0)
            rows.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
            kept.append(candidate)
    vectors = np.asarray(rows, dtype=np.float32).reshape(len(rows), tokens.vectors.shape[1])
    return kept, vectors
