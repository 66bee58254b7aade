"""Saved papers and reading lists: the save button, ``/saved``, ``/lists`` and each list's page
(its feeds are in feed_routes, its JSON in the API)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from paperfeed.paper_urls import paper_path, paper_segment
from paperfeed.services import library
from paperfeed.services.accounts import AccountError, Member
from paperfeed.services.cards import load_cards
from paperfeed.services.library import ListInfo
from paperfeed.store.engine import write_transaction
from paperfeed.web.forms import Refusal, acting_member, problem, still_here, stored_paper
from paperfeed.web.members import local_path, site_of
from paperfeed.web.pages import viewer_marks
from paperfeed.web.problems import problem_response
from paperfeed.web.rendering import render
from paperfeed.web.session import current_member

router = APIRouter(include_in_schema=False)
Token = Annotated[str, Form(max_length=400)]
Name = Annotated[str, Form(max_length=200)]
Text = Annotated[str, Form(max_length=2000)]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@router.post("/papers/{paper_id:path}/save")
def save(request: Request, paper_id: str, csrf_token: Token = "") -> Response:
    """Save the paper, or take it off the saved page (JSON for the in-place button)."""
    wants_json = "application/json" in request.headers.get("accept", "")
    try:
        member = acting_member(request, csrf_token, paper_path(paper_id), confirmed=False)
        found = stored_paper(request, paper_id)
    except Refusal as refusal:
        if not wants_json:
            raise
        if refusal.response.status_code == 303:
            login = f"/login?next={quote(paper_path(paper_id))}"
            return problem_response("log in to save papers", 401, extra={"login": login})
        return problem_response("refused", refusal.response.status_code)
    with write_transaction(site_of(request).engine) as conn:
        found = still_here(request, conn, found)
        now_saved = found not in library.saved_among(conn, member.id, [found])
        if now_saved:
            library.save(conn, member, found, _now())
        else:
            library.unsave(conn, member, found)
    if wants_json:
        return JSONResponse({"saved": now_saved})
    back = request.headers.get("referer", "").split(str(request.base_url).rstrip("/"), 1)[-1]
    return RedirectResponse(local_path(back, paper_path(found)), status_code=303)


@router.get("/saved")
def saved_page(request: Request) -> Response:
    member = logged_in(request, "/saved")
    with site_of(request).engine.connect() as conn:
        cards = load_cards(conn, library.saved_ids(conn, member.id))
    return render(
        request, "saved.html", {"cards": cards, **viewer_marks(request, [c.id for c in cards])}
    )


@router.get("/lists")
def lists_page(request: Request, error: str | None = None) -> Response:
    member = logged_in(request, "/lists")
    with site_of(request).engine.connect() as conn:
        mine = library.lists_of(conn, member.id)
    return render(request, "lists.html", {"lists": mine, "error": error})


@router.post("/lists")
def create_list(
    request: Request, name: Name = "", visibility: Annotated[str, Form(max_length=10)] = "private",
    paper: Annotated[str, Form(max_length=200)] = "", csrf_token: Token = "",
) -> Response:  # fmt: skip
    """A new list (and, from a paper page, the paper in it)."""
    member = acting_member(request, csrf_token, "/lists", confirmed=False)
    try:
        with write_transaction(site_of(request).engine) as conn:
            token = library.create_list(conn, member, name, visibility, _now())
            if paper:
                found = stored_paper(request, paper)
                info = library.own_list(conn, token, member)
                assert info is not None
                library.add(conn, info, still_here(request, conn, found), _now())
    except AccountError as error:
        raise problem(request, str(error), 400) from None
    return RedirectResponse(f"/lists/{token}", status_code=303)


@router.get("/lists/{token}")
def list_page(request: Request, token: str) -> Response:
    member = current_member(request)
    site = site_of(request)
    with site.engine.connect() as conn:
        info = library.find_list(conn, token, member)
        if info is None:
            return not_found_page(request, f"/lists/{token[:40]}")
        entries = library.entries(conn, info)
        cards = {card.id: card for card in load_cards(conn, [e.paper_id for e in entries])}
    owner = member is not None and member.id == info.owner_id
    return render(
        request, "list.html",
        {"info": info, "entries": [e for e in entries if e.paper_id in cards], "cards": cards,
         "owner": owner, **viewer_marks(request, list(cards))},
    )  # fmt: skip


@router.post("/lists/{token}/edit")
def edit_list(
    request: Request, token: str, name: Name = "",
    visibility: Annotated[str, Form(max_length=10)] = "private", description: Text = "",
    csrf_token: Token = "",
) -> Response:  # fmt: skip
    info = owned_list(request, token, csrf_token)
    try:
        with write_transaction(site_of(request).engine) as conn:
            library.edit_list(conn, info, name, visibility, description, _now())
    except AccountError as error:
        raise problem(request, str(error), 400) from None
    return RedirectResponse(f"/lists/{token}", status_code=303)


@router.post("/lists/{token}/delete")
def delete_list(request: Request, token: str, csrf_token: Token = "") -> Response:
    info = owned_list(request, token, csrf_token)
    with write_transaction(site_of(request).engine) as conn:
        library.delete_list(conn, info)
    return RedirectResponse("/lists", status_code=303)


@router.post("/lists/add")
def add_to_chosen_list(
    request: Request, paper: Annotated[str, Form(max_length=200)],
    list_token: Annotated[str, Form(alias="list", max_length=40)], note: Text = "",
    csrf_token: Token = "",
) -> Response:  # fmt: skip
    """From a paper page: the list is a field of the form."""
    return add_to_list(request, list_token, paper, note, csrf_token)


@router.post("/lists/{token}/add")
def add_to_list(
    request: Request, token: str, paper: Annotated[str, Form(max_length=200)],
    note: Text = "", csrf_token: Token = "",
) -> Response:  # fmt: skip
    info = owned_list(request, token, csrf_token)
    found = stored_paper(request, paper)
    try:
        with write_transaction(site_of(request).engine) as conn:
            library.add(conn, info, still_here(request, conn, found), _now(), note)
    except AccountError as error:
        raise problem(request, str(error), 400) from None
    return RedirectResponse(f"/lists/{token}", status_code=303)


@router.post("/lists/{token}/papers/{paper_id:path}/{action}")
def change_entry(
    request: Request, token: str, paper_id: str, action: str, note: Text = "",
    csrf_token: Token = "",
) -> Response:  # fmt: skip
    """Remove a paper, move it up or down, or set its note."""
    info = owned_list(request, token, csrf_token)
    with write_transaction(site_of(request).engine) as conn:
        if action == "remove":
            library.remove(conn, info, paper_id, _now())
        elif action in ("up", "down"):
            library.move(conn, info, paper_id, -1 if action == "up" else 1, _now())
        elif action == "note":
            library.set_note(conn, info, paper_id, note, _now())
        else:
            return not_found_page(request, request.url.path)
    return RedirectResponse(f"/lists/{token}#p-{paper_segment(paper_id)}", status_code=303)


def logged_in(request: Request, back: str) -> Member:
    member = current_member(request)
    if member is None:
        raise Refusal(RedirectResponse(f"/login?next={quote(back)}", status_code=303))
    return member


def owned_list(request: Request, token: str, csrf_token: str) -> ListInfo:
    """The acting member and their list; anyone else's list is not found."""
    member = acting_member(request, csrf_token, f"/lists/{token}", confirmed=False)
    with site_of(request).engine.connect() as conn:
        info = library.own_list(conn, token, member)
    if info is None:
        raise Refusal(not_found_page(request, f"/lists/{token[:40]}"))
    return info


def not_found_page(request: Request, wanted: str) -> Response:
    return render(request, "not_found.html", {"wanted": wanted, "q": ""}, status_code=404)
