"""Following authors, organizations and categories from the pages that show them: a search
for one author or one category, an organization's page; and the list on the settings page."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection

from paperfeed.search.query import Filters, parse_query
from paperfeed.services import follows
from paperfeed.services.accounts import AccountError, Member
from paperfeed.store.engine import write_transaction
from paperfeed.web.forms import acting_member, problem
from paperfeed.web.members import local_path, site_of

router = APIRouter(include_in_schema=False)
Field = Annotated[str, Form(max_length=500)]
Token = Annotated[str, Form(max_length=400)]


@router.post("/follow")
def follow(
    request: Request, kind: Field, target: Field, back: Field = "/settings#follows",
    csrf_token: Token = "",
) -> Response:  # fmt: skip
    back = local_path(back)
    member = acting_member(request, csrf_token, back)
    try:
        with write_transaction(site_of(request).engine) as conn:
            follows.follow(conn, member, kind, target, dt.datetime.now(dt.UTC))
    except AccountError as error:
        raise problem(request, str(error), 400) from None
    return RedirectResponse(back, status_code=303)


@router.post("/unfollow")
def unfollow(
    request: Request, kind: Field, target: Field, back: Field = "/settings#follows",
    csrf_token: Token = "",
) -> Response:  # fmt: skip
    back = local_path(back)
    member = acting_member(request, csrf_token, back, confirmed=False)
    with write_transaction(site_of(request).engine) as conn:
        follows.unfollow(conn, member, kind, target)
    return RedirectResponse(back, status_code=303)


def followable(
    conn: Connection, member: Member | None, q: str, filters: Filters
) -> tuple[str, str, bool] | None:
    """(kind, target, followed) when a search is exactly one author or one category that the
    store knows, so its page can offer to follow it; None otherwise."""
    query = parse_query(q, filters)
    found = query.filters
    if query.text or found.year_from or found.year_to or found.has_code or found.not_authors:
        return None
    if found.not_categories:  # a follow cannot leave papers out
        return None
    if len(found.categories) == 1 and not found.authors:
        kind, target = "category", found.categories[0]
    elif len(found.authors) == 1 and not found.categories:
        kind, target = "author", found.authors[0]
    else:
        return None
    if not follows.known(conn, kind, target):
        return None
    return kind, target, follows.is_following(conn, member, kind, target)
