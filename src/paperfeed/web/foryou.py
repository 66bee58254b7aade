"""The "For you" tab, "not interested" and "reset my recommendations"."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import Connection, func, select

from paperfeed.models import PaperCategory
from paperfeed.services import foryou
from paperfeed.services.cards import load_cards
from paperfeed.store.engine import write_transaction
from paperfeed.web.forms import Refusal, acting_member, still_here, stored_paper
from paperfeed.web.members import site_of
from paperfeed.web.pages import viewer_marks
from paperfeed.web.problems import problem_response
from paperfeed.web.rendering import render
from paperfeed.web.session import current_member

router = APIRouter(include_in_schema=False)
Token = Annotated[str, Form(max_length=400)]
WINDOWS = (1, 3, 7, 14, 30)
PAGE = 30


@router.get("/for-you")
def for_you(request: Request, days: Annotated[int, Query(ge=1, le=30)] = 7) -> Response:
    member = current_member(request)
    if member is None:
        return RedirectResponse("/login?next=/for-you", status_code=303)
    days = min(WINDOWS, key=lambda w: abs(w - days))
    site = site_of(request)
    with site.engine.connect() as conn:
        found = foryou.signals(conn, member.id)
    picks = [] if found.empty else foryou.suggestions(site.recent(days), found, PAGE)
    with site.engine.connect() as conn:
        cards = {c.id: c for c in load_cards(conn, [p.paper_id for p in picks])}
        liked = {c.id: c for c in load_cards(conn, [p.like for p in picks if p.like])}
        categories = [] if not found.empty else _popular_categories(conn)
    return render(
        request, "foryou.html",
        {"picks": [p for p in picks if p.paper_id in cards], "cards": cards, "liked": liked,
         "days": days, "windows": WINDOWS, "cold": found.empty, "categories": categories,
         **viewer_marks(request, list(cards))},
    )  # fmt: skip


@router.post("/papers/{paper_id:path}/not-interested")
def not_interested(request: Request, paper_id: str, csrf_token: Token = "") -> Response:
    wants_json = "application/json" in request.headers.get("accept", "")
    try:
        member = acting_member(request, csrf_token, "/for-you", confirmed=False)
        found = stored_paper(request, paper_id)
    except Refusal as refusal:
        if wants_json:
            return problem_response("refused", refusal.response.status_code)
        raise
    with write_transaction(site_of(request).engine) as conn:
        found = still_here(request, conn, found)
        foryou.not_interested(conn, member, found, dt.datetime.now(dt.UTC))
    if wants_json:
        return JSONResponse({"dismissed": found})
    return RedirectResponse("/for-you", status_code=303)


@router.post("/for-you/reset")
def reset(request: Request, csrf_token: Token = "") -> Response:
    member = acting_member(request, csrf_token, "/for-you", confirmed=False)
    with write_transaction(site_of(request).engine) as conn:
        foryou.reset(conn, member, dt.datetime.now(dt.UTC))
    return RedirectResponse("/for-you", status_code=303)


def _popular_categories(conn: Connection) -> list[str]:
    """Categories to offer a member with nothing to go on yet: the store's largest."""
    return list(
        conn.scalars(
            select(PaperCategory.category)
            .group_by(PaperCategory.category)
            .order_by(func.count().desc())
            .limit(12)
        )
    )
