"""``GET /papers/{id}.md``: a paper as Markdown, the address ``huggingface_hub``'s
``read_paper`` and ``hf papers read`` fetch."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from paperfeed.services.paper_markdown import paper_markdown
from paperfeed.web.lookup import merged_address, stored_id
from paperfeed.web.members import site_of
from paperfeed.web.problems import header_text

router = APIRouter(include_in_schema=False)
MARKDOWN = "text/markdown; charset=utf-8"


@router.get("/papers/{paper_id:path}.md")
def paper_as_markdown(request: Request, paper_id: str) -> Response:
    """The paper's facts and abstract as Markdown; a 404 in plain text (with the message in
    ``X-Error-Message``, where the hub's client looks for it) for an unknown id."""
    site = site_of(request)
    with site.engine.connect() as conn:
        if (
            stored_id(conn, paper_id) is None
            and (moved := merged_address(conn, request, paper_id)) is not None
        ):
            return RedirectResponse(moved, status_code=301)
        text = paper_markdown(conn, paper_id, base_url=site.settings.base_url)
    if text is None:
        message = f"no paper {paper_id[:100]!r} here"
        return PlainTextResponse(
            message, status_code=404, headers={"X-Error-Message": header_text(message)}
        )
    return Response(text, media_type=MARKDOWN)
