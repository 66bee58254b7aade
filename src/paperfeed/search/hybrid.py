"""Search over the current index generation: keyword, semantic, or both fused (the default).

Both retrievers honour the filters before fusion, so a filtered search still fills its page:
the keyword side filters inside tantivy; the semantic side asks HNSW for more neighbours until
enough pass the filters, and for filters too narrow for that it ranks the matching papers
exactly. Papers whose vectors are not built yet are still found by their words.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import tantivy

from paperfeed.search import fusion, relevance
from paperfeed.search.documents import paper_key
from paperfeed.search.embedder import Embedder
from paperfeed.search.indexer import IndexState, current_generation
from paperfeed.search.lexical import (
    KeywordIndex,
    content_words,
    uses_operators,
    without_exclusions,
)
from paperfeed.search.query import Filters, SearchQuery, parse_query
from paperfeed.search.vectors import VectorHit, open_for_search

Mode = Literal["hybrid", "keyword", "semantic"]
MODES: tuple[Mode, ...] = ("hybrid", "keyword", "semantic")
CANDIDATES = 100
#: How many of the papers holding every word are checked for a missing vector when the
#: floor's cosines find no match (:meth:`PaperSearch._unembedded_match`).
UNEMBEDDED_DEPTH = 100
#: Chosen by bench/eval_search.py --tune on SciFact's and Cranfield's training judgements
#: together (docs/search-tuning.md): distribution-based fusion gained on both, min-max and
#: RRF did not.
FUSION = "dbsf"
KEYWORD_WEIGHT = 0.5
EXACT_BELOW = 20_000
#: Threads that embed queries beside the keyword search (shared by every searcher of the
#: process: a searcher is reopened each time the index moves on).
EMBED_THREADS = 4
RECOMMEND_KEYWORD_WEIGHT = 0.3  # not tuned yet: bench/recommend.py (a later issue) will


class IndexMissing(RuntimeError):
    """No index has been built in this data directory yet."""


@dataclass(frozen=True, slots=True)
class SearchHit:
    id: str
    score: float
    title: str = ""
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    year: int | None = None
    snippet: str = ""


@dataclass(slots=True)
class SearchResults:
    query: SearchQuery
    mode: Mode
    hits: list[SearchHit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Neither words nor filters were given: nothing was searched.
    empty: bool = False
    #: The query matches no paper (the relevance floor): show "try a broader query".
    no_match: bool = False


class ModelMismatch(ValueError):
    """The embedder is not the model whose vectors the index holds: its query vectors would be
    compared with another model's (meaningless), or with vectors of another size."""


