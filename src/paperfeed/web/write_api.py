"""The write API, for scripts and bots: ``Authorization: Bearer pf_…`` with a personal token.

No cookies are involved, so no CSRF token either. Errors are JSON ``{"detail": …}`` with the
status that says what happened: 401 (no or bad token), 403 (address not confirmed), 404 (no such
paper or comment), 409 (already featured: your vote is added), 422 (bad input), 429 (daily
submission limit).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine

from paperfeed.paper_urls import paper_path
from paperfeed.services import comments, tokens, votes
from paperfeed.services.accounts import AccountError, Member
from paperfeed.services.submissions import DailyLimitReached, submit
from paperfeed.store.engine import write_transaction
from paperfeed.web.api_models import CommentedV1, SubmittedV1, VoteV1
from paperfeed.web.input_checks import RowId
from paperfeed.web.lookup import paper_id_or_404
from paperfeed.web.problems import WRITE_ERRORS, problem_response
from paperfeed.web.rate_limits import BEARER_KEY
from paperfeed.web.site import Site

router = APIRouter(prefix="/api/v1", tags=["write API (bearer token)"], responses=WRITE_ERRORS)
bearer = HTTPBearer(auto_error=False, description="A personal token from the settings page")


def _site(request: Request) -> Site:
    site = request.app.state.site
    assert isinstance(site, Site)
    return site


def writer(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    after_response: BackgroundTasks,
) -> Member:
    if credentials is None:
        raise HTTPException(
            401, "send a personal token: Authorization: Bearer pf_…", {"WWW-Authenticate": "Bearer"}
        )
    engine = _site(request).engine
    found = _bearer(request, engine, credentials.credentials)
    if found is None:
        raise HTTPException(
            401,
            "this token is not valid (revoked, or never issued)",
            {"WWW-Authenticate": "Bearer"},
        )
    if not found.member.can_write:
        raise HTTPException(403, "confirm your e-mail address first")
    # After the answer: "last used" is for the settings page, not worth the request's time.
    after_response.add_task(tokens.mark_used, engine, found, _now())
    return found.member


def _bearer(request: Request, engine: Engine, secret: str) -> tokens.Bearer | None:
    """The token's member: as the rate limits found it for this request, or looked up."""
    cached = request.scope.get(BEARER_KEY)
    if isinstance(cached, tuple) and cached[0] == secret:
        found: tokens.Bearer | None = cached[1]
        return found
    with engine.connect() as conn:
        return tokens.bearer(conn, secret)


Writer = Annotated[Member, Depends(writer)]


class SubmitBody(BaseModel):
    arxiv: str = Field(min_length=1, max_length=500, description="an arXiv id or link")


class CommentBody(BaseModel):
    body: str = Field(min_length=1, max_length=10_000, description="Markdown")
    parent_id: RowId | None = None


def _paper(site: Site, paper_id: str) -> str:
    with site.engine.connect() as conn:
        return paper_id_or_404(conn, paper_id)


def _to_vote_on(conn: Connection, paper_id: str) -> str:
    """The paper's id, locked for the vote (:func:`votes.paper_to_vote_on`), or a 404."""
    try:
        return votes.paper_to_vote_on(conn, paper_id_or_404(conn, paper_id))
    except LookupError:
        raise HTTPException(404, f"no paper {paper_id[:100]!r} here") from None


# A vote's lookup, write and new count share one transaction: one connection, one commit.
@router.post("/papers/{paper_id:path}/upvote", response_model=VoteV1)
def api_upvote(request: Request, paper_id: str, member: Writer) -> dict[str, Any]:
    with write_transaction(_site(request).engine) as conn:
        found = _to_vote_on(conn, paper_id)
        added = votes.vote(conn, member.id, found, _now())
        upvotes = added if added is not None else votes.count(conn, found)
        return {"id": found, "voted": True, "upvotes": upvotes}


@router.delete("/papers/{paper_id:path}/upvote", response_model=VoteV1)
def api_unvote(request: Request, paper_id: str, member: Writer) -> dict[str, Any]:
    with write_transaction(_site(request).engine) as conn:
        found = _to_vote_on(conn, paper_id)
        removed = votes.unvote(conn, member.id, found)
        upvotes = removed if removed is not None else votes.count(conn, found)
        return {"id": found, "voted": False, "upvotes": upvotes}


@router.post("/submit", status_code=201, response_model=SubmittedV1)
def api_submit(request: Request, body: SubmitBody, member: Writer) -> Any:
    site = _site(request)
    try:
        done = submit(
            site.engine, member, body.arxiv, _now(),
            site.arxiv(),
            site.settings.submissions_per_day,
        )  # fmt: skip
    except AccountError as error:
        status = 429 if isinstance(error, DailyLimitReached) else 422
        raise HTTPException(status, str(error)) from None
    shaped = {"id": done.paper_id, "featured_on": done.day.isoformat(), "fetched": done.fetched}
    if done.outcome == "already":
        return problem_response("already featured: your upvote is added", 409, extra=shaped)
    return shaped


@router.post("/papers/{paper_id:path}/comments", status_code=201, response_model=CommentedV1)
def api_comment(
    request: Request, paper_id: str, body: CommentBody, member: Writer
) -> dict[str, Any]:
    site = _site(request)
    found = _paper(site, paper_id)
    try:
        with write_transaction(site.engine) as conn:
            new_id = comments.add(conn, member, found, body.body, body.parent_id, _now())
    except AccountError as error:
        raise HTTPException(422, str(error)) from None
    return {
        "id": new_id,
        "paper": found,
        "url": site.settings.base_url + paper_path(found, f"#comment-{new_id}"),
    }


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
