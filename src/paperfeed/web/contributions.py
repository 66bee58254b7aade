"""Member contributions: submitting a paper, upvoting, commenting (and editing or deleting
one's comments). Every form passes the checks of :mod:`paperfeed.web.forms` first."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from paperfeed.paper_urls import paper_path
from paperfeed.services import comments, votes
from paperfeed.services.accounts import AccountError
from paperfeed.services.submissions import submit
from paperfeed.store.engine import write_transaction
from paperfeed.web.forms import acting_member, csrf_ok, problem, stored_paper
from paperfeed.web.input_checks import RowId
from paperfeed.web.lookup import find_paper_id
from paperfeed.web.members import local_path, refused, site_of
from paperfeed.web.problems import problem_response
from paperfeed.web.rendering import render
from paperfeed.web.session import current_member

router = APIRouter(include_in_schema=False)
Token = Annotated[str, Form(max_length=400)]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@router.get("/submit")
def submit_form(request: Request) -> Response:
    if current_member(request) is None:
        return RedirectResponse("/login?next=/submit", status_code=303)
    return render(request, "submit.html", {"error": None, "pasted": ""})


@router.post("/submit")
def submit_paper(
    request: Request, arxiv: Annotated[str, Form(max_length=500)], csrf_token: Token = ""
) -> Response:
    member = acting_member(request, csrf_token, "/submit", confirmed=False)
    site = site_of(request)
    try:
        done = submit(
            site.engine, member, arxiv, _now(), site.arxiv(),
            site.settings.submissions_per_day,
        )  # fmt: skip
    except AccountError as error:
        return render(
            request, "submit.html", {"error": str(error), "pasted": arxiv}, status_code=400
        )
    return RedirectResponse(
        paper_path(done.paper_id, f"?submitted={done.outcome}"), status_code=303
    )


@router.post("/papers/{paper_id:path}/upvote")
def upvote(request: Request, paper_id: str, csrf_token: Token = "") -> Response:
    wants_json = "application/json" in request.headers.get("accept", "")
    if not csrf_ok(request, csrf_token):
        return (
            problem_response("missing or wrong CSRF token", 403) if wants_json else refused(request)
        )
    member = current_member(request)
    if member is None:
        target = f"/login?next={quote(paper_path(paper_id))}"
        return (
            problem_response("log in to vote", 401, extra={"login": target})
            if wants_json
            else RedirectResponse(target, 303)
        )
    site = site_of(request)
    with site.engine.connect() as conn:
        found = find_paper_id(conn, paper_id)
    if found is None:
        return _no_such_paper(request, paper_id, wants_json)
    if not member.can_write:
        message = "confirm your e-mail address to vote"
        return (
            problem_response(message, 403)
            if wants_json
            else render(request, "error.html", {"message": message}, status_code=403)
        )
    try:
        voted, count = votes.toggle(site.engine, member.id, found, _now())
    except LookupError:  # deleted since the look-up
        return _no_such_paper(request, paper_id, wants_json)
    if wants_json:
        return JSONResponse({"voted": voted, "upvotes": count})
    return RedirectResponse(
        local_path(
            request.headers.get("referer", "").split(str(request.base_url).rstrip("/"), 1)[-1],
            paper_path(found),
        ),
        status_code=303,
    )


def _no_such_paper(request: Request, paper_id: str, wants_json: bool) -> Response:
    if wants_json:
        return problem_response("no such paper", 404)
    context = {"wanted": paper_id[:200], "q": ""}
    return render(request, "not_found.html", context, status_code=404)


@router.post("/papers/{paper_id:path}/comments")
def comment(
    request: Request,
    paper_id: str,
    body: Annotated[str, Form(max_length=20_000)],
    csrf_token: Token = "",
    parent_id: Annotated[RowId | None, Form()] = None,
) -> Response:
    member = acting_member(request, csrf_token, paper_path(paper_id))
    found = stored_paper(request, paper_id)
    try:
        with write_transaction(site_of(request).engine) as conn:
            new_id = comments.add(conn, member, found, body, parent_id, _now())
    except AccountError as error:
        raise problem(request, str(error), 400) from None
    return RedirectResponse(paper_path(found, f"#comment-{new_id}"), status_code=303)


@router.post("/comments/{comment_id}/edit")
def edit_comment(
    request: Request,
    comment_id: RowId,
    body: Annotated[str, Form(max_length=20_000)],
    csrf_token: Token = "",
) -> Response:
    return _change(
        request,
        comment_id,
        csrf_token,
        lambda conn, member: comments.edit(conn, member, comment_id, body, _now()),
    )


@router.post("/comments/{comment_id}/delete")
def delete_comment(request: Request, comment_id: RowId, csrf_token: Token = "") -> Response:
    return _change(
        request,
        comment_id,
        csrf_token,
        lambda conn, member: comments.remove(conn, member, comment_id, _now()),
    )


def _change(request: Request, comment_id: int, csrf_token: str, action: Any) -> Response:
    member = acting_member(request, csrf_token)
    try:
        with write_transaction(site_of(request).engine) as conn:
            paper_id = action(conn, member)
    except LookupError:
        return render(
            request, "not_found.html", {"wanted": f"comment {comment_id}", "q": ""}, status_code=404
        )
    except PermissionError as error:
        return render(request, "error.html", {"message": str(error)}, status_code=403)
    except AccountError as error:
        return render(request, "error.html", {"message": str(error)}, status_code=400)
    return RedirectResponse(paper_path(paper_id, "#comments-h"), status_code=303)