class PaperSearch:
    """Opens the current generation read-only; one per process, shared by its requests."""

    def __init__(
        self,
        home: Path,
        embedder: Embedder | None,
        *,
        floor: bool = True,
        folder: Path | None = None,
    ) -> None:
        """``floor=False`` turns the relevance floor off (for benchmarks that measure it); it
        is off for an embedder it was not calibrated for. ``folder``: this generation rather
        than the current one (a caller that chose the embedder by its model).

        :class:`ModelMismatch` when ``embedder`` is not the model of the index's vectors."""
        self.floor = floor and relevance.applies_to(embedder.name if embedder else None)
        folder = folder or current_generation(home)
        if folder is None:
            raise IndexMissing("there is no search index yet: run `paperfeed index`")
        state = IndexState.load(folder)
        self.model = state.embedder
        self.keyword = KeywordIndex(folder / "keyword")
        self.embedder = embedder
        self.vectors = None
        if embedder is not None:
            _check_model(embedder, state.embedder, state.dimensions)
            self.vectors = open_for_search(folder, state.dimensions or embedder.dimensions)

    def search(
        self,
        text: str,
        *,
        limit: int = 10,
        mode: Mode = "hybrid",
        filters: Filters | None = None,
        offset: int = 0,
        snippets: bool = True,
    ) -> SearchResults:
        """The page of results ``offset:offset+limit`` for what the user typed: nothing, with
        ``no_match`` set, when the query matches no paper (see :mod:`relevance`), and nothing,
        with ``empty`` set, when there is neither text nor a filter to search by."""
        query = parse_query(text, filters)
        results = SearchResults(query, mode)
        if not query.text and not query.filters:
            results.empty = True
            return results
        semantic_ok = self.vectors is not None and len(self.vectors) > 0 and bool(query.text)
        if mode != "keyword" and not semantic_ok:
            if query.text:  # (filters alone are a keyword-side listing, nothing to say)
                results.notes.append(
                    "semantic search is not available yet (no vectors): keyword results"
                )
            mode = "keyword"
        judged = self.floor and bool(query.text)  # the floor asks both sides, in every mode
        keyword, semantic = self._candidates(query, mode, offset + limit, semantic_ok, judged)
        if judged:
            if not self._matches(query, keyword, semantic) and not self._unembedded_match(query):
                results.no_match = True
                return results
            semantic = relevance.neighbours_that_match(semantic)
        ranked = fuse(mode, keyword, semantic)
        results.hits = self._hits(query, ranked[offset : offset + limit], snippets)
        return results

    def _candidates(
        self, query: SearchQuery, mode: Mode, wanted: int, semantic_ok: bool, judged: bool
    ) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
        """Both sides' rankings, as deep as fusion (or the floor's agreement) needs; a side
        the mode does not use is left empty unless the floor needs it.

        The query's vector is computed on another thread while tantivy searches on this one:
        both release the GIL, so asking both sides costs about the slower of the two.

        What the query excludes (``-policy``, ``NOT "a phrase"``) is left out of the text
        embedded, and the semantic side's papers that hold it are dropped the way its filters
        drop papers (tantivy, which honours it on the keyword side, is asked which hold it)."""
        deep = mode == "hybrid" or judged
        depth = max(CANDIDATES, wanted) if deep else wanted
        wanted_text = without_exclusions(query.text)
        embedding = (
            _pool().submit(self._embed, wanted_text)
            if semantic_ok and wanted_text and (mode != "keyword" or judged)
            else None
        )
        keyword = self._keyword(query, depth) if mode != "semantic" or judged else []
        vector = embedding.result() if embedding is not None else None
        excluded = self.keyword.exclusion(query.text) if vector is not None else None
        semantic = (
            [(h.key, h.similarity) for h in self._nearest(vector, depth, query.filters, excluded)]
            if vector is not None
            else []
        )
        return keyword, semantic

    def _embed(self, text: str) -> Any:
        assert self.embedder is not None and self.vectors is not None
        _check_model(self.embedder, self.model, self.vectors.ndim)
        return self.embedder.embed_query(text)

    def _evidence(
        self,
        query: SearchQuery,
        keyword: list[tuple[int, float]],
        semantic: list[tuple[int, float]],
    ) -> relevance.Evidence:
        """What both sides say about the query as a whole (see :mod:`relevance`)."""
        if keyword and (uses_operators(query.text) or len(content_words(query.text)) == 1):
            # One word the papers hold: its papers. The query syntax (a phrase, NOT, OR, a
            # field): the user asked the keyword side precisely, and what it found matches.
            return relevance.Evidence(None, every_word=True)
        if not semantic:  # no vectors: the words alone
            every_word = self.keyword.search(query, 1, every_word=True)
            return relevance.Evidence(None, every_word=bool(every_word))
        return relevance.Evidence(semantic[0][1], relevance.agreement(keyword, semantic))

    def _matches(
        self,
        query: SearchQuery,
        keyword: list[tuple[int, float]],
        semantic: list[tuple[int, float]],
    ) -> bool:
        """The relevance floor's verdict: the cosines first, then, if they do not decide it,
        the words that the papers both sides agree on hold (see :mod:`relevance`)."""
        evidence = self._evidence(query, keyword, semantic)
        if relevance.matches(evidence) or evidence.best_similarity is None:
            return relevance.matches(evidence)
        agreeing = relevance.agreeing(keyword, semantic)
        if not agreeing:
            return False
        words = content_words(without_exclusions(query.text))
        weights, holders = self.keyword.word_weights(words, agreeing)
        share = max(relevance.word_share(weights, holders, key) for key in agreeing)
        return relevance.matches(
            relevance.Evidence(
                evidence.best_similarity, evidence.agreement_similarity, word_share=share
            )
        )

    def _unembedded_match(self, query: SearchQuery) -> bool:
        """Whether a paper the floor's cosines cannot judge (no vector yet: the store has
        not embedded it, or this node reads vectors that workers have not written) holds
        every word of the query: such a paper is judged by its words alone, as a store
        without vectors is, instead of being hidden until it is embedded."""
        if self.vectors is None or not query.text:
            return False
        keys = [key for key, _ in self.keyword.search(query, UNEMBEDDED_DEPTH, every_word=True)]
        if not keys:
            return False
        return bool(np.isnan(self.vectors.vectors(keys)).any(axis=1).any())

    def similar(
        self, paper_id: str, limit: int = 10, filters: Filters | None = None
    ) -> list[SearchHit]:
        """Nearest papers to ``paper_id`` by meaning, never the paper itself."""
        if self.vectors is None:
            return []
        vector = self.vectors.vectors([paper_key(paper_id)])[0]
        if np.isnan(vector).any():
            return []
        hits = self._nearest(vector, limit + 1, filters or Filters())
        ranked = [(hit.key, hit.similarity) for hit in hits if hit.key != paper_key(paper_id)][
            :limit
        ]
        return self._hits(SearchQuery(""), ranked)

    def recommend(
        self,
        positive_ids: Sequence[str],
        negative_ids: Sequence[str] = (),
        limit: int = 10,
        filters: Filters | None = None,
    ) -> list[SearchHit]:
        """Papers like the positives and unlike the negatives, never one of them.

        Why this shape: with a handful of papers per member there is nothing to train, and the
        centroid of their vectors (minus half the centroid of the papers marked "not
        interested") is the profile that needs no training and moves at once with each click.
        A centroid blurs distinct interests, so the neighbours are re-ranked together with a
        keyword search for the positives' titles, which keeps the specific vocabulary of each
        interest in play.
        """
        if self.vectors is None or not positive_ids:
            return []
        profile = self._centroid(positive_ids)
        if profile is None:
            return []
        negative = self._centroid(negative_ids)
        if negative is not None:
            profile = profile - 0.5 * negative
        seen = {paper_key(paper_id) for paper_id in [*positive_ids, *negative_ids]}
        depth = CANDIDATES + len(seen)
        nearest = self._nearest(profile, depth, filters or Filters())
        semantic = [(h.key, h.similarity) for h in nearest if h.key not in seen]
        titles = " ".join(
            doc["title"][0]
            for doc in self.keyword.papers(
                sorted(seen - {paper_key(i) for i in negative_ids})
            ).values()
        )
        keyword = [
            (k, v) for k, v in self._keyword(parse_query(titles, filters), depth) if k not in seen
        ]
        return self._hits(
            SearchQuery(""), fusion.convex(keyword, semantic, RECOMMEND_KEYWORD_WEIGHT)[:limit]
        )

    def _centroid(self, paper_ids: Sequence[str]) -> Any:
        assert self.vectors is not None
        if not paper_ids:
            return None
        vectors = self.vectors.vectors([paper_key(paper_id) for paper_id in paper_ids])
        vectors = vectors[~np.isnan(vectors).any(axis=1)]
        return vectors.mean(axis=0).astype(np.float32) if len(vectors) else None

    def _keyword(self, query: SearchQuery, depth: int) -> list[tuple[int, float]]:
        return self.keyword.search(query, depth)

    def _nearest(
        self, vector: Any, depth: int, filters: Filters, excluded: tantivy.Query | None = None
    ) -> list[VectorHit]:
        """The ``depth`` nearest papers that pass ``filters`` and do not match ``excluded``
        (a tantivy query from :meth:`KeywordIndex.exclusion`)."""
        assert self.vectors is not None
        if not filters and excluded is None:
            return self.vectors.search(vector, depth)
        # (an exclusion alone drops a few neighbours: a smaller first fetch mostly suffices)
        fetch = depth * 4 if filters else depth * 2
        while True:
            hits = self.vectors.search(vector, fetch)
            allowed = self.keyword.allowed_keys(filters, [hit.key for hit in hits], excluded)
            kept = [hit for hit in hits if hit.key in allowed]
            if len(kept) >= depth or fetch >= len(self.vectors):
                return kept[:depth]
            if fetch >= EXACT_BELOW:
                keys = self.keyword.matching_keys(filters, EXACT_BELOW, excluded)
                return self.vectors.exact_search(vector, keys, depth)
            fetch *= 4

    def _hits(
        self, query: SearchQuery, ranked: Sequence[tuple[int, float]], snippets: bool = True
    ) -> list[SearchHit]:
        papers = self.keyword.papers([key for key, _ in ranked])
        found = [(papers[key], score) for key, score in ranked if key in papers]
        excerpts = (
            self.keyword.snippets(query, [doc for doc, _ in found])
            if query.text and snippets
            else {}
        )
        return [
            SearchHit(
                id=doc["id"][0],
                score=score,
                title=doc["title"][0],
                authors=tuple(doc.get_all("authors")),
                categories=tuple(doc.get_all("categories")),
                year=doc.get_first("year"),
                snippet=excerpts.get(doc["id"][0], ""),
            )
            for doc, score in found
        ]


def _check_model(embedder: Embedder, model: str | None, dimensions: int | None) -> None:
    """Queries by ``embedder`` may search vectors of ``model`` (None: none read yet) only if
    it is that model, of that size."""
    if model not in (None, embedder.name) or dimensions not in (None, embedder.dimensions):
        raise ModelMismatch(
            f"this search index holds vectors of {model} ({dimensions} dimensions): queries "
            f"embedded by {embedder.name} ({embedder.dimensions} dimensions) cannot search it"
        )


def fuse(
    mode: Mode, keyword: list[tuple[int, float]], semantic: list[tuple[int, float]]
) -> list[tuple[int, float]]:
    if mode == "keyword":
        return keyword
    if mode == "semantic":
        return semantic
    if FUSION == "rrf":
        return fusion.reciprocal_rank([[k for k, _ in keyword], [k for k, _ in semantic]])
    if FUSION == "dbsf":
        return fusion.distribution_based(keyword, semantic, KEYWORD_WEIGHT)
    return fusion.convex(keyword, semantic, KEYWORD_WEIGHT)


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(EMBED_THREADS, thread_name_prefix="paperfeed-embed")
        return _POOL
