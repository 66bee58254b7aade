"""Finding a paper from what is in a URL: an arXiv id in any form, or a ``source:id``; and
where a merged paper's addresses went."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import HTTPException, Request
from sqlalchemy import Connection, select

from paperfeed.arxiv_ids import canonical_paper_id
from paperfeed.models import Paper
from paperfeed.paper_urls import paper_segment
from paperfeed.services.cards import Card, load_cards
from paperfeed.store.merges import merged_into

MAX_ID = 300  # longer is no id of ours (and not worth a query)
_PAPERS = "/papers/"
_SUFFIX_SEGMENTS = 3  # the id, or it and up to two segments after it: a few queries at most


def find_paper_id(conn: Connection, raw: str) -> str | None:
    """The stored paper's id for ``raw`` (following a merge to the paper that absorbed it),
    or None. For the write routes: a vote or comment sent to the old id lands on the paper."""
    if len(raw) > MAX_ID:
        return None
    wanted = canonical_paper_id(raw)
    return conn.scalar(select(Paper.id).where(Paper.id == wanted)) or merged_into(conn, wanted)


def stored_id(conn: Connection, raw: str) -> str | None:
    """The stored paper's id for ``raw`` (not following merges), or None."""
    if len(raw) > MAX_ID:
        return None
    return conn.scalar(select(Paper.id).where(Paper.id == canonical_paper_id(raw)))


def merged_address(
    conn: Connection, request: Request, raw: str, suffixes: bool = True
) -> str | None:
    """Where a read of a merged paper's route goes: the same route of the paper that absorbed
    it, with what followed the id in the path (``.md``, ``/similar``, ``/export.bib``) and the
    query string kept; None when ``raw`` names no merged paper.

    ``raw`` is the route's id parameter. When the route took more than the id (the page route
    takes ``<id>/similar`` whole), the longest part of it before a ``/`` that is a merged id
    is the id (trying the whole and then up to two segments fewer: a path of many segments
    costs no more queries). A route whose own address takes nothing after the id (the page,
    which takes ``<id>/similar`` or ``<id>/upvote`` whole as an id no paper has) passes
    ``suffixes=False``: a redirect there would only answer 404 or 405."""
    path: str = request.scope["path"]  # decoded: an id holding "?" or "#" is still whole here
    start = path.find(_PAPERS) + len(_PAPERS)
    if start < len(_PAPERS) or not path[start:].startswith(raw) or len(raw) > MAX_ID:
        return None
    parts = raw.split("/")
    for end in range(len(parts), max(len(parts) - _SUFFIX_SEGMENTS, 0), -1):
        old = "/".join(parts[:end])
        if ":" not in old:  # only a source:id is ever merged (arXiv papers absorb, never go)
            break
        new_id = merged_into(conn, canonical_paper_id(old))
        if new_id is not None:
            rest = path[start + len(old) :]
            if rest and not suffixes:
                return None  # the page route's "<id>/upvote": no page of the new paper either
            query = request.scope.get("query_string", b"").decode("latin-1")
            address = quote(path[:start]) + paper_segment(new_id) + quote(rest)
            return address + ("?" + query if query else "")
    return None


def redirect_if_merged(conn: Connection, request: Request, raw: str) -> None:
    """Raise the 301 to :func:`merged_address` when ``raw`` names a merged paper."""
    if (address := merged_address(conn, request, raw)) is not None:
        raise HTTPException(301, "merged into another paper", {"Location": address})


def paper_id_or_404(conn: Connection, raw: str) -> str:
    found = find_paper_id(conn, raw)
    if found is None:
        raise HTTPException(404, f"no paper {raw[:100]!r} here")
    return found


def stored_id_or_404(conn: Connection, request: Request, raw: str) -> str:
    """The stored paper's id for a read route; a merged paper's answers 301 to its new
    address (:func:`merged_address`)."""
    found = stored_id(conn, raw)
    if found is None:
        redirect_if_merged(conn, request, raw)
        raise HTTPException(404, f"no paper {raw[:100]!r} here")
    return found


def card_or_404(conn: Connection, request: Request, raw: str) -> Card:
    """The card of the paper ``raw`` names, asked for directly (one query, not a lookup first).

    A paper merged into another answers 301 to the same route of the paper that absorbed it
    (:func:`merged_address`), so old links and API clients follow it."""
    cards = load_cards(conn, [canonical_paper_id(raw)]) if len(raw) <= MAX_ID else []
    if not cards:
        redirect_if_merged(conn, request, raw)
        raise HTTPException(404, f"no paper {raw[:100]!r} here")
    return cards[0]
