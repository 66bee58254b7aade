"""The MCP server: paperfeed's search, feeds and papers as tools an agent can call.

One :class:`~mcp.server.mcpserver.MCPServer` serves both transports: ``paperfeed mcp`` runs it
over stdio for a desktop agent, and ``paperfeed serve`` answers it at ``/mcp`` (streamable
HTTP, :mod:`paperfeed.agents.mcp_http`). Every tool calls the services the site and the JSON
API use, so an agent sees exactly what a reader does. Reading needs nothing; ``upvote`` and
``submit`` (:mod:`paperfeed.agents.mcp_writes`) need a member's API token.
"""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from paperfeed.agents.backend import (
    MAX_ID,
    Backend,
    Limit,
    Offset,
    PaperId,
    TokenOf,
    answering,
    card_of,
    no_paper,
    searcher,
)
from paperfeed.agents.briefs import (
    FeedAnswer,
    SearchAnswer,
    SimilarAnswer,
    TrendingAnswer,
    brief,
    reply,
)
from paperfeed.agents.mcp_writes import add_write_tools
from paperfeed.search.hybrid import Mode, SearchResults
from paperfeed.search.query import BadQuery, Filters
from paperfeed.services.cards import load_cards
from paperfeed.services.feeds import Sort, feed_page, trending_page
from paperfeed.services.paper_markdown import paper_markdown
from paperfeed.services.periods import BadPeriod, parse_period

NAME = "paperfeed"
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
INSTRUCTIONS = """\
paperfeed holds research papers (mostly arXiv) and a community's daily feed of featured
papers with upvotes. Find papers with search_papers, read one in full with get_paper (or the
resource paper://{id}), see what the community picked with daily_papers and trending, and
explore around a paper with similar_papers. Paper ids are arXiv ids such as 2306.00001 (old
style: hep-th/9901001) or source:id. upvote and submit act for the member whose API token
this server was given; without one they are refused."""


def build_server(backend: Backend, token_of: TokenOf) -> MCPServer:
    """The server with every tool and the ``paper://`` resource registered."""
    # (WARNING: the SDK configures the root logger, which a web node otherwise leaves alone)
    server: MCPServer = MCPServer(
        NAME, title="paperfeed", instructions=INSTRUCTIONS, log_level="WARNING"
    )
    _add_search(server, backend)
    _add_papers(server, backend)
    _add_feeds(server, backend)
    add_write_tools(server, backend, token_of)
    return server


def _add_search(server: MCPServer, backend: Backend) -> None:
    @server.tool(annotations=READ_ONLY)
    def search_papers(
        query: Annotated[
            str,
            Field(
                min_length=1,
                max_length=2_000,
                description='what to look for, in words or as a question; author:Name, cat:cs.CL, year:2024 and "exact phrases" also work inside it',
            ),
        ],
        mode: Annotated[
            Mode,
            Field(
                description="hybrid (default: meaning and words together), keyword (exact words, names, acronyms) or semantic (meaning only)"
            ),
        ] = "hybrid",
        categories: Annotated[
            list[str] | None,
            Field(
                max_length=20, description='only papers in these arXiv categories, e.g. ["cs.CL"]'
            ),
        ] = None,
        year_from: Annotated[int | None, Field(ge=1900, le=2100)] = None,
        year_to: Annotated[int | None, Field(ge=1900, le=2100)] = None,
        has_code: Annotated[
            bool, Field(description="only papers that link a code repository")
        ] = False,
        limit: Limit = 10,
        offset: Offset = 0,
    ) -> Annotated[CallToolResult, SearchAnswer]:
        """Search every paper in the store (not only featured ones) by topic, method, title
        or author. Use it to find papers about something; use daily_papers or trending for
        what the community picked. Returns short entries (id, title, first authors, date,
        upvotes, first sentence of the abstract); call get_paper with an id to read one."""
        filters = Filters(tuple(c[:40] for c in categories or ()), (), year_from, year_to, has_code)
        try:
            results = searcher(backend).search(
                query, limit=limit, mode=mode, filters=filters, offset=offset
            )
        except BadQuery as error:  # (its message says what to write instead)
            raise ToolError(str(error)) from None
        with answering(), backend.engine.connect() as conn:
            cards = load_cards(conn, [hit.id for hit in results.hits])
        notes = [*results.notes, *search_verdict(results)]
        answer = SearchAnswer(
            query=query, mode=results.mode, offset=offset, notes=notes or None,
            papers=[brief(card) for card in cards],
        )  # fmt: skip
        return reply(answer)

    @server.tool(annotations=READ_ONLY)
    def similar_papers(id: PaperId, limit: Limit = 10) -> Annotated[CallToolResult, SimilarAnswer]:
        """Papers closest in meaning to one paper (by its title and abstract): related work,
        follow-ups, alternatives. Give the id of a paper you found with another tool."""
        card = card_of(backend, id)
        hits = searcher(backend).similar(card.id, limit)
        with answering(), backend.engine.connect() as conn:
            cards = load_cards(conn, [hit.id for hit in hits])
        notes = None if cards else ["no similar papers: this paper may not be embedded yet"]
        return reply(
            SimilarAnswer(
                id=card.id, title=card.title, notes=notes, papers=[brief(c) for c in cards]
            )
        )


