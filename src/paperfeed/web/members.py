"""Member pages: sign up, confirm, log in and out, submit a paper, upvote, comment.

Sessions live in a signed, HttpOnly, SameSite=Lax cookie (Starlette's SessionMiddleware,
itsdangerous underneath) holding the member id and a random session id that is replaced at
every log-in, so a session planted before log-in is worth nothing after it. Every form posts a
CSRF token checked against its cookie.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import select

from paperfeed.models import User
from paperfeed.services import accounts, comments, subscriptions, tokens, votes
from paperfeed.services.accounts import AccountError, Member
from paperfeed.services.mail import mailer_for
from paperfeed.services.submissions import arxiv_fetcher, submit
from paperfeed.store.engine import write_transaction
from paperfeed.web.forms import FORM_EXPIRED, acting_member, checked, csrf_ok, problem, stored_paper
from paperfeed.web.lookup import find_paper_id
from paperfeed.web.rendering import render
from paperfeed.web.session import current_member
from paperfeed.web.site import Site

router = APIRouter(include_in_schema=False)
Token = Annotated[str, Form(max_length=400)]


def site_of(request: Request) -> Site:
    site = request.app.state.site
    assert isinstance(site, Site)
    return site


def refused(request: Request) -> Response:
    return problem(request, FORM_EXPIRED, 403).response


def local_path(target: str | None, default: str = "/") -> str:
    """Only same-site paths are redirect targets (never ``//evil.example``)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def start_session(request: Request, member: Member) -> None:
    """A new session at log-in: nothing planted in the cookie before survives it."""
    end_session(request)
    with write_transaction(site_of(request).engine) as conn:
        request.session["sid"] = accounts.open_session(conn, member, _now())


def end_session(request: Request) -> None:
    session_id = request.session.get("sid")
    if isinstance(session_id, str):
        with write_transaction(site_of(request).engine) as conn:
            accounts.close_sessions(conn, session_id=session_id)
    request.session.clear()


def send_confirmation(site: Site, member: Member) -> None:
    link = f"{site.settings.base_url}/confirm/{accounts.confirmation_token(site.settings.signing_key(), member)}"
    mailer_for(site.settings).send(
        member.email,
        f"Confirm your {site.settings.site_name} account",
        f"Hello {member.name},\n\nConfirm your e-mail address to submit, upvote and comment:\n\n{link}\n\n"
        "The link works for three days. If you did not sign up, ignore this mail.\n",
    )


@router.get("/signup")
def signup_form(request: Request) -> Response:
    return render(request, "signup.html", {"error": None, "values": {}})


@router.post("/signup")
def signup(
    request: Request,
    email: Annotated[str, Form(max_length=320)],
    handle: Annotated[str, Form(max_length=40)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Token = "",
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    checked(request, csrf_token)
    site = site_of(request)
    try:
        with write_transaction(site.engine) as conn:
            member = accounts.sign_up(conn, email, handle, name, password, _now())
    except AccountError as error:
        values = {"email": email, "handle": handle, "name": name}
        return render(
            request, "signup.html", {"error": str(error), "values": values}, status_code=400
        )
    send_confirmation(site, member)
    start_session(request, member)
    return RedirectResponse("/?welcome=1", status_code=303)


@router.get("/confirm/{token}")
def confirm(request: Request, token: str) -> Response:
    site = site_of(request)
    try:
        with write_transaction(site.engine) as conn:
            member = accounts.confirm(conn, site.settings.signing_key(), token[:500], _now())
    except AccountError as error:
        return render(request, "error.html", {"message": str(error)}, status_code=400)
    start_session(request, member)
    return render(
        request,
        "message.html",
        {
            "title": "Address confirmed",
            "message": f"Welcome, {member.name}: you can now submit, upvote and comment.",
        },
    )


@router.post("/confirm/resend")
def resend(request: Request, csrf_token: Token = "") -> Response:
    member = current_member(request)
    checked(request, csrf_token)
    if member is None:
        return RedirectResponse("/login", status_code=303)
    if not member.confirmed:
        send_confirmation(site_of(request), member)
    return render(
        request,
        "message.html",
        {"title": "Link sent", "message": f"A new confirmation link went to {member.email}."},
    )


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", {"error": None, "next": local_path(next), "email": ""})


@router.post("/login")
def login(
    request: Request,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Token = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    checked(request, csrf_token)
    try:
        member = accounts.log_in(site_of(request).engine, email, password, _now())
    except accounts.TooManyFailures as error:
        return render(
            request,
            "login.html",
            {"error": str(error), "next": local_path(next), "email": email},
            status_code=429,
        )
    except AccountError as error:
        return render(
            request,
            "login.html",
            {"error": str(error), "next": local_path(next), "email": email},
            status_code=400,
        )
    start_session(request, member)
    return RedirectResponse(local_path(next), status_code=303)


@router.post("/logout")
def logout(request: Request, csrf_token: Token = "") -> Response:
    checked(request, csrf_token)
    end_session(request)
    return RedirectResponse("/", status_code=303)


@router.get("/submit")
def submit_form(request: Request) -> Response:
    if current_member(request) is None:
        return RedirectResponse("/login?next=/submit", status_code=303)
    return render(request, "submit.html", {"error": None, "pasted": ""})


@router.post("/submit")
def submit_paper(
    request: Request, arxiv: Annotated[str, Form(max_length=500)], csrf_token: Token = ""
) -> Response:
    member = acting_member(request, csrf_token, "/submit", confirmed=False)
    site = site_of(request)
    try:
        done = submit(
            site.engine, member, arxiv, _now(), site.fetch_paper or arxiv_fetcher(site.settings.arxiv_api_url),
            site.settings.submissions_per_day,
        )  # fmt: skip
    except AccountError as error:
        return render(
            request, "submit.html", {"error": str(error), "pasted": arxiv}, status_code=400
        )
    return RedirectResponse(f"/papers/{done.paper_id}?submitted={done.outcome}", status_code=303)


@router.post("/papers/{paper_id:path}/upvote")
def upvote(request: Request, paper_id: str, csrf_token: Token = "") -> Response:
    wants_json = "application/json" in request.headers.get("accept", "")
    if not csrf_ok(request, csrf_token):
        return (
            JSONResponse({"detail": "missing or wrong CSRF token"}, 403)
            if wants_json
            else refused(request)
        )
    member = current_member(request)
    if member is None:
        target = f"/login?next={quote('/papers/' + paper_id)}"
        return (
            JSONResponse({"detail": "log in to vote", "login": target}, 401)
            if wants_json
            else RedirectResponse(target, 303)
        )
    site = site_of(request)
    with site.engine.connect() as conn:
        found = find_paper_id(conn, paper_id)
    if found is None:
        return (
            JSONResponse({"detail": "no such paper"}, 404)
            if wants_json
            else render(
                request, "not_found.html", {"wanted": paper_id[:200], "q": ""}, status_code=404
            )
        )
    if not member.can_write:
        message = "confirm your e-mail address to vote"
        return (
            JSONResponse({"detail": message}, 403)
            if wants_json
            else render(request, "error.html", {"message": message}, status_code=403)
        )
    voted, count = votes.toggle(site.engine, member.id, found, _now())
    if wants_json:
        return JSONResponse({"voted": voted, "upvotes": count})
    return RedirectResponse(
        local_path(
            request.headers.get("referer", "").split(str(request.base_url).rstrip("/"), 1)[-1],
            f"/papers/{found}",
        ),
        status_code=303,
    )


@router.post("/papers/{paper_id:path}/comments")
def comment(
    request: Request,
    paper_id: str,
    body: Annotated[str, Form(max_length=20_000)],
    csrf_token: Token = "",
    parent_id: Annotated[int | None, Form()] = None,
) -> Response:
    member = acting_member(request, csrf_token, f"/papers/{paper_id}")
    found = stored_paper(request, paper_id)
    try:
        with write_transaction(site_of(request).engine) as conn:
            new_id = comments.add(conn, member, found, body, parent_id, _now())
    except AccountError as error:
        raise problem(request, str(error), 400) from None
    return RedirectResponse(f"/papers/{found}#comment-{new_id}", status_code=303)


@router.post("/comments/{comment_id}/edit")
def edit_comment(
    request: Request,
    comment_id: int,
    body: Annotated[str, Form(max_length=20_000)],
    csrf_token: Token = "",
) -> Response:
    return _change(
        request,
        comment_id,
        csrf_token,
        lambda conn, member: comments.edit(conn, member, comment_id, body, _now()),
    )


@router.post("/comments/{comment_id}/delete")
def delete_comment(request: Request, comment_id: int, csrf_token: Token = "") -> Response:
    return _change(
        request,
        comment_id,
        csrf_token,
        lambda conn, member: comments.remove(conn, member, comment_id, _now()),
    )


def _change(request: Request, comment_id: int, csrf_token: str, action: Any) -> Response:
    member = acting_member(request, csrf_token)
    try:
        with write_transaction(site_of(request).engine) as conn:
            paper_id = action(conn, member)
    except LookupError:
        return render(
            request, "not_found.html", {"wanted": f"comment {comment_id}", "q": ""}, status_code=404
        )
    except PermissionError as error:
        return render(request, "error.html", {"message": str(error)}, status_code=403)
    except AccountError as error:
        return render(request, "error.html", {"message": str(error)}, status_code=400)
    return RedirectResponse(f"/papers/{paper_id}#comments-h", status_code=303)


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
    return _settings(request, member, new_token=made)


@router.post("/settings/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: int, csrf_token: Token = "") -> Response:
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
    return render(
        request, "settings.html",
        {
            "tokens": listed, "new_token": new_token, "error": error, "public_votes": public,
            "digest": digest,
        },
        status_code=status_code,
    )  # fmt: skip


@router.get("/reset")
def reset_form(request: Request) -> Response:
    return render(request, "reset.html", {"token": None, "error": None, "sent": False})


@router.post("/reset")
def reset_request(
    request: Request, email: Annotated[str, Form(max_length=320)], csrf_token: Token = ""
) -> Response:
    checked(request, csrf_token)
    site = site_of(request)
    with site.engine.connect() as conn:
        found = accounts.reset_token(conn, site.settings.signing_key(), email)
    if found is not None:
        member, made = found
        mailer_for(site.settings).send(
            member.email,
            f"Reset your {site.settings.site_name} password",
            f"Hello {member.name},\n\nSet a new password here (the link works once, for an hour):\n\n"
            f"{site.settings.base_url}/reset/{made}\n\nIf you did not ask for this, ignore this mail.\n",
        )
    # The same answer whether or not the address has an account: nothing to learn from it.
    return render(request, "reset.html", {"token": None, "error": None, "sent": True})


@router.get("/reset/{reset_token}")
def reset_password_form(request: Request, reset_token: str) -> Response:
    return render(request, "reset.html", {"token": reset_token[:500], "error": None, "sent": False})


@router.post("/reset/{reset_token}")
def reset_password(
    request: Request,
    reset_token: str,
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Token = "",
) -> Response:
    checked(request, csrf_token)
    site = site_of(request)
    try:
        with write_transaction(site.engine) as conn:
            member = accounts.reset_password(
                conn, site.settings.signing_key(), reset_token[:500], password
            )
    except AccountError as error:
        return render(
            request,
            "reset.html",
            {"token": reset_token[:500], "error": str(error), "sent": False},
            status_code=400,
        )
    start_session(request, member)
    return render(
        request,
        "message.html",
        {"title": "Password changed", "message": "You are logged in with your new password."},
    )


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
                    conn, member, cadence, trending, searches, categories, _now()
                )
    except AccountError as error:
        return _settings(request, member, error=str(error), status_code=400)
    return RedirectResponse("/settings#digest", status_code=303)
