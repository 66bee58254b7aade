"""Downloads as BibTeX, RIS and CSL-JSON (a paper, the saved page, a list, a search), and
importing references into a list."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from paperfeed.search.hybrid import MODES
from paperfeed.services import citations, imports, library
from paperfeed.services.cards import Card, load_cards
from paperfeed.store import counters
from paperfeed.web.forms import Refusal, problem, stored_paper
from paperfeed.web.library import logged_in, not_found_page, owned_list
from paperfeed.web.lookup import merged_address, stored_id
from paperfeed.web.members import site_of
from paperfeed.web.rendering import render
from paperfeed.web.session import current_member
from paperfeed.web.site import SearchUnavailable

router = APIRouter(include_in_schema=False)
SEARCH_EXPORT = 100
MAX_UPLOAD = 2 * 2**20
DAY = dt.timedelta(days=1)


@router.get("/papers/{paper_id:path}/export.{kind}")
def export_paper(request: Request, paper_id: str, kind: str) -> Response:
    with site_of(request).engine.connect() as conn:
        found = stored_id(conn, paper_id)
        if found is None and (moved := merged_address(conn, request, paper_id)) is not None:
            return RedirectResponse(moved, status_code=301)
    found = found or stored_paper(request, paper_id)  # (the page that says it is not here)
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
    site = site_of(request)
    await run_in_threadpool(_may_import, request, info.owner_id)
    references, problems = imports.from_lines(ids)
    if file is not None and file.filename:
        raw = await file.read(MAX_UPLOAD + 1)
        if len(raw) > MAX_UPLOAD:
            raise problem(request, "the file is larger than 2 MB", 413)
        found, trouble = imports.from_bibtex(raw.decode("utf-8", errors="replace"))
        references += found
        problems += trouble
    report = await run_in_threadpool(
        imports.import_references, site.engine, info, references, site.arxiv(),
        dt.datetime.now(dt.UTC), site.settings.arxiv_lookups_per_day,
    )  # fmt: skip
    report.problems[:0] = problems
    return render(request, "imported.html", {"info": info, "report": report})


def _may_import(request: Request, member_id: int) -> None:
    """Imports fetch from arXiv on the site's behalf: confirmed members only, a few a day
    (counted in the store, so the limit holds across nodes)."""
    member = current_member(request)
    if member is None or not member.can_write:
        raise problem(request, "confirm your e-mail address first (see the link we sent)", 403)
    site = site_of(request)
    per_day, now = site.settings.imports_per_day, dt.datetime.now(dt.UTC)
    if not counters.take_committed(site.engine, f"imports:{member_id}", per_day, DAY, now):
        wait = counters.seconds_to_wait(DAY, now)
        refusal = problem(
            request,
            f"you have run {per_day} imports today, the most a member may; try tomorrow (UTC)",
            429,
        )
        refusal.response.headers["Retry-After"] = str(wait)
        raise refusal


def _download(request: Request, kind: str, cards: list[Card], name: str) -> Response:
    if kind not in citations.FORMATS:
        return not_found_page(request, request.url.path)
    media_type, suffix = citations.FORMATS[kind]
    return Response(
        citations.export(cards, kind), media_type=media_type,
        headers={"Content-Disposition": attachment(f"{name}.{suffix}")},
    )  # fmt: skip


def attachment(filename: str) -> str:
    """A ``Content-Disposition`` naming a download after a paper id or a list's name, which
    are anyone's text: an ASCII ``filename`` with every other character as ``_`` (quotes and
    ``;`` could add parameters of their own, a browser prefers ``filename*``) and the whole
    name percent-encoded in RFC 5987's ``filename*`` (a non-Latin-1 id made the header fail:
    a 500)."""
    plain = re.sub(r"[^A-Za-z0-9._-]", "_", filename)[:150]
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename[:150], safe='')}"
