"""Accounts: sign up, confirm the address, log in and out, reset a password.

Sessions live in a signed, HttpOnly, SameSite=Lax cookie (Starlette's SessionMiddleware,
itsdangerous underneath) holding a random session id kept in the store and replaced at every
log-in, so a session planted before log-in is worth nothing after it, and logging out ends it
even for a copied cookie. Every form posts a CSRF token checked against its cookie.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from paperfeed.services import accounts
from paperfeed.services.accounts import AccountError, AddressTaken, Member
from paperfeed.services.outbox import (
    PER_RECIPIENT,
    TooManyRequests,
    queue_mail,
    take_ip_budget,
    take_recipient_budget,
)
from paperfeed.store.engine import write_transaction
from paperfeed.web.forms import FORM_EXPIRED, checked, problem
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


def client_ip(request: Request) -> str:
    """The peer's address (behind a proxy, Uvicorn's ``--proxy-headers`` puts the client's
    there, from the proxies it trusts)."""
    return request.client.host if request.client else "?"


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


def queue_confirmation(conn: Connection, site: Site, member: Member) -> bool:
    """The confirmation mail, queued in the outbox inside the caller's transaction (False: the
    address's cap is spent, nothing queued)."""
    made = accounts.confirmation_token(conn, site.settings.signing_key(), member.id)
    link = f"{site.settings.base_url}/confirm/{made}"
    return queue_mail(
        conn, site.settings, "confirm-account", member.email,
        f"Confirm your {site.settings.site_name} account",
        f"Hello {member.name},\n\nConfirm your e-mail address to submit, upvote and comment:\n\n{link}\n\n"
        "The link works once, for three days. If you did not sign up, ignore this mail.\n",
        _now(),
    )  # fmt: skip


def queue_address_taken(conn: Connection, site: Site, address: str) -> None:
    """To the owner of an address someone signed up with again: the page said only "check
    your inbox", so this mail is where the owner learns what to do."""
    base, name = site.settings.base_url, site.settings.site_name
    queue_mail(
        conn, site.settings, "signup-taken", address, f"Signing up at {name}",
        f"Someone (we hope you) tried to sign up at {name} with this address, which has an "
        f"account already.\n\nLog in: {base}/login\nForgot the password? Set a new one: "
        f"{base}/reset\n\nIf it was not you, ignore this mail: nothing has changed.\n",
        _now(),
    )  # fmt: skip


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
    """The same answer (and no session) whether or not the address has an account: the mail
    tells its owner which it was. The person logs in once the address is confirmed."""
    checked(request, csrf_token)
    site = site_of(request)
    ip = client_ip(request)
    try:
        _join(site, ip, email, handle, name, password)
    except IntegrityError:  # a concurrent sign-up took the address or name: now we see its row
        try:
            _join(site, ip, email, handle, name, password)
        except AccountError as error:
            return _signup_refused(request, error, email, handle, name)
        except TooManyRequests as error:
            return too_many(request, error.retry_after)
    except AccountError as error:
        return _signup_refused(request, error, email, handle, name)
    except TooManyRequests as error:
        return too_many(request, error.retry_after)
    site.mail_queued()
    return RedirectResponse("/?welcome=1", status_code=303)


def _join(site: Site, ip: str, email: str, handle: str, name: str, password: str) -> None:
    """Sign up and queue the confirmation mail; for an address that has an account, queue the
    mail that tells its owner instead. The account and its mail, or neither. Each try spends
    one of the IP address's sign-ups, counted in the same transaction (exact in parallel)."""
    with write_transaction(site.engine) as conn:
        take_ip_budget(conn, site.settings, "signup", ip, _now())
        try:
            member = accounts.sign_up(conn, email, handle, name, password, _now())
        except AddressTaken as taken:
            queue_address_taken(conn, site, taken.address)
        else:
            queue_confirmation(conn, site, member)


def _signup_refused(
    request: Request, error: AccountError, email: str, handle: str, name: str
) -> Response:
    values = {"email": email, "handle": handle, "name": name}
    return render(request, "signup.html", {"error": str(error), "values": values}, status_code=400)


