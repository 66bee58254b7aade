"""Jinja2 templates (autoescaped), the filters they use, and the CSRF cookie every page sets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from paperfeed import wording
from paperfeed.paper_urls import paper_path
from paperfeed.services.cards import Card
from paperfeed.web.csrf import COOKIE, MAX_AGE, Csrf
from paperfeed.web.session import current_member

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
TEMPLATES.env.auto_reload = False  # (templates ship with the package: no stat() per page)
STATIC_VERSION = "9"  # bump when static files change: their URLs carry it, caches keep them a year


def authors_line(card: Card) -> str:
    """The card's authors as every page shows them (:func:`services.cards.authors_line`)."""
    return card.authors_line


def excerpt(text: str, limit: int = 320) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:.") + "…"


def short_date(day: dt.date | None) -> str:
    return f"{day:%b} {day.day}, {day.year}" if day else ""


def query_url(request: Request, **changes: Any) -> str:
    """This page's URL with some parameters changed (``None`` removes one); the others are
    kept as sent, repeated ones included."""
    params = [
        (key, value) for key, value in request.query_params.multi_items() if key not in changes
    ]
    params += [(key, str(value)) for key, value in changes.items() if value not in (None, "")]
    path = page_path(request)
    return f"{path}?{urlencode(params)}" if params else path


def page_path(request: Request) -> str:
    """This page's path as the browser sent it, still percent-encoded: the decoded path of a
    paper whose id holds ``?`` or ``#`` would end where the id has them."""
    raw = request.scope.get("raw_path")
    return raw.decode("latin-1") if isinstance(raw, bytes) else quote(request.url.path)


def page_address(request: Request) -> str:
    """This page's path and query as the browser sent them: where "Log in" brings the person
    back to (a search's words and filters included)."""
    query = request.scope.get("query_string", b"")
    path = page_path(request)
    return f"{path}?{query.decode('latin-1')}" if query else path


def snippet_html(snippet: str) -> Markup:
    """Tantivy's snippet HTML: every character of the text escaped, matches in ``<b>``; only
    ``<b>`` and ``</b>`` are let through as markup, as ``<mark>``."""
    return Markup(snippet.replace("<b>", "<mark>").replace("</b>", "</mark>"))  # noqa: S704


TEMPLATES.env.filters.update(
    counted=wording.count,
    plural=wording.plural,
    authors_line=authors_line,
    excerpt=excerpt,
    short_date=short_date,
    snippet_html=snippet_html,
    paper_path=paper_path,
)
TEMPLATES.env.globals.update(
    static_version=STATIC_VERSION, query_url=query_url, page_path=page_path,
    page_address=page_address,
)  # fmt: skip


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """The page, with a CSRF token for its forms (and the cookie it is bound to)."""
    site = request.app.state.site
    csrf: Csrf = site.csrf
    cookie = request.cookies.get(COOKIE)
    fresh = cookie is None or len(cookie) > 100
    if fresh:
        cookie = Csrf.new_cookie_value()
    assert cookie is not None
    response = TEMPLATES.TemplateResponse(
        request,
        name,
        {
            **context,
            "csrf_token": csrf.token_for(cookie, _session_id(request)),
            "site_name": site.settings.site_name,
            "member": current_member(request),
        },
        status_code=status_code,
    )
    if fresh:
        response.set_cookie(
            COOKIE, cookie, max_age=MAX_AGE, httponly=True, samesite="lax",
            secure=site.settings.base_url.startswith("https://"),
        )  # fmt: skip
    return response


def _session_id(request: Request) -> str | None:
    session_id = request.session.get("sid")
    return session_id if isinstance(session_id, str) else None
