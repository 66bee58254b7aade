"""A paper's keyphrases (the public API's ``ai_keywords``), KeyBERT-style over our own embedder.

Candidates are the noun-phrase-like runs of one to three words in the title and abstract
(split at stop words, common verbs and punctuation, never joining words across them), found
after LaTeX, math, markup and URLs are masked out. Without a part-of-speech tagger, "noun
phrase like" is judged by the words' forms: no adverb, no plural or verb before the last
word, no participle or adjective at the end, no word twice, and a single word only when it
reads as a name or a term ("LLM", "LoRA", "cross-entropy"). Each is scored by cosine
similarity to the paper's own vector, and the phrases kept are picked by maximal marginal
relevance, skipping any that shares half its words with one already kept, so that they are
relevant and not five wordings of one idea. A paper with little text (a title alone) gets
fewer phrases: the list is never padded.

A phrase's vector is the mean of its word pieces' contextual vectors from the pass that embeds
the paper, so extraction costs no model run of its own (KeyBERT embeds every candidate
separately: several times the cost of embedding the paper). The ``keybert`` package itself
loads PyTorch on import and agreed less with the public site's keywords (docs/bench-papers.md).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

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
_WORD = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9+-]*[A-Za-z0-9+])?")
_BREAK = "\x00"
_CHUNK = re.compile(r"[^\s\x00]+")
_LEADING = "\"'`([{<\u201c\u2018"
_TRAILING = "\"'.,;:!?)]}>\u201d\u2019"
_MARKUP = re.compile(
    r"https?://\S+|www\.\S+"  # URLs
    r"|\$\$.*?\$\$|\$[^$]*\$|\\\(.*?\\\)|\\\[.*?\\\]"  # math
    r"|\\(?:textcolor|color|cite[pt]?|ref|eqref|label|url|href|includegraphics)\*?"
    r"(?:\[[^\]]*\])?\{[^{}]*\}"  # a command with an argument that names no content
    r"|\\[A-Za-z]+\*?|\\[^A-Za-z\s]"  # any other command or escaped character
    r"|</?[A-Za-z][^<>]*>",  # HTML or XML markup
    re.DOTALL,
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Verbs (and a few other words) that end a run as stop words do: abstracts use them around
# their real subjects ("LLM analyzes", "exacerbates overthinking", "aims").
_VERBS = _words("""
    aim aims become becomes becoming build builds excel excels lack lacks lacking need needs
    needed seek seeks see sees reveal reveals yield yields exhibit exhibits remain remains
    employ employs obtain obtains consider considers require requires fail fails help helps
    give gives take takes lead leads keep keeps replicate assume assumes assuming predict
    predicts conduct conducts perform performs capture captures identify identifies enhance
    enhances generate generates learn learns explore explores investigate investigates
    evaluate evaluates examine examines mitigate mitigates reduce reduces produce produces
    preserve preserves maintain maintains ensure ensures confirm confirms reach reaches exist
    exists undergo undergoes leave leaves suggest suggests indicate indicates allow allows
    rely relies operate operates consist consists contain contains involve involves offer
    offers extend extends combine combines integrate integrates leverages exploit exploits
    adopt adopts apply applies highlight highlights emphasize emphasizes focus focuses tackle
    tackles alleviate alleviates surpass surpasses exceed exceeds depend depends emerge
    emerges occur occurs appear appears persist persists seem seems tend tends boost boosts
    matter matters facilitate facilitates encourage encourages exacerbate exacerbates still
    ahead according whenever throughout like six seven eight nine ten hundred thousand million billion
""")
# Adjectives in common use, and adjective endings, that end no noun phrase.
_NOT_LAST = _words("""
    local global specific general consistent robust multiple common broad strong weak large
    small high low rich complex simple diverse single real better best higher lower
    available possible able critical important unchanged regular substantial
""")
_ADJECTIVE_ENDINGS = ("al", "ic", "ive", "ous", "ful", "less", "able", "ible")
_NOT_ADJECTIVES = _words("""
    retrieval signal proposal interval tutorial potential journal removal arrival trial
    manual material rival approval survival animal hospital capital total portal terminal
    appraisal rehearsal reversal referral renewal denial goal metal crystal individual
    logic topic music traffic metric heuristic arithmetic fabric critic public clinic graphic
    objective alternative perspective initiative primitive incentive directive archive
    narrative derivative executive drive collective positive negative relative native motive
    variable table cable timetable
""")
_NOT_ADVERBS = _words("""
    family assembly supply early italy poly monopoly reply daily weekly monthly yearly hourly
    friendly butterfly apply rely multiply anomaly ally rally july
""")
_NOT_PLURALS = _words("series species news lens means")
# Ends of hyphenated adjectives ("large-scale", "step-wise"): no term on their own.
_ADJECTIVE_COMPOUNDS = _words("""
    scale wise cost level aware based free specific like time style oriented driven grained
    efficient intensive friendly agnostic dependent independent sensitive
