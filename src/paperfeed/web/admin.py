"""Admin pages: the audit log, and the moderation buttons' targets (hide a paper from the feed,
delete a comment, suspend a member). Everyone else gets a 403."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection

from paperfeed.paper_urls import paper_path
from paperfeed.services import moderation, profiles
from paperfeed.services.accounts import Member
from paperfeed.store.engine import write_transaction
from paperfeed.web.forms import checked
from paperfeed.web.input_checks import RowId
from paperfeed.web.members import site_of
from paperfeed.web.rendering import render
from paperfeed.web.session import current_member

router = APIRouter(prefix="/admin", include_in_schema=False)
Token = Annotated[str, Form(max_length=400)]
Reason = Annotated[str, Form(max_length=500)]


@router.get("")
def audit_log(request: Request) -> Response:
    member = current_member(request)
    if member is None or not member.is_admin:
        return render(
            request, "error.html", {"message": "Only admins may see this page."}, status_code=403
        )
    with site_of(request).engine.connect() as conn:
        entries = moderation.recent(conn)
        waiting = profiles.pending(conn)
    return render(request, "admin.html", {"entries": entries, "claims": waiting})


@router.post("/papers/{paper_id:path}/hide")
def hide_paper(request: Request, paper_id: str, csrf_token: Token = "") -> Response:
    return _act(request, csrf_token, paper_path(paper_id),
                lambda conn, m: moderation.set_paper_hidden(conn, m, paper_id, True, _now()))  # fmt: skip


@router.post("/papers/{paper_id:path}/show")
def show_paper(request: Request, paper_id: str, csrf_token: Token = "") -> Response:
    return _act(request, csrf_token, paper_path(paper_id),
                lambda conn, m: moderation.set_paper_hidden(conn, m, paper_id, False, _now()))  # fmt: skip


@router.post("/comments/{comment_id}/delete")
def delete_comment(
    request: Request, comment_id: RowId, csrf_token: Token = "", reason: Reason = ""
) -> Response:
    return _act(request, csrf_token, request.headers.get("referer", "/admin"),
                lambda conn, m: moderation.delete_comment(conn, m, comment_id, _now(), reason))  # fmt: skip


@router.post("/members/suspend")
def suspend_by_name(
    request: Request, handle: Annotated[str, Form(max_length=40)], csrf_token: Token = "",
    reason: Reason = "",
) -> Response:  # fmt: skip
    """The admin page's form: the member's user name is a field."""
    return suspend(request, handle, csrf_token, reason)


@router.post("/members/{handle}/suspend")
def suspend(request: Request, handle: str, csrf_token: Token = "", reason: Reason = "") -> Response:
    return _act(request, csrf_token, "/admin",
                lambda conn, m: moderation.set_suspended(conn, m, handle, True, _now(), reason))  # fmt: skip


@router.post("/members/{handle}/reinstate")
def reinstate(request: Request, handle: str, csrf_token: Token = "") -> Response:
    return _act(request, csrf_token, "/admin",
                lambda conn, m: moderation.set_suspended(conn, m, handle, False, _now()))  # fmt: skip


def _act(
    request: Request,
    csrf_token: str,
    back: str,
    action: Callable[[Connection, Member | None], bool],
) -> Response:
    checked(request, csrf_token)
    member = current_member(request)
    try:
        with write_transaction(site_of(request).engine) as conn:
            done = action(conn, member)
    except moderation.NotAllowed as error:
        return render(request, "error.html", {"message": str(error)}, status_code=403)
    if not done:
        return render(
            request,
            "error.html",
            {"message": "Nothing to do: it does not exist, or it is done already."},
            status_code=404,
        )
    target = back if back.startswith("/") and not back.startswith("//") else "/admin"
    return RedirectResponse(target, status_code=303)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