def search_verdict(results: SearchResults) -> list[str]:
    """What an agent should know when a search found nothing on purpose."""
    if results.empty:
        return ["the query is empty: give some words to search for"]
    if results.no_match:
        return ["no paper matches this query (the relevance floor): try a broader query"]
    return []


def _add_papers(server: MCPServer, backend: Backend) -> None:
    def markdown(paper_id: str) -> str | None:
        with answering(), backend.engine.connect() as conn:
            return paper_markdown(conn, paper_id, base_url=backend.settings.base_url)

    @server.tool(annotations=READ_ONLY, structured_output=False)
    def get_paper(id: PaperId) -> str:
        """One paper in full, as Markdown: title, all authors, dates, categories, links (arXiv,
        PDF, code, its page here), upvotes and the whole abstract. Use it after a search or a
        feed to read a paper you want to know more about."""
        text = markdown(id)
        if text is None:
            raise no_paper(id)
        return text

    @server.resource(
        "paper://{+id}",
        name="paper",
        title="A paper as Markdown",
        description="One paper (title, authors, dates, links, abstract) as Markdown; the id is an arXiv id or source:id.",
        mime_type="text/markdown",
    )
    def paper_resource(id: str) -> str:
        text = markdown(id[:MAX_ID])
        if text is None:
            raise ResourceError(f"no paper {id[:100]!r} here")
        return text


def _add_feeds(server: MCPServer, backend: Backend) -> None:
    @server.tool(annotations=READ_ONLY)
    def daily_papers(
        date: Annotated[str | None, Field(description="a day, YYYY-MM-DD")] = None,
        week: Annotated[
            str | None, Field(description="an ISO week, YYYY-Www (e.g. 2026-W23)")
        ] = None,
        month: Annotated[str | None, Field(description="a month, YYYY-MM")] = None,
        sort: Annotated[
            Literal["trending", "upvotes", "newest"],
            Field(description="trending (upvotes weighed by age), upvotes, or newest published"),
        ] = "trending",
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Annotated[CallToolResult, FeedAnswer]:
        """The papers the community featured on a day, in a week or in a month (give at most
        one of date, week, month; none: the latest day with papers). The answer names the
        nearest earlier and later days with papers, to step through the feed."""
        try:
            period = parse_period(date, week, month)
        except BadPeriod as error:
            raise ToolError(str(error)) from None
        order: Sort = sort
        with answering(), backend.engine.connect() as conn:
            page = feed_page(conn, period, order, offset, limit)
        answer = FeedAnswer(
            period=page.period.key, kind=page.period.kind, sort=sort, total=page.total,
            offset=offset, papers=[brief(card) for card in page.cards],
            earlier=page.previous.isoformat() if page.previous else None,
            later=page.following.isoformat() if page.following else None,
        )  # fmt: skip
        return reply(answer)

    @server.tool(annotations=READ_ONLY)
    def trending(
        limit: Limit = 10, offset: Offset = 0
    ) -> Annotated[CallToolResult, TrendingAnswer]:
        """What the community is upvoting now: featured papers ranked by upvotes decayed by
        age, across the last 30 feed days. Use it for "what is hot"; use daily_papers for a
        given day, week or month."""
        with answering(), backend.engine.connect() as conn:
            cards, total = trending_page(conn, offset, limit)
        return reply(TrendingAnswer(total=total, offset=offset, papers=[brief(c) for c in cards]))
