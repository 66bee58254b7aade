"""Store and read papers' keyphrases (see ``models.PaperKeyphrases``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, select

from paperfeed.models import Paper, PaperKeyphrases, table_of
from paperfeed.store.bulk import chunks, insert_rows, lookup

keyphrases = table_of(PaperKeyphrases)
papers = table_of(Paper)
_REPLACE = (
    "ON CONFLICT (paper_id) DO UPDATE SET phrases = excluded.phrases, "
    "model = excluded.model, computed_at = excluded.computed_at"
)


def save_keyphrases(
    conn: Connection, found: Mapping[str, Sequence[str]], model: str, now: dt.datetime
) -> int:
    """Store (or replace) the keyphrases of papers still in the store; returns how many.

    A paper deleted since it was read is skipped, not an error: its keyphrases would go with it.
    """
    present = lookup(conn, papers.c.id, papers.c.id, list(found))
    rows = [
        (paper_id, "\n".join(phrases), model, now)
        for paper_id, phrases in found.items()
        if paper_id in present
    ]
    columns = ("paper_id", "phrases", "model", "computed_at")
    insert_rows(conn, keyphrases, columns, rows, on_conflict=_REPLACE)
    return len(rows)


def keyphrases_of(conn: Connection, paper_ids: Sequence[str]) -> dict[str, list[str]]:
    """The stored keyphrases of ``paper_ids`` (papers without any are left out)."""
    found: dict[str, list[str]] = {}
    for chunk in chunks(list(paper_ids)):
        query = select(keyphrases.c.paper_id, keyphrases.c.phrases).where(
            keyphrases.c.paper_id.in_(chunk)
        )
        found.update((row.paper_id, split_phrases(row.phrases)) for row in conn.execute(query))
    return found


def split_phrases(stored: str | None) -> list[str]:
    """The phrases of a stored ``phrases`` value."""
    return [line for line in (stored or "").split("\n") if line]
