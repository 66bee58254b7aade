"""What every MCP tool shares: the running paperfeed it reads (:class:`Backend`), where the
caller's token comes from (:data:`TokenOf`), the parameter types, and errors as tool errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Protocol

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field
from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from paperfeed.arxiv_ids import canonical_paper_id
from paperfeed.config import Settings
from paperfeed.search.hybrid import PaperSearch
from paperfeed.services.cards import Card, load_cards
from paperfeed.sources.record import PaperRecord

MAX_LIMIT = 50  # papers per call: more would crowd a model's context for little gain
MAX_ID = 300  # longer is no paper id (and not worth a query)
NO_INDEX = "there is no search index yet: the site's operator has to run `paperfeed index`"
STORE_DOWN = "the database is not answering right now (it may be restarting): try again shortly"

PaperId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_ID,
        description="a paper id: an arXiv id (2306.00001, hep-th/9901001, an arXiv link) or source:id",
    ),
]
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description=f"papers to return (1-{MAX_LIMIT})")]
Offset = Annotated[int, Field(ge=0, le=1_000, description="papers to skip, to page on")]


class Backend(Protocol):
    """What the tools need from a running paperfeed: a web node's
    :class:`~paperfeed.web.site.Site` is one, and ``paperfeed mcp`` makes one for itself."""

    settings: Settings
    engine: Engine

    def search_or_none(self) -> PaperSearch | None: ...

    def arxiv(self) -> Callable[[str], PaperRecord | None]:
        """The one arXiv client of the process, which spaces its requests politely."""
        ...


#: The caller's API token, from wherever the transport carries it (None: read-only).
TokenOf = Callable[[Context], str | None]


@contextmanager
def answering() -> Iterator[None]:
    """A database that cannot be reached is a tool error saying so, not a stack trace."""
    try:
        yield
    except (OperationalError, InterfaceError):
        raise ToolError(STORE_DOWN) from None


def no_paper(paper_id: str) -> ToolError:
    return ToolError(f"no paper {paper_id[:100]!r} here (check the id, or search for it)")


def searcher(backend: Backend) -> PaperSearch:
    found = backend.search_or_none()
    if found is None:
        raise ToolError(NO_INDEX)
    return found


def card_of(backend: Backend, paper_id: str) -> Card:
    """The paper ``paper_id`` names, or a tool error saying there is none."""
    with answering(), backend.engine.connect() as conn:
        cards = load_cards(conn, [canonical_paper_id(paper_id)])
    if not cards:
        raise no_paper(paper_id)
    return cards[0]
