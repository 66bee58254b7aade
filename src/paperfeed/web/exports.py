"""Downloads as BibTeX, RIS and CSL-JSON (a paper, the saved page, a list, a search), and
importing references into a list."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response

from paperfeed.search.hybrid import MODES
from paperfeed.services import citations, imports, library
from paperfeed.services.cards import Card, load_cards
from paperfeed.services.submissions import arxiv_fetcher
from paperfeed.web.forms import Refusal, problem, stored_paper
from paperfeed.web.library import logged_in, not_found_page, owned_list
from paperfeed.web.members import site_of
from paperfeed.web.rendering import render
from paperfeed.web.session import current_member
from paperfeed.web.site import SearchUnavailable

router = APIRouter(include_in_schema=False)
SEARCH_EXPORT = 100
MAX_UPLOAD = 2 * 2**20


@router.get("/papers/{paper_id:path}/export.{kind}")
def export_paper(request: Request, paper_id: str, kind: str) -> Response:
    found = stored_paper(request, paper_id)
    with site_of(request).engine.connect() as conn:
        return _download(request, kind, load_cards(conn, [found]), found.replace("/", "-"))


@router.get("/saved/export.{kind}")
def export_saved(request: Request, kind: str) -> Response:
    member = logged_in(request, "/saved")
    with site_of(request).engine.connect() as conn:
        cards = load_cards(conn, library.saved_ids(conn, member.id))
    return _download(request, kind, cards, "saved")


@router.get("/lists/{token}/export.{kind}")
def export_list(request: Request, token: str, kind: str) -> Response:
    with site_of(request).engine.connect() as conn:
        info = library.find_list(conn, token, current_member(request))
        if info is None:
            return not_found_page(request, f"/lists/{token[:40]}")
        cards = load_cards(conn, [e.paper_id for e in library.entries(conn, info)])
    return _download(request, kind, cards, f"list-{token[:40]}")


@router.get("/search/export.{kind}")
def export_search(
    request: Request, kind: str, q: Annotated[str, Query(max_length=2000)] = "",
    mode: str = "hybrid",
) -> Response:  # fmt: skip
    """The first results of a search (as many as ``SEARCH_EXPORT``)."""
    site = site_of(request)
    try:
        hits = (
            site.search()
            .search(
                q, limit=SEARCH_EXPORT, mode=mode if mode in MODES else "hybrid", snippets=False
            )
            .hits
        )
    except SearchUnavailable as error:
        raise Refusal(
            render(request, "error.html", {"message": str(error)}, status_code=503)
        ) from None
    with site.engine.connect() as conn:
        cards = load_cards(conn, [hit.id for hit in hits])
    return _download(request, kind, cards, "search")


@router.post("/lists/{token}/import")
async def import_into_list(
    request: Request, token: str, ids: Annotated[str, Form(max_length=100_000)] = "",
    file: Annotated[UploadFile | None, File()] = None, csrf_token: Annotated[str, Form(max_length=400)] = "",
) -> Response:  # fmt: skip
    info = owned_list(request, token, csrf_token)
    references, problems = imports.from_lines(ids)
    if file is not None and file.filename:
        raw = await file.read(MAX_UPLOAD + 1)
        if len(raw) > MAX_UPLOAD:
            raise problem(request, "the file is larger than 2 MB", 413)
        found, trouble = imports.from_bibtex(raw.decode("utf-8", errors="replace"))
        references += found
        problems += trouble
    site = site_of(request)
    fetch = site.fetch_paper or arxiv_fetcher(site.settings.arxiv_api_url)
    report = imports.import_references(
        site.engine, info, references, fetch, dt.datetime.now(dt.UTC)
    )
    report.problems[:0] = problems
    return render(request, "imported.html", {"info": info, "report": report})


def _download(request: Request, kind: str, cards: list[Card], name: str) -> Response:
    if kind not in citations.FORMATS:
        return not_found_page(request, request.url.path)
    media_type, suffix = citations.FORMATS[kind]
    return Response(
        citations.export(cards, kind), media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}.{suffix}"'},
    )  # fmt: skip
