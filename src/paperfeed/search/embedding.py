"""Embed papers for the vector index and, from the same model pass, keep their keyphrases.

Keyphrases are scored from the token states the embedding pass already computed, so they cost
a few milliseconds of numpy per paper (docs/bench-papers.md), and are written to the store in
one transaction per page of papers: every node and page then reads them without the model.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Engine

from paperfeed.search.documents import IndexedPaper
from paperfeed.search.embedder import Embedder, TokenEmbedder, TokenStates, Vectors
from paperfeed.search.keyphrases import extract
from paperfeed.store.engine import write_transaction
from paperfeed.store.keyphrases import save_keyphrases


def embed_papers(engine: Engine, embedder: Embedder, papers: Sequence[IndexedPaper]) -> Vectors:
    """The vectors of ``papers`` (in order); their keyphrases are stored on the way."""
    vectors, found = embed_with_keyphrases(embedder, papers)
    if found:
        with write_transaction(engine) as conn:
            save_keyphrases(conn, found, embedder.name, dt.datetime.now(dt.UTC))
    return vectors


def embed_with_keyphrases(
    embedder: Embedder, papers: Sequence[IndexedPaper]
) -> tuple[Vectors, dict[str, list[str]]]:
    """The vectors of ``papers`` (in order) and each paper's keyphrases, from one model pass
    (the embedding workers write both in the transaction that closes their claim)."""
    found: dict[str, list[str]] = {}
    texts = [paper.text for paper in papers]
    if isinstance(embedder, TokenEmbedder):

        def keep(i: int, tokens: TokenStates) -> None:
            found[papers[i].id] = extract(
                embedder, papers[i].title, papers[i].abstract, tokens=tokens
            )

        vectors = embedder.embed_documents_with_tokens(texts, keep)
    else:
        vectors = embedder.embed_documents(texts)
        for paper, vector in zip(papers, vectors, strict=True):
            found[paper.id] = extract(embedder, paper.title, paper.abstract, vector)
    return vectors, found
