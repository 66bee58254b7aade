"""The papers that came into the store lately, and searches among them only (digests, "For
you").

Why not search the whole store and keep the new hits: a digest wants what is new *and*
matches, and in a store of a million papers the top hits of a saved search are almost never
from yesterday. Searching the day's few thousand papers finds every new match, and costs well
under a millisecond per saved search: they get a tantivy index of their own, in memory, with
the site's schema and query language (so filters work as on the site), and meaning is one
matrix product with their vectors from the site's vector index, the queries embedded in
batches.

Everything a run needs from the new papers is read once: when each came in, their authors,
organizations and categories (for follows) and their vectors (for saved searches and "papers
like the ones you upvoted").
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np
import tantivy
from numpy.typing import NDArray
from sqlalchemy import Connection, select

from paperfeed.models import Organization, Paper, utc
from paperfeed.search.documents import paper_key
from paperfeed.search.hybrid import PaperSearch, fuse
from paperfeed.search.indexer import load_papers
from paperfeed.search.lexical import KeywordIndex, without_exclusions
from paperfeed.search.query import Filters, parse_query

#: A new paper matches a saved search when it has every word of it, or when the cosine of the
#: query and the paper is at least this (all-MiniLM-L6-v2; ``bench/match_floor.py`` measured
#: it on SciFact: 69% of relevant pairs pass, 0.15% of other pairs).
MATCH_FLOOR = 0.5
#: "Papers like the ones you upvoted": the cosine of the member's profile and a paper.
LIKE_FLOOR = 0.5
#: At most this many new papers are looked at (the newest): a bulk import makes a whole store
#: "new", and a digest is about the latest papers anyway.
MAX_NEW = 50_000
QUERY_BATCH = 256
TOP = 30  # closest new papers kept per saved search (a digest takes at most 10 a search)
LOAD_CHUNK = 2_000


class NewPapers:
    """Papers added to the store at or after ``since`` (at most :data:`MAX_NEW`, the newest)."""

    def __init__(self, conn: Connection, search: PaperSearch | None, since: dt.datetime) -> None:
        self.search = search
        rows = conn.execute(
            select(Paper.id, Paper.created_at, Organization.slug)
            .outerjoin(Organization, Organization.id == Paper.organization_id)
            .where(Paper.created_at >= since)
            .order_by(Paper.created_at.desc(), Paper.id.desc())
            .limit(MAX_NEW)
        ).all()
        self.added: dict[str, dt.datetime] = {row[0]: utc(row[1]) for row in rows}
        self.by_organization: dict[str, list[str]] = defaultdict(list)
        self.by_author: dict[str, list[str]] = defaultdict(list)
        self.by_category: dict[str, list[str]] = defaultdict(list)
        for paper_id, _, slug in rows:
            if slug:
                self.by_organization[slug].append(paper_id)
        ids = list(self.added)
        papers = [
            paper
            for start in range(0, len(ids), LOAD_CHUNK)
            for paper in load_papers(conn, ids[start : start + LOAD_CHUNK])
        ]
        for paper in papers:  # newest first, as ``ids``
            for name in paper.authors:
                self.by_author[name].append(paper.id)
            for category in paper.categories:
                self.by_category[category].append(paper.id)
        self._papers = papers
        self._keyword: KeywordIndex | None = None
        self._by_key = {paper_key(paper_id): paper_id for paper_id in self.added}
        self._allowed: dict[Filters, NDArray[np.bool_]] = {}
        self._vectors: dict[str, NDArray[np.float32]] = {}  # saved search text → its vector
        self._top: dict[str, list[tuple[int, float]]] = {}  # → the closest new papers
        self._keys: list[int] = []
        self._matrix: NDArray[np.float32] = np.zeros((0, 0), dtype=np.float32)
        if search is not None and search.vectors is not None and self._by_key:
            keys = list(self._by_key)
            vectors = search.vectors.vectors(keys)
            stored = ~np.isnan(vectors).any(axis=1)
            self._keys = [
                key for key, row in zip(keys, vectors, strict=True) if not np.isnan(row).any()
            ]
            self._matrix = _normalised(vectors[stored])
        self._row = {key: row for row, key in enumerate(self._keys)}

    @property
    def keyword(self) -> KeywordIndex:
        """The new papers' own keyword index, built when a saved search first needs it."""
        if self._keyword is None:
            self._keyword = KeywordIndex(None)
            self._keyword.add(self._papers)
        return self._keyword

    def __len__(self) -> int:
        return len(self.added)

    def since(self, paper_ids: Iterable[str], when: dt.datetime) -> list[str]:
        """``paper_ids`` (in their order) that came in at or after ``when``."""
        return [i for i in paper_ids if i in self.added and self.added[i] >= when]

    def prepare(self, queries: Iterable[str]) -> None:
        """Embed the texts of many saved searches in batches, and rank the new papers for a
        batch of them with one matrix product (far cheaper than one by one)."""
        if self.search is None or self.search.embedder is None or not self._keys:
            return
        # What a saved search excludes is not embedded (``diffusion -policy`` would otherwise
        # sit nearer policy papers); its papers are dropped in :meth:`matches`.
        texts = sorted({_meaning(q) for q in queries} - {""} - set(self._vectors))
        for start in range(0, len(texts), QUERY_BATCH):
            chunk = texts[start : start + QUERY_BATCH]
            vectors = _normalised(self.search.embedder.embed_documents(chunk))
            scores = vectors @ self._matrix.T
            depth = min(TOP, scores.shape[1])
            tops = np.argpartition(-scores, depth - 1, axis=1)[:, :depth]
            for row, text in enumerate(chunk):
                self._vectors[text] = vectors[row]
                best = tops[row][np.argsort(-scores[row, tops[row]])]
                self._top[text] = [(self._keys[i], float(scores[row, i])) for i in best]

    def matches(self, text: str, limit: int) -> list[str]:
        """New papers that match a saved search, best first: every word of it, or close in
        meaning; ranked by the site's fusion of BM25 and cosine."""
        if not self.added:
            return []
        query = parse_query(text)
        depth = max(limit, 10)  # a digest takes a few; the day's papers are few
        # BM25 of the papers with every word: they match whatever their meaning, and their
        # scores rank them with the cosines (papers with some of the words only match by
        # meaning, ranked by it).
        keyword = self.keyword.search(query, depth, every_word=True)
        strict = {key for key, _ in keyword}
        semantic: list[tuple[int, float]] = []
        meaning = _meaning(text)
        if meaning and self._keys:
            self.prepare([text])
            excluded = self.keyword.exclusion(query.text)
            if query.filters or excluded is not None or depth > TOP:
                semantic = self._nearest(self._vectors[meaning], query.filters, depth, excluded)
            else:
                semantic = self._top[meaning][:depth]
        close = {key for key, score in semantic if score >= MATCH_FLOOR}
        ranked = fuse("hybrid" if semantic else "keyword", keyword, semantic)
        wanted = strict | close
        return [self._by_key[key] for key, _ in ranked if key in wanted][:limit]

    def like(self, paper_ids: Sequence[str], limit: int) -> list[str]:
        """New papers close in meaning to ``paper_ids`` (a member's upvotes), best first."""
        return [paper_id for paper_id, _, _ in self.liked(paper_ids, (), limit)]

    def liked(
        self, positive_ids: Sequence[str], negative_ids: Sequence[str], limit: int
    ) -> list[tuple[str, float, str]]:
        """New papers like the positives and unlike the negatives, best first, as (paper id,
        score, the positive it is closest to), never one of the positives or negatives.

        The profile is the centroid of the positives minus half the centroid of the negatives
        (as :meth:`PaperSearch.recommend`); a paper passes when its cosine with the profile is
        at least :data:`LIKE_FLOOR`, and says which positive it is most like, so a page can
        explain it ("like *X* you saved").
        """
        if self.search is None or self.search.vectors is None or not self._keys:
            return []
        positives = self._stored([paper_key(i) for i in positive_ids])
        if not len(positives[1]):
            return []
        profile = positives[1].mean(axis=0)
        negatives = self._stored([paper_key(i) for i in negative_ids])
        if len(negatives[1]):
            profile = profile - 0.5 * negatives[1].mean(axis=0)
        profile = _normalised(profile[None, :])[0]
        mine = {paper_key(i) for i in [*positive_ids, *negative_ids]}
        ids_of = {paper_key(i): i for i in positive_ids}
        found = []
        for key, score in self._nearest(profile, Filters(), limit + len(mine)):
            if score < LIKE_FLOOR or key in mine:
                continue
            row = self._row[key]
            closest = int(np.argmax(positives[1] @ self._matrix[row]))
            found.append((self._by_key[key], score, ids_of[positives[0][closest]]))
        return found[:limit]

    def _stored(self, keys: list[int]) -> tuple[list[int], NDArray[np.float32]]:
        """The keys with a stored vector, and their vectors (normalised)."""
        assert self.search is not None and self.search.vectors is not None
        if not keys:
            return [], np.zeros((0, 0), dtype=np.float32)
        vectors = self.search.vectors.vectors(keys)
        keep = [n for n, row in enumerate(vectors) if not np.isnan(row).any()]
        return [keys[n] for n in keep], _normalised(vectors[keep])

    def _nearest(
        self,
        vector: NDArray[np.float32],
        filters: Filters,
        depth: int,
        excluded: tantivy.Query | None = None,
    ) -> list[tuple[int, float]]:
        """The ``depth`` new papers closest to ``vector`` that pass ``filters`` and do not
        match ``excluded`` (from :meth:`KeywordIndex.exclusion`)."""
        scores = self._matrix @ vector
        if filters:
            scores = np.where(self._passing(filters), scores, -np.inf)
        if excluded is not None:
            allowed = self.keyword.allowed_keys(Filters(), self._keys, excluded)
            scores = np.where([key in allowed for key in self._keys], scores, -np.inf)
        top = np.argsort(-scores)[:depth]
        return [(self._keys[i], float(scores[i])) for i in top if np.isfinite(scores[i])]

    def _passing(self, filters: Filters) -> NDArray[np.bool_]:
        if filters not in self._allowed:
            allowed = self.keyword.allowed_keys(filters, self._keys)
            self._allowed[filters] = np.array([key in allowed for key in self._keys], dtype=bool)
        return self._allowed[filters]


def _meaning(text: str) -> str:
    """What of a saved search is embedded: its words without filters or exclusions."""
    return without_exclusions(parse_query(text).text)


def _normalised(vectors: NDArray[np.float32]) -> NDArray[np.float32]:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)
