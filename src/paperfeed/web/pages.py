"""The HTML pages: the daily feed, trending, search, paper pages, about, and the subscribe form."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from paperfeed.arxiv_ids import canonical_paper_id, is_arxiv_id
from paperfeed.paper_urls import paper_path
from paperfeed.search.hybrid import MODES, SearchResults
from paperfeed.search.query import Filters, parse_query
from paperfeed.services import comments, library, subscriptions, votes
from paperfeed.services import trending as trending_module
from paperfeed.services.accounts import AccountError
from paperfeed.services.cards import Card, load_cards
from paperfeed.services.feeds import PAGE_SIZE, SORTS, Sort, feed_page, trending_page
from paperfeed.services.outbox import queue_mail
from paperfeed.services.periods import BadPeriod, Kind, parse_period
from paperfeed.store.engine import write_transaction
from paperfeed.web.follows import followable
from paperfeed.web.forms import checked
from paperfeed.web.lookup import find_paper_id, merged_address
from paperfeed.web.rendering import render
from paperfeed.web.session import current_member
from paperfeed.web.site import SearchUnavailable, Site

router = APIRouter(include_in_schema=False)
SEARCH_PAGE = 20
SIMILAR = 6


def site_of(request: Request) -> Site:
    site = request.app.state.site
    assert isinstance(site, Site)
    return site


@router.get("/", response_class=HTMLResponse)
def feed(
    request: Request,
    date: str | None = None,
    week: str | None = None,
    month: str | None = None,
    sort: str = "trending",
    p: Annotated[int, Query(ge=1, le=10_000)] = 1,
    subscribed: str | None = None,
    welcome: str | None = None,
) -> Response:
    site = site_of(request)
    try:
        period = parse_period(date, week, month)
    except BadPeriod as error:
        return render(request, "error.html", {"message": str(error)}, status_code=400)
    chosen: Sort = sort if sort in SORTS else "trending"
    with site.engine.connect() as conn:
        page = feed_page(conn, period, chosen, (p - 1) * PAGE_SIZE, PAGE_SIZE)
    tabs: dict[Kind, str] = {
        kind: page.period.containing(kind).key for kind in ("day", "week", "month")
    }
    return render(
        request,
        "feed.html",
        {
            "page": page,
            "tabs": tabs,
            "sorts": SORTS,
            "page_number": p,
            "pages": max(1, -(-page.total // PAGE_SIZE)),
            "subscribed": subscribed,
            "welcome": welcome,
            "earlier": page.period.shifted(-1),
            "later": page.period.shifted(1),
            **viewer_marks(request, [c.id for c in page.cards]),
        },
    )


@router.get("/trending", response_class=HTMLResponse)
def trending(request: Request, p: Annotated[int, Query(ge=1, le=10_000)] = 1) -> Response:
    site = site_of(request)
    with site.engine.connect() as conn:
        cards, total = trending_page(conn, (p - 1) * PAGE_SIZE, PAGE_SIZE)
    return render(
        request,
        "trending.html",
        {
            "cards": cards,
            "total": total,
            "page_number": p,
            "pages": max(1, -(-total // PAGE_SIZE)),
            **viewer_marks(request, [c.id for c in cards]),
        },
    )


@router.get("/search", response_class=HTMLResponse)
def search(
    request: Request,
    q: Annotated[str, Query(max_length=10_000)] = "",
    mode: str = "hybrid",
    cat: Annotated[str, Query(max_length=40)] = "",
    year_from: str = "",
    year_to: str = "",
    has_code: str = "",
    p: Annotated[int, Query(ge=1, le=50)] = 1,
) -> Response:
    site = site_of(request)
    chosen = mode if mode in MODES else "hybrid"
    filters = Filters(
        categories=(cat.strip(),) if cat.strip() else (),
        year_from=_year(year_from),
        year_to=_year(year_to),
        has_code=bool(has_code),
    )
    context: dict[str, Any] = {
        "q": q, "mode": chosen, "modes": MODES, "cat": cat.strip(),
        "year_from": filters.year_from or "", "year_to": filters.year_to or "",
        "has_code": filters.has_code, "page_number": p, "results": None, "cards": [],
        "unavailable": None, "broader": None, "missing_id": None, "voted": set(), "saved": None,
        "followable": None, "empty": False,
    }  # fmt: skip
    if is_arxiv_id(q.strip()):  # an id pasted into the box: go to the paper, or say it is not here
        with site.engine.connect() as conn:
            found = find_paper_id(conn, q.strip())
        if found is not None:
            return RedirectResponse(paper_path(found), status_code=303)
        context["missing_id"] = canonical_paper_id(q.strip())
        return render(request, "search.html", context)
    if not q.strip() and not filters:
        context["empty"] = "q" in request.query_params  # the box was sent blank
        return render(request, "search.html", context)
    if q.strip() or filters:
        try:
            searcher = site.search()
        except SearchUnavailable as error:
            context["unavailable"] = str(error)
            return render(request, "search.html", context, status_code=503)
        results: SearchResults = searcher.search(
            q,
            limit=SEARCH_PAGE,
            mode=chosen,
            filters=filters,
            offset=(p - 1) * SEARCH_PAGE,
        )
        with site.engine.connect() as conn:
            cards = {c.id: c for c in load_cards(conn, [hit.id for hit in results.hits])}
            context["followable"] = followable(conn, current_member(request), q, filters)
        context["results"] = results
        context["empty"] = results.empty
        context["cards"] = [(cards[h.id], h) for h in results.hits if h.id in cards]
        context.update(viewer_marks(request, list(cards)))
        if not context["cards"]:
            context["broader"] = broader_query(q, filters)
    return render(request, "search.html", context)


@router.get("/papers/{paper_id:path}", response_class=HTMLResponse)
def paper(
    request: Request, paper_id: str, submitted: str | None = None, claim: str | None = None
) -> Response:
    site = site_of(request)
    member = current_member(request)
    # One connection for the whole page: each checkout costs a round trip or two of its own.
    with site.engine.connect() as conn:
        cards = load_cards(conn, [canonical_paper_id(paper_id)]) if len(paper_id) <= 300 else []
        if not cards and (moved := merged_address(conn, request, paper_id, False)) is not None:
            return RedirectResponse(moved, status_code=301)
        if not cards:
            return render(
                request, "not_found.html", {"wanted": paper_id[:200], "q": canonical_paper_id(paper_id)[:200]},
                status_code=404,
            )  # fmt: skip
        card = cards[0]
        if paper_id != card.id:  # versioned, prefixed or URL forms: one address per paper
            query = request.scope.get("query_string", b"").decode("latin-1")
            return RedirectResponse(
                paper_path(card.id) + (f"?{query}" if query else ""), status_code=301
            )
        similar: list[Card] = []
        similar_note = None
        try:
            hits = site.search().similar(card.id, SIMILAR)
            similar = load_cards(conn, [hit.id for hit in hits])
            if not hits:
                similar_note = (
                    "Similar papers appear once this paper's vector is built (`paperfeed index`)."
                )
        except SearchUnavailable as error:
            similar_note = str(error)
        thread = comments.thread(conn, card.id, member, dt.datetime.now(dt.UTC))
        my_lists = library.lists_of(conn, member.id) if member else []
    return render(
        request,
        "paper.html",
        {
            "card": card, "similar": similar, "similar_note": similar_note, "thread": thread,
            "shown_comments": comments.shown_count(thread), "my_lists": my_lists,
            "submitted": submitted if submitted in ("featured", "already") else None,
            "claim": claim if claim in ("pending", "confirmed", "rejected") else None,
            **viewer_marks(request, [card.id, *(c.id for c in similar)]),
        },
    )  # fmt: skip


@router.get("/about", response_class=HTMLResponse)
def about(request: Request) -> Response:
    return render(
        request,
        "about.html",
        {
            "gravity": trending_module.GRAVITY,
            "offset_hours": trending_module.OFFSET_HOURS,
            "window_days": trending_module.WINDOW.days,
        },
    )


@router.post("/subscribe", response_class=HTMLResponse)
def subscribe(
    request: Request,
    email: Annotated[str, Form(max_length=2000)],
    csrf_token: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    """Double opt-in: the address is pending until it clicks the link mailed to it."""
    site = site_of(request)
    checked(request, csrf_token)
    member = current_member(request)
    try:
        with write_transaction(site.engine) as conn:
            now = dt.datetime.now(dt.UTC)
            sub_id, address, needs_mail = subscriptions.subscribe(
                conn, email, now, member.id if member else None
            )
            if needs_mail:  # (over the address's cap, nothing is queued: the same answer)
                secret = site.settings.signing_key()
                link = f"{site.settings.base_url}/subscriptions/confirm/{subscriptions.confirm_token(secret, sub_id, address)}"
                queue_mail(
                    conn, site.settings, "confirm-digest", address,
                    f"Confirm your {site.settings.site_name} digest",
                    f"Someone (we hope you) asked for {site.settings.site_name}'s trending papers by mail.\n\n"
                    f"Confirm with this link, and nothing will be sent before you do:\n\n{link}\n\n"
                    "If it was not you, ignore this mail.\n",
                    now,
                )  # fmt: skip
    except AccountError as error:
        return render(request, "error.html", {"message": f"{error}."}, status_code=400)
    site.mail_queued()
    return RedirectResponse("/?subscribed=1", status_code=303)


@router.get("/subscriptions/confirm/{token}", response_class=HTMLResponse)
def confirm_subscription_page(request: Request, token: str) -> Response:
    """Only a page with a button: a GET changes nothing, so a mail scanner that follows the
    link subscribes no one."""
    return render(
        request,
        "confirm.html",
        {
            "title": "Confirm the digest",
            "message": "Send the trending papers to this address by mail? Every mail has a link to stop them.",
            "action": f"/subscriptions/confirm/{token[:500]}",
            "button": "Yes, send me the digest",
        },
    )


@router.post("/subscriptions/confirm/{token}", response_class=HTMLResponse)
def confirm_subscription(
    request: Request, token: str, csrf_token: Annotated[str, Form(max_length=400)] = ""
) -> Response:
    site = site_of(request)
    checked(request, csrf_token)
    try:
        with write_transaction(site.engine) as conn:
            address = subscriptions.confirm(
                conn, site.settings.signing_key(), token[:500], dt.datetime.now(dt.UTC)
            )
    except AccountError as error:
        return render(request, "error.html", {"message": str(error)}, status_code=400)
    return render(
        request,
        "message.html",
        {
            "title": "Subscribed",
            "message": f"Digests will go to {address}. Every mail has a link to stop them.",
        },
    )


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_page(request: Request, token: str) -> Response:
    return render(request, "unsubscribe.html", {"token": token[:500], "done": None})


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe(request: Request, token: str) -> Response:
    """RFC 8058 one-click: mail clients POST here with no session and no CSRF token; the signed
    token is the authority, and unsubscribing twice is harmless."""
    site = site_of(request)
    try:
        with write_transaction(site.engine) as conn:
            address = subscriptions.unsubscribe(conn, site.settings.signing_key(), token[:500])
    except AccountError as error:
        return render(request, "error.html", {"message": str(error)}, status_code=400)
    return render(request, "unsubscribe.html", {"token": None, "done": address})


def viewer_marks(request: Request, paper_ids: list[str]) -> dict[str, set[str] | None]:
    """Which of these papers the logged-in member upvoted and saved (``saved`` is None for
    visitors: the cards then show no save button)."""
    member = current_member(request)
    if member is None or not paper_ids:
        return {"voted": set(), "saved": None if member is None else set()}
    with site_of(request).engine.connect() as conn:
        return {
            "voted": votes.voted_for(conn, member.id, paper_ids),
            "saved": library.saved_among(conn, member.id, paper_ids),
        }


def broader_query(q: str, filters: Filters) -> str | None:
    """A query likelier to match: without filters, then without quotes and operators, then
    with fewer words."""
    parsed = parse_query(q)
    if filters or parsed.filters:
        return parsed.text or None
    words = re.findall(r"\w+", parsed.text)
    if '"' in q or re.search(r"\b(AND|OR|NOT)\b|(^|\s)[-+]", q):
        return " ".join(words) or None
    if len(words) > 2:
        return " ".join(words[:2])
    return None


def _year(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() and 1000 <= int(text) <= 2999 else None
