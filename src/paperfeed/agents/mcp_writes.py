"""The MCP tools that act for a member: ``upvote`` and ``submit``, with the member's personal API
token (the one the write API takes), through the same services and limits as ``/api/v1``.

Without a token, or with one that is revoked or whose member has not confirmed an address,
each is refused with a tool error that says what to do.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from paperfeed.agents.backend import Backend, PaperId, TokenOf, answering, no_paper
from paperfeed.agents.briefs import SubmitAnswer, VoteAnswer, reply
from paperfeed.paper_urls import paper_path
from paperfeed.services import submissions, tokens, votes
from paperfeed.services.accounts import AccountError, Member
from paperfeed.store.engine import write_transaction
from paperfeed.web.lookup import find_paper_id

MISSING = (
    "{tool} acts for a member and needs their personal API token (made on the site's settings "
    "page): over HTTP send it as `Authorization: Bearer pf_…`; for `paperfeed mcp` set "
    "PAPERFEED_TOKEN or pass --token"
)
REFUSED = "this API token is not valid (revoked, or never issued): make a new one in settings"
UNCONFIRMED = "confirm your e-mail address first (see the link the site mailed you)"


def member_for(backend: Backend, token: str | None, tool: str) -> Member:
    """The member the token belongs to, who may write; else a tool error saying why not."""
    if not token:
        raise ToolError(MISSING.format(tool=tool))
    with answering(), backend.engine.connect() as conn:
        found = tokens.bearer(conn, token)
    if found is None:
        raise ToolError(REFUSED)
    if not found.member.can_write:
        raise ToolError(UNCONFIRMED)
    tokens.mark_used(backend.engine, found, _now())
    return found.member


def add_write_tools(server: MCPServer, backend: Backend, token_of: TokenOf) -> None:
    @server.tool(annotations=ToolAnnotations(read_only_hint=False, idempotent_hint=True))
    def upvote(
        id: PaperId,
        ctx: Context,
        remove: Annotated[bool, Field(description="true takes your upvote back instead")] = False,
    ) -> Annotated[CallToolResult, VoteAnswer]:
        """Upvote a paper as the member whose API token this server has (once per paper:
        upvoting again changes nothing), or take the upvote back with remove=true. Only when
        the user asks you to: it is public and counts towards trending."""
        member = member_for(backend, token_of(ctx), "upvote")
        with answering(), write_transaction(backend.engine) as conn:
            found = find_paper_id(conn, id)
            if found is None:
                raise no_paper(id)
            try:
                found = votes.paper_to_vote_on(conn, found)  # (locked; follows a merge)
            except LookupError:
                raise no_paper(id) from None
            if remove:
                changed = votes.unvote(conn, member.id, found)
            else:
                changed = votes.vote(conn, member.id, found, _now())
            count = changed if changed is not None else votes.count(conn, found)
        return reply(VoteAnswer(id=found, voted=not remove, upvotes=count))

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, open_world_hint=True))
    def submit(
        arxiv: Annotated[
            str,
            Field(min_length=1, max_length=500, description="an arXiv id or link, e.g. 2306.00001"),
        ],
        ctx: Context,
    ) -> Annotated[CallToolResult, SubmitAnswer]:
        """Put an arXiv paper on today's daily feed, in the name of the member whose API token
        this server has, with their upvote (fetched from arXiv if it is new here; a paper
        already featured only gets the upvote). Members may submit a few papers a day. Only
        when the user asks you to."""
        member = member_for(backend, token_of(ctx), "submit")
        settings = backend.settings
        try:
            with answering():
                done = submissions.submit(
                    backend.engine,
                    member,
                    arxiv,
                    _now(),
                    backend.arxiv(),
                    settings.submissions_per_day,
                )
        except AccountError as error:
            raise ToolError(str(error)) from None
        return reply(
            SubmitAnswer(
                id=done.paper_id, outcome=done.outcome, featured_on=done.day.isoformat(),
                fetched=done.fetched, url=settings.base_url + paper_path(done.paper_id),
            )
        )  # fmt: skip


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
