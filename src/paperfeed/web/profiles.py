"""Profile pages (``/u/{handle}``), organization pages (``/orgs/{slug}``), and the forms that
join an organization, link a paper to one, claim an author name, and decide claims (admins)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from paperfeed.models import User
from paperfeed.paper_urls import paper_path
from paperfeed.services import follows, library, profiles
from paperfeed.services.accounts import AccountError
from paperfeed.services.cards import load_cards
from paperfeed.services.moderation import NotAllowed
from paperfeed.store.engine import write_transaction
from paperfeed.web.forms import acting_member, checked, still_here, stored_paper
from paperfeed.web.input_checks import RowId
from paperfeed.web.members import site_of
from paperfeed.web.rendering import render
from paperfeed.web.session import current_member

router = APIRouter(include_in_schema=False)
Token = Annotated[str, Form(max_length=400)]


@router.get("/u/{handle}")
def profile_page(request: Request, handle: str) -> Response:
    site = site_of(request)
    with site.engine.connect() as conn:
        found = profiles.profile(conn, handle[:40], current_member(request))
        if found is None:
            return render(
                request, "not_found.html", {"wanted": f"/u/{handle[:40]}", "q": ""}, status_code=404
            )
        ids = {
            *found.authored,
            *found.submitted,
            *(found.upvoted or []),
            *(c[0] for c in found.comments),
        }
        cards = {card.id: card for card in load_cards(conn, sorted(ids))}
        owner = conn.scalar(select(User.id).where(User.handle == found.handle))
        public_lists = library.lists_of(conn, owner, public_only=True) if owner else []
    return render(
        request, "profile.html", {"profile": found, "cards": cards, "lists": public_lists}
    )


@router.get("/orgs/{slug}")
def organization_page(request: Request, slug: str) -> Response:
    site = site_of(request)
    with site.engine.connect() as conn:
        found = profiles.organization(conn, slug[:200])
        if found is None:
            return render(
                request,
                "not_found.html",
                {"wanted": f"/orgs/{slug[:200]}", "q": ""},
                status_code=404,
            )
        cards = load_cards(conn, found.papers)
        member = current_member(request)
        following = follows.is_following(conn, member, "organization", found.slug)
    joined = member is not None and any(handle == member.handle for handle, _ in found.members)
    return render(
        request, "organization.html",
        {"org": found, "cards": cards, "joined": joined, "following": following},
    )  # fmt: skip


@router.post("/orgs/{slug}/join")
def join_organization(request: Request, slug: str, csrf_token: Token = "") -> Response:
    member = acting_member(request, csrf_token, f"/orgs/{slug}")
    with write_transaction(site_of(request).engine) as conn:
        if not profiles.join(conn, member, slug[:200], _now()):
            return render(
                request,
                "not_found.html",
                {"wanted": f"/orgs/{slug[:200]}", "q": ""},
                status_code=404,
            )
    return RedirectResponse(f"/orgs/{slug}", status_code=303)


@router.post("/papers/{paper_id:path}/organization")
def link_organization(
    request: Request,
    paper_id: str,
    name: Annotated[str, Form(max_length=200)],
    csrf_token: Token = "",
) -> Response:
    member = acting_member(request, csrf_token, paper_path(paper_id))
    found = stored_paper(request, paper_id)
    site = site_of(request)
    try:
        with write_transaction(site.engine) as conn:
            found = still_here(request, conn, found)
            profiles.link_paper(conn, member, found, name, _now())
    except NotAllowed as error:
        return render(request, "error.html", {"message": str(error)}, status_code=403)
    except AccountError as error:
        return render(request, "error.html", {"message": str(error)}, status_code=400)
    return RedirectResponse(paper_path(found), status_code=303)


@router.post("/papers/{paper_id:path}/claim")
def claim_author(
    request: Request,
    paper_id: str,
    position: Annotated[int, Form(ge=0, le=10_000)],
    csrf_token: Token = "",
) -> Response:
    member = acting_member(request, csrf_token, paper_path(paper_id))
    found = stored_paper(request, paper_id)
    site = site_of(request)
    try:
        with write_transaction(site.engine) as conn:
            found = still_here(request, conn, found)
            status = profiles.claim(conn, member, found, position, _now())
    except AccountError as error:
        return render(request, "error.html", {"message": str(error)}, status_code=400)
    return RedirectResponse(paper_path(found, f"?claim={status}"), status_code=303)


@router.post("/admin/claims/{claim_id}/{decision}")
def decide_claim(
    request: Request, claim_id: RowId, decision: str, csrf_token: Token = ""
) -> Response:
    checked(request, csrf_token)
    if decision not in ("confirm", "reject"):
        return render(
            request, "error.html", {"message": "decide confirm or reject"}, status_code=404
        )
    try:
        with write_transaction(site_of(request).engine) as conn:
            profiles.decide(conn, current_member(request), claim_id, decision == "confirm", _now())
    except NotAllowed as error:
        return render(request, "error.html", {"message": str(error)}, status_code=403)
    return RedirectResponse("/admin", status_code=303)


@router.post("/settings/votes")
def public_votes(
    request: Request, public: Annotated[str, Form(max_length=5)] = "", csrf_token: Token = ""
) -> Response:
    member = acting_member(request, csrf_token, "/settings", confirmed=False)
    with write_transaction(site_of(request).engine) as conn:
        profiles.set_public_votes(conn, member, public == "yes")
    return RedirectResponse("/settings", status_code=303)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
