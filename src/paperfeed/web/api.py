"""The JSON API: the public Daily Papers routes in their shapes, and our own under ``/api/v1``.

Every parameter is validated before any work: a bad one is a 422 whose ``detail`` says what
was expected, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from sqlalchemy import literal, select, tuple_

from paperfeed.models import Paper
from paperfeed.search.hybrid import Mode, PaperSearch, SearchHit
from paperfeed.search.query import Filters
from paperfeed.services import library
from paperfeed.services.cards import load_cards
from paperfeed.services.feeds import Sort, feed_cards, newest_papers, recent_entries
from paperfeed.services.periods import BadPeriod, parse_period
from paperfeed.web import shapes
from paperfeed.web.api_models import (
    DailyEntry,
    HubPaperPage,
    JSONBytes,
    PaperV1,
    ReadingListV1,
    SearchV1,
    SimilarV1,
)
from paperfeed.web.lookup import card_or_404, stored_id_or_404
from paperfeed.web.problems import READ_ERRORS
from paperfeed.web.session import current_member
from paperfeed.web.site import SearchUnavailable, Site

router = APIRouter(prefix="/api", responses=READ_ERRORS)

Limit = Annotated[int, Query(ge=1, le=100, description="results per page (1-100)")]


def site_of(request: Request) -> Site:
    site = request.app.state.site
    assert isinstance(site, Site)
    return site


@router.get("/daily_papers", tags=["Daily Papers compatible"], response_model=list[DailyEntry])
def daily_papers(
    request: Request,
    date: Annotated[str | None, Query(description="a day, YYYY-MM-DD")] = None,
    week: Annotated[str | None, Query(description="an ISO week, YYYY-Www")] = None,
    month: Annotated[str | None, Query(description="a month, YYYY-MM")] = None,
    submitter: Annotated[str | None, Query(max_length=200)] = None,
    sort: Literal["publishedAt", "trending"] = "publishedAt",
    p: Annotated[int, Query(ge=0, le=10_000, description="page, from 0")] = 0,
    limit: Limit = 50,
) -> Response:
    """Featured papers of a day, week or month (default: the most recently featured first)."""
    site = site_of(request)
    try:
        period = parse_period(date, week, month)
    except BadPeriod as error:
        raise HTTPException(422, str(error)) from None
    order: Sort = "trending" if sort == "trending" else "newest"
    with site.engine.connect() as conn:
        if period is None:
            cards = recent_entries(conn, order, p * limit, limit, submitter)
        else:
            cards = feed_cards(conn, period, order, p * limit, limit, submitter)
    return JSONBytes([shapes.daily_entry(card, site.settings.base_url) for card in cards])


@router.get("/papers/search", tags=["Daily Papers compatible"], response_model=list[DailyEntry])
def papers_search(
    request: Request,
    q: Annotated[str, Query(max_length=2_000, description="the query; none: the newest")] = "",
    limit: Limit = 20,
) -> Response:
    """Hybrid search over every paper, in the daily entries' shape; without a query (or an
    empty one), the most recently published papers."""
    site = site_of(request)
    if not q.strip():
        with site.engine.connect() as conn:
            cards = newest_papers(conn, limit)
        return JSONBytes([shapes.daily_entry(card, site.settings.base_url) for card in cards])
    hits = _search(site, q, "hybrid", Filters(), limit, 0)
    with site.engine.connect() as conn:
        cards = load_cards(conn, [hit.id for hit in hits])
    return JSONBytes([shapes.daily_entry(card, site.settings.base_url) for card in cards])


@router.get(
    "/papers/{paper_id:path}", tags=["Daily Papers compatible"], response_model=HubPaperPage
)
def paper(request: Request, paper_id: str) -> Response:
    """One paper (old-style ids such as ``hep-th/9901001`` work)."""
    site = site_of(request)
    with site.engine.connect() as conn:
        card = card_or_404(conn, request, paper_id)
    return JSONBytes(shapes.paper_page(card, site.settings.base_url))


@router.get("/papers", tags=["Daily Papers compatible"], response_model=list[HubPaperPage])
def papers(
    request: Request,
    limit: Limit = 50,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> Response:
    """Every paper, newest added first, a page at a time; the next page's URL is in the
    ``Link`` header (``rel="next"``)."""
    site = site_of(request)
    query = select(Paper.id, Paper.created_at).order_by(Paper.created_at.desc(), Paper.id.desc())
    if cursor:
        created_at, paper_id = _decode_cursor(cursor)
        query = query.where(
            tuple_(Paper.created_at, Paper.id)
            < tuple_(
                _bind(created_at, Paper.created_at),
                _bind(paper_id, Paper.id),
            )
        )
    with site.engine.connect() as conn:
        rows = conn.execute(query.limit(limit)).all()
        cards = load_cards(conn, [row.id for row in rows])
    response = JSONBytes([shapes.paper_page(card, site.settings.base_url) for card in cards])
    if len(rows) == limit:
        last = rows[-1]
        token = _encode_cursor(last.created_at.isoformat(), last.id)
        response.headers["Link"] = f'<{request.url.include_query_params(cursor=token)}>; rel="next"'
    return response


@router.get("/v1/search", tags=["paperfeed"], response_model=SearchV1)
def v1_search(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=2_000)],
    mode: Annotated[Mode, Query(description="hybrid, keyword or semantic")] = "hybrid",
    cat: Annotated[list[str] | None, Query(max_length=40)] = None,
    year_from: Annotated[int | None, Query(ge=1900, le=2100)] = None,
    year_to: Annotated[int | None, Query(ge=1900, le=2100)] = None,
    has_code: bool = False,
    limit: Limit = 20,
    offset: Annotated[int, Query(ge=0, le=1_000)] = 0,
) -> Response:
    """Search every paper: any mode, filters applied before fusion, paginated by offset."""
    site = site_of(request)
    filters = Filters(tuple(cat or ()), (), year_from, year_to, has_code)
    searcher = _searcher(site)
    results = searcher.search(q, limit=limit, mode=mode, filters=filters, offset=offset)
    if results.empty:
        raise HTTPException(422, EMPTY_QUERY)
    with site.engine.connect() as conn:
        cards = {card.id: card for card in load_cards(conn, [hit.id for hit in results.hits])}
    return JSONBytes(
        {
            "query": q,
            "mode": results.mode,
            "notes": results.notes,
            "no_match": results.no_match,
            "offset": offset,
            "results": [
                {
                    **shapes.card_json(cards[hit.id], site.settings.base_url),
                    "score": hit.score,
                    "snippet": hit.snippet,
                }
                for hit in results.hits
                if hit.id in cards
            ],
        }
    )


@router.get("/v1/papers/{paper_id:path}/similar", tags=["paperfeed"], response_model=SimilarV1)
def v1_similar(request: Request, paper_id: str, limit: Limit = 10) -> Response:
    """The papers nearest to this one by meaning."""
    site = site_of(request)
    with site.engine.connect() as conn:
        canonical = stored_id_or_404(conn, request, paper_id)
    hits = _searcher(site).similar(canonical, limit)
    with site.engine.connect() as conn:
        cards = load_cards(conn, [hit.id for hit in hits])
    return JSONBytes(
        {
            "id": canonical,
            "results": [shapes.card_json(card, site.settings.base_url) for card in cards],
        }
    )


@router.get("/v1/papers/{paper_id:path}", tags=["paperfeed"], response_model=PaperV1)
def v1_paper(request: Request, paper_id: str) -> Response:
    """One paper with every field paperfeed keeps."""
    site = site_of(request)
    with site.engine.connect() as conn:
        card = card_or_404(conn, request, paper_id)
    return JSONBytes(shapes.card_json(card, site.settings.base_url))


@router.get("/v1/lists/{token}", tags=["paperfeed"], response_model=ReadingListV1)
def v1_list(request: Request, token: str) -> Response:
    """A reading list (unlisted or public; private ones only for their owner's session), its
    papers in order, with each one's note."""
    site = site_of(request)
    with site.engine.connect() as conn:
        info = library.find_list(conn, token[:40], current_member(request))
        if info is None:
            raise HTTPException(404, "no such list")
        entries = library.entries(conn, info)
        cards = {c.id: c for c in load_cards(conn, [e.paper_id for e in entries])}
    base = site.settings.base_url
    return JSONBytes({
        "name": info.name, "description": info.description, "visibility": info.visibility,
        "owner": info.owner_handle, "updated_at": info.updated_at.isoformat(),
        "url": f"{base}/lists/{info.token}",
        "papers": [
            {**shapes.card_json(cards[e.paper_id], base), "note": e.note}
            for e in entries if e.paper_id in cards
        ],
    })  # fmt: skip


EMPTY_QUERY = "q is empty: give some words to search for (or a filter such as cat:cs.LG)"


def _searcher(site: Site) -> PaperSearch:
    try:
        return site.search()
    except SearchUnavailable as error:
        raise HTTPException(503, str(error)) from None


def _search(
    site: Site, q: str, mode: Mode, filters: Filters, limit: int, offset: int
) -> list[SearchHit]:
    results = _searcher(site).search(q, limit=limit, mode=mode, filters=filters, offset=offset)
    if results.empty:
        raise HTTPException(422, EMPTY_QUERY)
    return results.hits


def _encode_cursor(created_at: str, paper_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at}\n{paper_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[Any, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, paper_id = raw.split("\n", 1)
        return dt.datetime.fromisoformat(created_at), paper_id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise HTTPException(422, "cursor is not one this API gave out") from None


def _bind(value: Any, column: Any) -> Any:
    return literal(value, column.type)
