"""RSS 2.0 / Atom routes: ``/feed.rss``, ``/trending.atom``, ``/search.rss?q=``,
``/categories/cs.LG.atom`` and so on."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from paperfeed.search.hybrid import MODES
from paperfeed.services import library
from paperfeed.services.cards import Card, load_cards
from paperfeed.services.feeds import category_papers, feed_page, trending_page
from paperfeed.services.periods import BadPeriod, parse_period
from paperfeed.web.problems import READ_ERRORS
from paperfeed.web.site import SearchUnavailable, Site
from paperfeed.web.syndication import MEDIA_TYPES, Format, render_feed

FEED_ANSWER = {
    "description": "the feed",
    "content": {"application/rss+xml": {}, "application/atom+xml": {}},
}
router = APIRouter(tags=["feeds"], responses={**READ_ERRORS, 200: FEED_ANSWER})
FEED_SIZE = 50


def _site(request: Request) -> Site:
    site = request.app.state.site
    assert isinstance(site, Site)
    return site


def _respond(
    request: Request, kind: Format, title: str, page: str, description: str, cards: list[Card]
) -> Response:
    site = _site(request)
    base = site.settings.base_url
    body = render_feed(
        kind, title=f"{title} · {site.settings.site_name}", page_url=f"{base}{page}",
        self_url=f"{base}{request.url.path}" + (f"?{request.url.query}" if request.url.query else ""),
        description=description, cards=cards, base_url=base,
    )  # fmt: skip
    return Response(
        body, media_type=MEDIA_TYPES[kind], headers={"Cache-Control": "public, max-age=300"}
    )


@router.get("/feed.{kind}")
def daily_feed(
    request: Request,
    kind: Format,
    date: str | None = None,
    week: str | None = None,
    month: str | None = None,
) -> Response:
    """The daily (or weekly, monthly) feed, by trending score."""
    try:
        period = parse_period(date, week, month)
    except BadPeriod as error:
        raise HTTPException(422, str(error)) from None
    with _site(request).engine.connect() as conn:
        page = feed_page(conn, period, "trending", 0, FEED_SIZE)
    return _respond(
        request, kind, f"Daily papers: {page.period.label}", f"/?{page.period.kind if page.period.kind != 'day' else 'date'}={page.period.key}",
        "Papers featured by the community", page.cards,
    )  # fmt: skip


@router.get("/trending.{kind}")
def trending_feed(request: Request, kind: Format) -> Response:
    with _site(request).engine.connect() as conn:
        cards, _ = trending_page(conn, 0, FEED_SIZE)
    return _respond(
        request, kind, "Trending papers", "/trending", "Featured papers by trending score", cards
    )


@router.get("/search.{kind}")
def search_feed(
    request: Request,
    kind: Format,
    q: Annotated[str, Query(min_length=1, max_length=2_000)],
    mode: str = "hybrid",
) -> Response:
    """A saved search as a feed: its best matches (a feed reader shows the new ones)."""
    site = _site(request)
    try:
        hits = (
            site.search().search(q, limit=FEED_SIZE, mode=mode if mode in MODES else "hybrid").hits
        )
    except SearchUnavailable as error:
        raise HTTPException(503, str(error)) from None
    with site.engine.connect() as conn:
        cards = load_cards(conn, [hit.id for hit in hits])
    return _respond(
        request,
        kind,
        f"Search: {q[:100]}",
        f"/search?q={q[:100]}",
        f"Papers matching {q[:100]!r}",
        cards,
    )


@router.get("/categories/{category}.{kind}")
def category_feed(request: Request, category: str, kind: Format) -> Response:
    if len(category) > 40:
        raise HTTPException(422, "category is too long (arXiv categories look like cs.LG)")
    with _site(request).engine.connect() as conn:
        cards = category_papers(conn, category, FEED_SIZE)
    return _respond(
        request,
        kind,
        f"New in {category}",
        f"/search?cat={category}",
        f"The newest papers in {category}",
        cards,
    )


@router.get("/lists/{token}.{kind}")
def list_feed(request: Request, token: str, kind: Format) -> Response:
    """A reading list that is unlisted or public, newest additions first."""
    with _site(request).engine.connect() as conn:
        info = library.find_list(conn, token[:40], None)
        if info is None:
            raise HTTPException(404, "no such list")
        entries = sorted(library.entries(conn, info), key=lambda e: -e.position)
        cards = load_cards(conn, [e.paper_id for e in entries][:FEED_SIZE])
    return _respond(
        request, kind, info.name, f"/lists/{info.token}",
        info.description or f"A reading list by {info.owner_name}", cards,
    )  # fmt: skip
