"""What the search indexes know of a paper, and the numeric key both indexes file it under."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from paperfeed.store.vectors import embedded_text


@dataclass(frozen=True, slots=True)
class IndexedPaper:
    """The fields search needs, read from the store by the indexer."""

    id: str
    title: str
    abstract: str
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    year: int | None = None
    has_code: bool = False

    @property
    def key(self) -> int:
        return paper_key(self.id)

    @property
    def text(self) -> str:
        """The text that is embedded: title and abstract (the embedder truncates consistently)."""
        return embedded_text(self.title, self.abstract)


def paper_key(paper_id: str) -> int:
    """A stable 63-bit key for a paper id (vector indexes want integers; collisions at a
    billion papers are about one in ten billion)."""
    digest = hashlib.blake2b(paper_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & (2**63 - 1)