@router.post("/confirm/resend")
def resend(request: Request, csrf_token: Token = "") -> Response:
    member = current_member(request)
    checked(request, csrf_token)
    if member is None:
        return RedirectResponse("/login", status_code=303)
    if member.confirmed:
        return RedirectResponse("/", status_code=303)
    site = site_of(request)
    try:
        with write_transaction(site.engine) as conn:
            take_ip_budget(conn, site.settings, "confirm-account", client_ip(request), _now())
            queued = queue_confirmation(conn, site, member)
    except TooManyRequests as error:
        return too_many(request, error.retry_after)
    except AccountError as error:  # (an address stored before addresses were checked)
        return render(request, "error.html", {"message": f"{error}."}, status_code=400)
    if not queued:  # their own address: saying so tells nobody anything
        cap = PER_RECIPIENT["confirm-account"]
        message = (
            f"{cap.limit} confirmation links went to {member.email} within the last hour: "
            "look for them (and in the spam folder), or ask again later."
        )
        return render(request, "error.html", {"message": message}, status_code=429)
    site.mail_queued()
    return render(
        request,
        "message.html",
        {"title": "Link sent", "message": f"A new confirmation link went to {member.email}."},
    )


# (after /confirm/resend: the first route that matches a path answers it)
@router.get("/confirm/{token}")
def confirm_page(request: Request, token: str) -> Response:
    """Only a page with a button: a GET changes nothing, so a mail scanner that follows the
    link confirms nothing."""
    return render(
        request,
        "confirm.html",
        {
            "title": "Confirm your address",
            "message": "Confirm the e-mail address of your account, then log in.",
            "action": f"/confirm/{token[:500]}",
            "button": "Confirm my address",
        },
    )


@router.post("/confirm/{token}")
def confirm(request: Request, token: str, csrf_token: Token = "") -> Response:
    """Confirms the address, and nothing more: whoever holds the link is not logged in by it."""
    checked(request, csrf_token)
    site = site_of(request)
    try:
        with write_transaction(site.engine) as conn:
            member = accounts.confirm(conn, site.settings.signing_key(), token[:500], _now())
    except AccountError as error:
        return render(request, "error.html", {"message": str(error)}, status_code=400)
    return render(
        request,
        "confirmed.html",
        {
            "title": "Address confirmed",
            "message": f"{member.email} is confirmed: log in to submit, upvote and comment.",
        },
    )


def too_many(request: Request, retry_after: int) -> Response:
    message = f"Too many requests from your address: try again in {retry_after} s."
    response = render(request, "error.html", {"message": message}, status_code=429)
    response.headers["Retry-After"] = str(retry_after)
    return response


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
        member = accounts.log_in(
            site_of(request).engine, email, password, client_ip(request), _now()
        )
    except accounts.TooManyFailures as error:
        refused = render(
            request,
            "login.html",
            {"error": str(error), "next": local_path(next), "email": email},
            status_code=429,
        )
        refused.headers["Retry-After"] = str(error.wait)
        return refused
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


@router.get("/reset")
def reset_form(request: Request) -> Response:
    return render(request, "reset.html", {"token": None, "error": None, "sent": False})


@router.post("/reset")
def reset_request(
    request: Request, email: Annotated[str, Form(max_length=320)], csrf_token: Token = ""
) -> Response:
    checked(request, csrf_token)
    site = site_of(request)
    try:
        address = accounts.normal_email(email)
    except AccountError as error:  # (says nothing about accounts: only about the text typed)
        return render(
            request, "reset.html", {"token": None, "error": f"{error}.", "sent": False},
            status_code=400,
        )  # fmt: skip
    try:
        _queue_reset(site, address, client_ip(request), _now())
    except TooManyRequests as error:
        return too_many(request, error.retry_after)
    site.mail_queued()
    return render(request, "reset.html", {"token": None, "error": None, "sent": True})


def _queue_reset(site: Site, address: str, ip: str, now: dt.datetime) -> None:
    """The same work and answer whether or not the address has an account (a write
    transaction, the budgets spent; the mail goes out after the answer): nothing to learn."""
    with write_transaction(site.engine) as conn:
        take_ip_budget(conn, site.settings, "reset-password", ip, now)
        found = accounts.reset_token(conn, site.settings.signing_key(), address)
        if found is None:
            take_recipient_budget(conn, site.settings, "reset-password", address, now)
            return
        member, made = found
        queue_mail(
            conn, site.settings, "reset-password", member.email,
            f"Reset your {site.settings.site_name} password",
            f"Hello {member.name},\n\nSet a new password here (the link works once, for an hour):\n\n"
            f"{site.settings.base_url}/reset/{made}\n\nIf you did not ask for this, ignore this mail.\n",
            now,
        )  # fmt: skip


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


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
