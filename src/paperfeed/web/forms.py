"""What every member form checks first, in one place: the CSRF token, a logged-in (and, to
write, confirmed) member, the paper it is about. A failed check raises :class:`Refusal` with
the page to answer, which the app's handler returns as it is."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection

from paperfeed.services.accounts import Member
from paperfeed.store.merges import lock_paper
from paperfeed.web.csrf import COOKIE
from paperfeed.web.lookup import find_paper_id
from paperfeed.web.rendering import render
from paperfeed.web.session import current_member

FORM_EXPIRED = (
    "This form has expired or did not come from this site. Reload the page and try again."
)


class Refusal(Exception):
    """A request that cannot go on; ``response`` says why."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def csrf_ok(request: Request, token: str) -> bool:
    session_id = request.session.get("sid")
    return bool(
        request.app.state.site.csrf.valid(
            token, request.cookies.get(COOKIE), session_id if isinstance(session_id, str) else None
        )
    )


def problem(request: Request, message: str, status_code: int) -> Refusal:
    return Refusal(render(request, "error.html", {"message": message}, status_code=status_code))


def checked(request: Request, csrf_token: str) -> None:
    if not csrf_ok(request, csrf_token):
        raise problem(request, FORM_EXPIRED, 403)


def acting_member(
    request: Request, csrf_token: str, back: str = "/", confirmed: bool = True
) -> Member:
    """The member posting a form with a valid token; visitors go to log in and come ``back``."""
    checked(request, csrf_token)
    member = current_member(request)
    if member is None:
        raise Refusal(RedirectResponse(f"/login?next={quote(back)}", status_code=303))
    if confirmed and not member.can_write:
        raise problem(request, "confirm your e-mail address first (see the link we sent)", 403)
    return member


def still_here(request: Request, conn: Connection, paper_id: str) -> str:
    """``paper_id`` (found by :func:`stored_paper` before the write began) locked in the
    write's transaction, following a merge that committed in between (its row is gone then:
    writing to it failed on its foreign key); the not-found page if it was deleted."""
    found = lock_paper(conn, paper_id)
    if found is None:
        raise Refusal(
            render(request, "not_found.html", {"wanted": paper_id[:200], "q": ""}, status_code=404)
        )
    return found


def stored_paper(request: Request, paper_id: str) -> str:
    with request.app.state.site.engine.connect() as conn:
        found = find_paper_id(conn, paper_id)
    if found is None:
        raise Refusal(
            render(request, "not_found.html", {"wanted": paper_id[:200], "q": ""}, status_code=404)
        )
    return found