""")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A phrase as first written (its casing is kept for display), where that is in
    :func:`paper_text` (characters), how often it occurs, and whether the title has it."""

    text: str
    start: int
    end: int
    count: int
    in_title: bool


@dataclass(frozen=True, slots=True)
class _Word:
    """What the phrase rules need to know of one word, worked out once per distinct word."""

    stem: str
    adverb: bool
    inner_ok: bool  # may stand before another word (no plural, no verb's third person)
    last_ok: bool  # may end a phrase (no participle, verb or adjective)
    alone_ok: bool  # may be a phrase on its own (a name or a term)


def extract(
    embedder: Embedder,
    title: str,
    abstract: str,
    vector: Vectors | None = None,
    tokens: TokenStates | None = None,
    *,
    top: int = MAX_PHRASES,
) -> list[str]:
    """Up to ``top`` keyphrases of the paper, the most relevant first; fewer when the paper
    has few phrases worth showing (a title alone), never padded.

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
    stems = [{_word(w).stem for w in c.text.split(" ")} for c in found]

    def clash(a: int, b: int) -> bool:
        return _overlapping(stems[a], stems[b])

    return [found[i].text for i in mmr(relevance, phrase_vectors, top, clash=clash)]


def paper_text(title: str, abstract: str) -> str:
    """The text a paper is embedded as (``IndexedPaper.text``)."""
    return f"{title}. {abstract}" if abstract else title


def candidates(title: str, abstract: str) -> list[Candidate]:
    """Runs of one to ``MAX_WORDS`` content words, the frequent and early ones first.

    Words are in one run only when nothing but a space separates them: punctuation, a stop
    word, a number, LaTeX, markup or a URL ends the run, and a token glued to others by
    other characters ("2D/1D", "C4.5") is no word at all, so that no fragment of it becomes
    a phrase. Phrases that do not read as noun phrases (:func:`_noun_phrase_like`) and runs
    that only ever occur inside a longer one ("Large Language" of "Large Language Models")
    are dropped."""
    seen: dict[str, Candidate] = {}
    for part, offset, in_title in ((title, 0, True), (abstract, len(title) + 2, False)):
        for run in _runs(_masked(part)):
            _count_phrases(seen, part, run, offset, in_title)
    ranked = sorted(_closed(seen), key=lambda c: (-(c.count + 2 * c.in_title), c.start))
    return ranked[:MAX_CANDIDATES]


def mmr(
    relevance: Vectors,
    vectors: Vectors,
    top: int,
    diversity: float = DIVERSITY,
    clash: Callable[[int, int], bool] | None = None,
) -> list[int]:
    """Indexes of up to ``top`` rows chosen by maximal marginal relevance (Carbonell &
    Goldstein); a row that ``clash``-es with one chosen already is skipped, so fewer than
    ``top`` come back when the rows run out (we never pad)."""
    similarity = vectors @ vectors.T
    score = relevance.astype(np.float64)  # the first pick: relevance alone
    redundancy = np.full(len(relevance), -np.inf)
    chosen: list[int] = []
    for _ in range(len(relevance)):
        best = int(np.argmax(score))
        if score[best] == -np.inf or len(chosen) == top:
            break
        taken = score == -np.inf
        if clash is None or not any(clash(best, other) for other in chosen):
            chosen.append(best)
            redundancy = np.maximum(redundancy, similarity[:, best])
            score = (1 - diversity) * relevance - diversity * redundancy
            score[taken] = -np.inf
        score[best] = -np.inf
    return chosen


def stem(word: str) -> str:
    """A word's crude stem for telling repeats apart: lower case, plural ending off."""
    word = word.lower()
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def _masked(text: str) -> str:
    """``text`` with LaTeX, math, markup and URLs overwritten by a separator of the same length
    (so offsets still point into the embedded text). A LaTeX command's braced argument stays
    unless it names no content (``\\textcolor{black}``, ``\\cite{key}``)."""
    return _MARKUP.sub(lambda m: _BREAK * len(m[0]), text)


def _runs(text: str) -> Iterator[list[tuple[str, int, int]]]:
    """The runs of content words of a masked text, each word as (word, start, end)."""
    run: list[tuple[str, int, int]] = []
    last_end = -1
    for chunk in _CHUNK.finditer(text):
        raw = chunk[0]
        core = raw.lstrip(_LEADING)
        start = chunk.start() + len(raw) - len(core)
        stripped = core.rstrip(_TRAILING)
        joined = core == raw and text[last_end : chunk.start()] == " "
        word = stripped if _WORD.fullmatch(stripped) and _content_word(stripped) else None
        if run and (word is None or not joined):
            yield run
            run = []
        if word is not None:
            run.append((word, start, start + len(stripped)))
        if stripped != core and run:  # punctuation after the word ends the run
            yield run
            run = []
        last_end = chunk.end() if stripped == core else -1
    if run:
        yield run


