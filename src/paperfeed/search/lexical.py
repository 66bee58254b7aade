"""The keyword index: tantivy (BM25) on local disk, one document per paper.

Title and abstract are stemmed English text, the title boosted; authors are plain words;
categories and the id are exact terms; the year and "has code" are numeric fields for filters.
The index also holds each paper's vector key, so semantic hits are turned back into papers and
checked against filters with one term-set query.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import tantivy

from paperfeed.search.documents import IndexedPaper
from paperfeed.search.query import BadQuery, Filters, SearchQuery
from paperfeed.search.snippets import char_ranges, snippet_html

TEXT_FIELDS = ["title", "abstract", "authors"]
# Measured on SciFact's training judgements (keyword nDCG@10): title boost 2.0 → 0.624,
# 1.0 → 0.677, 0.8 → 0.687; on Cranfield's: 1.0 → 0.370, 0.8 → 0.375, 0.6 → 0.376, and
# hybrid on both sets best at 0.8 (below it Cranfield's hybrid loses: docs/search-tuning.md).
TITLE_BOOST = 0.8
# Lucene's English stop words. Dropped from plain-word queries only (never from the index or
# from phrases): their postings are the longest and their BM25 weight is next to nothing.
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "if",
        "in",
        "into",
        "is",
        "it",
        "no",
        "not",
        "of",
        "on",
        "or",
        "such",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "will",
        "with",
    ]
)
_OPERATORS = re.compile(r'"|(?:^|\s)[+-]\S|\b(?:AND|OR|NOT)\b|\w:\S')
#: The largest phrase slop (``"a b"~N``) a query may ask for. tantivy's sloppy phrase
#: matching grows with slop and repeated words: ``"model model …"~1000`` (20 words, 123
#: characters) took 17.7 GB and ten minutes of CPU on the demo sample; at 10 it takes
#: milliseconds, and real proximity searches ask for a few words of distance.
MAX_SLOP = 10
_SLOP = re.compile(r"~\s*(\d+)")
#: An excluded clause of the query syntax: ``-word``, ``NOT word``, ``-"a phrase"``,
#: ``NOT title:word``, ``NOT (a OR b)``; group 1 is what is excluded.
_EXCLUDED = re.compile(
    r'(?:(?<!\S)-|\bNOT\s+)((?:\w+:)?(?:"[^"]*"(?:~\s*\d+)?|\([^()]*\)|[^\s()"]+))'
)


def uses_operators(text: str) -> bool:
    """Whether the query is written in the query syntax (phrases, AND/OR/NOT, -word, field:)."""
    return bool(_OPERATORS.search(text))


def content_words(text: str) -> list[str]:
    """The words the keyword side searches for in plain text: split as the index's tokenizer
    splits (``zzqqxx-model`` is two words), stop words left out."""
    return [w for w in re.findall(r"\w+", text) if w.lower() not in STOP_WORDS]


def excluded_clauses(text: str) -> list[str]:
    """What the query excludes (``-policy``, ``NOT "a phrase"``), each written as a query of
    its own: the semantic side knows no syntax, so its papers are checked against these."""
    return [match[1] for match in _EXCLUDED.finditer(text)]


def without_exclusions(text: str) -> str:
    """The query with its excluded clauses left out: what the semantic side embeds (with
    ``policy`` in it, ``diffusion -policy`` was embedded nearer policy papers)."""
    return " ".join(_EXCLUDED.sub(" ", text).split())


WRITER_HEAP = 128 * 2**20
SNIPPET_CHARS = 300
#: Up to this many values, "any of these terms" is a disjunction of term queries.
ANY_TERM_CLAUSES = 1_000


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", stored=True, tokenizer_name="en_stem")
    builder.add_text_field("abstract", stored=True, tokenizer_name="en_stem")
    builder.add_text_field("authors", stored=True)
    builder.add_text_field("categories", stored=True, tokenizer_name="raw")
    builder.add_integer_field("key", stored=True, indexed=True, fast=True)
    builder.add_integer_field("year", stored=True, indexed=True, fast=True)
    builder.add_integer_field("has_code", indexed=True, fast=True)
    return builder.build()


class KeywordIndex:
    """A tantivy index in ``path``; opened read-only unless :meth:`writer` is asked for."""

    def __init__(self, path: Path | None) -> None:
        """``path=None``: an index in memory (a digest run's few thousand new papers)."""
        self.path = path
        self.schema = build_schema()
        if path is None:
            self.index = tantivy.Index(self.schema)
        else:
            path.mkdir(parents=True, exist_ok=True)
            self.index = tantivy.Index(self.schema, path=str(path), reuse=True)

    def add(self, papers: Iterable[IndexedPaper]) -> int:
        """Add or replace ``papers``; returns how many. One commit for the whole lot."""
        writer = self.index.writer(WRITER_HEAP, 1)
        count = 0
        for paper in papers:
            writer.delete_documents_by_term("id", paper.id)
            writer.add_document(_document(paper))
            count += 1
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        return count

    def delete(self, paper_ids: Sequence[str]) -> None:
        writer = self.index.writer(WRITER_HEAP, 1)
        for paper_id in paper_ids:
            writer.delete_documents_by_term("id", paper_id)
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()

    def count(self) -> int:
        self.index.reload()
        return int(self.index.searcher().num_docs)

    def search(
        self, query: SearchQuery, limit: int, *, every_word: bool = False
    ) -> list[tuple[int, float]]:
        """``(key, BM25 score)`` of the top ``limit`` papers for the query's text, restricted
        by its filters. ``every_word``: only papers with all the query's words, rather than
        any."""
        searcher = self.index.searcher()
        text_query = self._text_query(query.text, every_word)
        if text_query is None:
            return []
        try:
            result = searcher.search(
                self._restricted(text_query, query.filters), limit, count=False
            )
        except ValueError as error:  # tantivy: "Field title is not a fast field", ...
            raise BadQuery(
                f"this search cannot be run ({error}): search for words, or field:word "
                "(title:diffusion); a field with * alone (title:*) is not a search"
            ) from None
        return _keyed(searcher, result.hits)

    def word_weights(
        self, words: Sequence[str], keys: Sequence[int]
    ) -> tuple[dict[str, float], dict[str, set[int]]]:
        """BM25's weight (IDF) of each of ``words`` over the text fields, and which of the
        papers ``keys`` hold each: what the relevance floor weighs a paper's words by. A word
        no paper holds weighs the most (it is what an off-topic query often asks for)."""
        searcher = self.index.searcher()
        total = int(searcher.num_docs)
        among = self._any_term("key", keys) if keys else None
        must = tantivy.Occur.Must
        weights: dict[str, float] = {}
        holders: dict[str, set[int]] = {}
        for word in dict.fromkeys(w.lower() for w in words):
            query, _errors = self.index.parse_query_lenient(word, TEXT_FIELDS)
            # (tantivy's type stub leaves out SearchResult.count, which count=True fills)
            found = int(searcher.search(query, 1, count=True).count)  # type: ignore[attr-defined]
            weights[word] = math.log(1 + (total - found + 0.5) / (found + 0.5))
            holders[word] = set()
            if found and among is not None:
                result = searcher.search(
                    tantivy.Query.boolean_query([(must, query), (must, among)]), len(keys)
                )
                holders[word] = {key for key, _ in _keyed(searcher, result.hits)}
        return weights, holders

    def exclusion(self, text: str) -> tantivy.Query | None:
        """Papers holding anything the query ``text`` excludes, matched as the keyword side
        matches it (same fields, tokenizer and stemmer: ``-policy`` also drops "policies");
        None when it excludes nothing."""
        clauses = excluded_clauses(text)
        if not clauses:
            return None
        text = _SLOP.sub(lambda m: f"~{min(int(m.group(1)), MAX_SLOP)}", " ".join(clauses))
        query, _errors = self.index.parse_query_lenient(text, TEXT_FIELDS)
        return query

    def allowed_keys(
        self, filters: Filters, keys: Sequence[int], excluded: tantivy.Query | None = None
    ) -> set[int]:
        """Which of ``keys`` belong to papers that pass ``filters`` and do not match
        ``excluded`` (from :meth:`exclusion`)."""
        if not keys:
            return set()
        searcher = self.index.searcher()
        by_key = self._any_term("key", keys)
        result = searcher.search(self._restricted(by_key, filters, excluded), len(keys))
        return {key for key, _ in _keyed(searcher, result.hits)}

    def matching_keys(
        self, filters: Filters, limit: int, excluded: tantivy.Query | None = None
    ) -> list[int]:
        """Keys of up to ``limit`` papers that pass ``filters`` and do not match ``excluded``
        (for exact semantic ranking)."""
        searcher = self.index.searcher()
        everything = tantivy.Query.all_query()
        result = searcher.search(self._restricted(everything, filters, excluded), limit)
        return [key for key, _ in _keyed(searcher, result.hits)]

    def papers(self, keys: Sequence[int]) -> dict[int, tantivy.Document]:
        """Stored fields of the papers with ``keys``, by key."""
        if not keys:
            return {}
        searcher = self.index.searcher()
        query = self._any_term("key", keys)
        result = searcher.search(query, len(keys))
        docs = (searcher.doc(address) for _, address in result.hits)
        return {int(doc["key"][0]): doc for doc in docs}

    def snippets(self, query: SearchQuery, papers: Iterable[tantivy.Document]) -> dict[str, str]:
        """Abstract excerpts of ``papers`` (from :meth:`papers`: not read again) with the
        matching words in ``<b>`` (HTML-escaped), by paper id."""
        text_query = self._text_query(query.text)
        if text_query is None:
            return {}
        generator = tantivy.SnippetGenerator.create(
            self.index.searcher(), text_query, self.schema, "abstract"
        )
        generator.set_max_num_chars(SNIPPET_CHARS)
        return {doc["id"][0]: _readable(doc, generator.snippet_from_doc(doc)) for doc in papers}

    def _text_query(self, text: str, every_word: bool = False) -> tantivy.Query | None:
        if not text.strip():
            return tantivy.Query.all_query()
        if not _OPERATORS.search(text):
            # Plain words: punctuation would only confuse the query grammar (measured +0.018
            # nDCG@10 on SciFact), and the tokenizer drops it from the indexed text anyway.
            words = re.findall(r"\w+", text)
            if not words:
                return None
            text = " ".join([w for w in words if w.lower() not in STOP_WORDS] or words)
        else:
            text = _SLOP.sub(lambda m: f"~{min(int(m.group(1)), MAX_SLOP)}", text)
        query, _errors = self.index.parse_query_lenient(
            text, TEXT_FIELDS, field_boosts={"title": TITLE_BOOST},
            conjunction_by_default=every_word,
        )  # fmt: skip
        return query

    def _restricted(
        self, query: tantivy.Query, filters: Filters, excluded: tantivy.Query | None = None
    ) -> tantivy.Query:
        if not filters and excluded is None:
            return query
        must = tantivy.Occur.Must
        clauses = [(must, query)]
        if excluded is not None:
            clauses.append((tantivy.Occur.MustNot, excluded))
        if filters.categories:
            clauses.append((must, self._any_term("categories", filters.categories)))
        for author in filters.authors:
            clauses.append((must, self._author(author)))
        if filters.not_categories:
            not_in = self._any_term("categories", filters.not_categories)
            clauses.append((tantivy.Occur.MustNot, not_in))
        for author in filters.not_authors:
            clauses.append((tantivy.Occur.MustNot, self._author(author)))
        if filters.year_from is not None or filters.year_to is not None:
            years = tantivy.Query.range_query(
                self.schema, "year", tantivy.FieldType.Integer,
                filters.year_from if filters.year_from is not None else 0,
                filters.year_to if filters.year_to is not None else 9999,
            )  # fmt: skip
            clauses.append((must, years))
        if filters.has_code:
            clauses.append((must, tantivy.Query.term_query(self.schema, "has_code", 1)))
        return tantivy.Query.boolean_query(clauses)

    def _any_term(self, field: str, values: Sequence[str] | Sequence[int]) -> tantivy.Query:
        """Papers with any of ``values`` in ``field``, all scored alike (a lookup or a filter).

        Why not tantivy's term-set query for a few values: it walks the field's whole term
        dictionary, a million keys, which took 1.3 ms to find 20 papers by key where one term
        query per value takes 0.08 ms. It is the faster one from about two thousand values.
        """
        if len(values) > ANY_TERM_CLAUSES:
            return tantivy.Query.term_set_query(self.schema, field, list(values))
        should = tantivy.Occur.Should
        terms = [(should, tantivy.Query.term_query(self.schema, field, v)) for v in values]
        return tantivy.Query.const_score_query(tantivy.Query.boolean_query(terms), 1.0)

    def _author(self, name: str) -> tantivy.Query:
        words = re.findall(r"\w+", name.lower())
        if len(words) == 1:
            return tantivy.Query.term_query(self.schema, "authors", words[0])
        if not words:
            return tantivy.Query.all_query()
        return tantivy.Query.phrase_query(
            self.schema, "authors", list[str | tuple[int, str]](words)
        )


def _document(paper: IndexedPaper) -> tantivy.Document:
    fields: dict[str, Any] = {
        "id": paper.id,
        "title": paper.title,
        "abstract": paper.abstract,
        "authors": list(paper.authors),
        "categories": list(paper.categories),
        "key": paper.key,
        "has_code": int(paper.has_code),
    }
    if paper.year is not None:
        fields["year"] = paper.year
    return tantivy.Document(**fields)


def _keyed(
    searcher: tantivy.Searcher, hits: list[tuple[Any, tantivy.DocAddress]]
) -> list[tuple[int, float]]:
    """``(key, score)`` of the hits, the keys read from the ``key`` column: loading whole
    stored documents (title and abstract, decompressed) just for their keys cost a search a
    millisecond or more per hundred candidates."""
    keys = searcher.fast_field_values("key", [address for _, address in hits])
    return [
        (key, float(score))
        for key, (score, _) in zip(keys, hits, strict=True)
        if isinstance(key, int)  # (None only in a segment written without the column)
    ]


def _readable(doc: tantivy.Document, snippet: tantivy.Snippet) -> str:
    """Tantivy's snippet, begun at a sentence (or "…") and ended at a word boundary."""
    abstracts = doc.get_all("abstract")
    if not abstracts or not snippet.fragment():
        return ""
    text = str(abstracts[0])
    span = snippet.fragment_range()
    offset = span.start
    ranges = [(span.start, span.end)] + [
        (offset + r.start, offset + r.end) for r in snippet.highlighted()
    ]
    fragment, *highlights = char_ranges(text, ranges)
    return snippet_html(text, fragment, highlights)
