"""The member's settings page: API tokens, digest, public votes (in profiles), deleting the
account."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from paperfeed.models import User
from paperfeed.services import accounts, follows, subscriptions, tokens
from paperfeed.services.accounts import AccountError, Member
from paperfeed.store.engine import write_transaction
from paperfeed.web.forms import acting_member
from paperfeed.web.input_checks import RowId
from paperfeed.web.members import site_of
from paperfeed.web.rendering import render
from paperfeed.web.session import current_member

router = APIRouter(include_in_schema=False)
Token = Annotated[str, Form(max_length=400)]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@router.get("/settings")
def settings_page(request: Request) -> Response:
    member = current_member(request)
    if member is None:
        return RedirectResponse("/login?next=/settings", status_code=303)
    return _settings(request, member)


@router.post("/settings/tokens")
def create_token(
    request: Request, name: Annotated[str, Form(max_length=100)] = "", csrf_token: Token = ""
) -> Response:
    member = acting_member(request, csrf_token, "/settings", confirmed=False)
    try:
        with write_transaction(site_of(request).engine) as conn:
            made = tokens.create(conn, member, name, _now())
    except AccountError as error:
        return _settings(request, member, error=str(error), status_code=400)
    shown = _settings(request, member, new_token=made)
    shown.headers["Cache-Control"] = "no-store"  # the token is on this page, once
    return shown


@router.post("/settings/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: RowId, csrf_token: Token = "") -> Response:
    member = acting_member(request, csrf_token, "/settings", confirmed=False)
    with write_transaction(site_of(request).engine) as conn:
        tokens.revoke(conn, member, token_id, _now())
    return RedirectResponse("/settings", status_code=303)


def _settings(
    request: Request, member: Member, new_token: str | None = None, error: str | None = None,
    status_code: int = 200,
) -> Response:  # fmt: skip
    with site_of(request).engine.connect() as conn:
        listed = tokens.active(conn, member)
        public = bool(conn.scalar(select(User.public_votes).where(User.id == member.id)))
        digest = subscriptions.of_member(conn, member)
        followed = follows.following(conn, member.id)
    return render(
        request, "settings.html",
        {
            "tokens": listed, "new_token": new_token, "error": error, "public_votes": public,
            "digest": digest, "following": followed,
        },
        status_code=status_code,
    )  # fmt: skip


@router.post("/settings/delete")
def delete_account(
    request: Request,
    password: Annotated[str, Form(max_length=1024)],
    keep: Annotated[str, Form(max_length=10)] = "keep",
    csrf_token: Token = "",
) -> Response:
    member = acting_member(request, csrf_token, "/settings", confirmed=False)
    try:
        with write_transaction(site_of(request).engine) as conn:
            accounts.delete_account(conn, member, password, keep != "remove", _now())
    except AccountError as error:
        return _settings(request, member, error=str(error), status_code=400)
    request.session.clear()
    return render(
        request,
        "message.html",
        {
            "title": "Account deleted",
            "message": "Your account is gone. Thank you for your time here.",
        },
    )


@router.post("/settings/digest")
def digest_settings(
    request: Request,
    cadence: Annotated[str, Form(max_length=10)] = "daily",
    trending: Annotated[int, Form(ge=0, le=50)] = 10,
    searches: Annotated[str, Form(max_length=3000)] = "",
    categories: Annotated[str, Form(max_length=500)] = "",
    follows: Annotated[str, Form(max_length=5)] = "",
    similar: Annotated[int, Form(ge=0, le=20)] = 0,
    send_empty: Annotated[str, Form(max_length=5)] = "",
    stop: Annotated[str, Form(max_length=5)] = "",
    csrf_token: Token = "",
) -> Response:
    member = acting_member(request, csrf_token, "/settings")
    try:
        with write_transaction(site_of(request).engine) as conn:
            if stop:
                subscriptions.stop_for_member(conn, member)
            else:
                subscriptions.save_for_member(
                    conn, member, _now(),
                    subscriptions.DigestChoice(
                        cadence, trending, searches, categories, follows=bool(follows),
                        similar=similar, send_empty=bool(send_empty),
                    ),
                )  # fmt: skip
    except AccountError as error:
        return _settings(request, member, error=str(error), status_code=400)
    return RedirectResponse("/settings#digest", status_code=303)