def _content_word(word: str) -> bool:
    lowered = word.lower()
    return lowered not in STOP_WORDS and lowered not in _VERBS and any(c.isalpha() for c in word)


def _uncapitalised(word: str) -> str:
    """A title's capitalised word in lower case; names such as "LoRA" or "GPU" stay."""
    return word.lower() if word[:1].isupper() and word[1:].islower() else word


def _count_phrases(
    seen: dict[str, Candidate],
    text: str,
    run: Sequence[tuple[str, int, int]],
    offset: int,
    in_title: bool,
) -> None:
    """Count the n-grams of ``run`` (words of ``text``, which starts at ``offset``)."""
    for size in range(1, MAX_WORDS + 1):
        for first in range(len(run) - size + 1):
            words = [w for w, _, _ in run[first : first + size]]
            if not _noun_phrase_like(words):
                continue
            start, end = run[first][1], run[first + size - 1][2]
            phrase = text[start:end]
            if in_title:
                phrase = " ".join(map(_uncapitalised, phrase.split(" ")))
            key = phrase.lower()
            old = seen.get(key)
            if old is None:
                seen[key] = Candidate(phrase, offset + start, offset + end, 1, in_title)
            else:  # the abstract's casing wins over the title's ("Heterogeneous Agents")
                shown = old.text if not old.in_title or in_title else phrase
                seen[key] = replace(
                    old, text=shown, count=old.count + 1, in_title=old.in_title or in_title
                )


def _noun_phrase_like(words: Sequence[str]) -> bool:
    """Whether ``words`` can be a keyphrase, judged without a part-of-speech tagger.

    A single word must look like a name or a term (a capital after its first letter: "LLM",
    "LoRA", "MiP-Overthinking"; or a hyphenated compound: "cross-entropy"): the ordinary
    single words of an abstract ("aims", "analysis", "boundary") say little about it. No word
    may repeat (by stem) or be an adverb ("drastically"); no word before the last may look
    like a plural or a verb's third person ("models losing"); the last is no past participle
    ("approach based"), verb or adjective ("modeling local")."""
    facts = [_word(w) for w in words]
    if len({f.stem for f in facts}) < len(facts) or any(f.adverb for f in facts):
        return False
    if len(facts) == 1:
        return facts[0].alone_ok
    return facts[-1].last_ok and all(f.inner_ok for f in facts[:-1])


@lru_cache(maxsize=1 << 16)
def _word(word: str) -> _Word:
    lowered = word.lower()
    return _Word(
        stem=stem(lowered),
        adverb=lowered.endswith("ly") and len(lowered) > 4 and lowered not in _NOT_ADVERBS,
        inner_ok=not _plural_or_verb(lowered),
        last_ok=not _no_last_word(lowered),
        alone_ok=_term_like(word),
    )


def _term_like(word: str) -> bool:
    if sum(c.isalpha() for c in word) < 2:
        return False
    if any(c.isupper() for c in word[1:]):
        return True
    parts = word.lower().split("-")
    return (
        len(parts) > 1
        and all(len(p) > 2 and p not in STOP_WORDS for p in parts)
        and not (parts[-1].endswith("ly") or parts[-1].endswith("ed"))
        and parts[-1] not in _ADJECTIVE_COMPOUNDS
    )


def _plural_or_verb(word: str) -> bool:
    return (
        word.endswith("s")
        and not word.endswith(("ss", "us", "is", "os", "as", "ics", "ous"))
        and word not in _NOT_PLURALS
        and len(word) > 3
    )


def _no_last_word(word: str) -> bool:
    """A past participle ("approach based"), a verb ("LLM analyzes") or an adjective
    ("modeling local", "regular agentic") cannot end a noun phrase."""
    word = word.rsplit("-", 1)[-1]
    return (
        word in _NOT_LAST
        or (word.endswith("ed") and not word.endswith("eed") and len(word) > 4)
        or (word.endswith(("izes", "yzes", "ises")) and word != "sizes")
        or (word.endswith(_ADJECTIVE_ENDINGS) and word not in _NOT_ADJECTIVES)
    )


def _closed(seen: dict[str, Candidate]) -> list[Candidate]:
    """The candidates that occur at least once outside a longer candidate: "large language"
    is dropped when every occurrence is within "large language models"."""
    within: dict[str, int] = {}
    for key, candidate in seen.items():
        words = key.split(" ")
        if len(words) > 1:
            for part in (" ".join(words[:-1]), " ".join(words[1:])):
                within[part] = within.get(part, 0) + candidate.count
    return [c for key, c in seen.items() if within.get(key, 0) < c.count]


def _overlapping(first: set[str], second: set[str]) -> bool:
    """Whether two phrases (as sets of stems) share at least half the stems of the shorter:
    "over-sampling technique" after "synthetic minority over-sampling" says nothing new."""
    return 2 * len(first & second) >= min(len(first), len(second))


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
