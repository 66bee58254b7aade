"""Finding a paper from what is in a URL: an arXiv id in any form, or a ``source:id``."""

from __future__ import annotations

from fastapi import HTTPException
from sqlalchemy import Connection, select

from paperfeed.arxiv_ids import canonical_paper_id
from paperfeed.models import Paper
from paperfeed.paper_urls import paper_segment
from paperfeed.services.cards import Card, load_cards
from paperfeed.store.merges import merged_into


def find_paper_id(conn: Connection, raw: str) -> str | None:
    """The stored paper's id for ``raw`` (following a merge to the paper that absorbed it),
    or None."""
    if len(raw) > 300:
        return None
    wanted = canonical_paper_id(raw)
    return conn.scalar(select(Paper.id).where(Paper.id == wanted)) or merged_into(conn, wanted)


def moved_to(conn: Connection, raw: str) -> str | None:
    """The id of the paper that absorbed the merged paper ``raw`` names, or None."""
    return merged_into(conn, canonical_paper_id(raw)) if len(raw) <= 300 else None


def paper_id_or_404(conn: Connection, raw: str) -> str:
    found = find_paper_id(conn, raw)
    if found is None:
        raise HTTPException(404, f"no paper {raw[:100]!r} here")
    return found


def card_or_404(conn: Connection, raw: str, address: str) -> Card:
    """The card of the paper ``raw`` names, asked for directly (one query, not a lookup first).

    A paper merged into another answers 301 to ``address`` (with ``{}`` for the id) of the
    paper that absorbed it, so old links and API clients follow it."""
    cards = load_cards(conn, [canonical_paper_id(raw)]) if len(raw) <= 300 else []
    if not cards:
        if (new_id := moved_to(conn, raw)) is not None:
            raise HTTPException(
                301, "merged into " + new_id, {"Location": address.format(paper_segment(new_id))}
            )
        raise HTTPException(404, f"no paper {raw[:100]!r} here")
    return cards[0]
