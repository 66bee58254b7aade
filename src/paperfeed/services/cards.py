"""Papers as the site, the API and the feeds show them: one :class:`Card` per paper, with its
authors, organization, counters and, when it was featured, the day and the submitter.

Cards are loaded for a page of papers at a time with a fixed number of queries (papers with
their feed entry and organization, then their authors, then their categories), whatever the
page size: the feed, search results and similar papers all cost the same three queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Row, Select, select

from paperfeed.models import (
    Author,
    FeedEntry,
    Organization,
    Paper,
    PaperAuthor,
    PaperCategory,
)


@dataclass(slots=True)
class Card:
    id: str
    title: str
    abstract: str
    published: dt.date | None
    upvotes: int
    num_comments: int
    code_url: str | None = None
    project_url: str | None = None
    abs_url: str | None = None
    pdf_url: str | None = None
    doi: str | None = None
    journal_ref: str | None = None
    comments: str | None = None
    version: int | None = None
    updated: dt.date | None = None
    organization: str | None = None
    organization_slug: str | None = None
    day: dt.date | None = None  # featured on
    submitter: str | None = None
    submitter_name: str | None = None
    submitted_at: dt.datetime | None = None
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    affiliations: dict[str, str] = field(default_factory=dict)  # author name → affiliation
    hidden: bool = False  # taken off the feed by a moderator

    @property
    def is_arxiv(self) -> bool:
        return ":" not in self.id

    @property
    def arxiv_abs(self) -> str | None:
        return self.abs_url or (f"https://arxiv.org/abs/{self.id}" if self.is_arxiv else None)

    @property
    def arxiv_pdf(self) -> str | None:
        return self.pdf_url or (f"https://arxiv.org/pdf/{self.id}" if self.is_arxiv else None)

    @property
    def shown_date(self) -> dt.date | None:
        return self.day or self.published


def card_query() -> Select[Any]:
    """Papers with their feed entry and organization (both optional), one flat row each."""
    columns: tuple[Any, ...] = (
        Paper.id, Paper.title, Paper.abstract, Paper.published, Paper.upvotes,
        Paper.num_comments, Paper.code_url, Paper.project_url, Paper.abs_url,
        Paper.pdf_url, Paper.doi, Paper.journal_ref, Paper.comments, Paper.version,
        Paper.updated,
        Organization.name.label("organization"),
        Organization.slug.label("organization_slug"),
        FeedEntry.day, FeedEntry.submitter, FeedEntry.submitter_name,
        FeedEntry.submitted_at, FeedEntry.hidden,
    )  # fmt: skip
    return (
        select(*columns)
        .outerjoin(FeedEntry, FeedEntry.paper_id == Paper.id)
        .outerjoin(Organization, Organization.id == Paper.organization_id)
    )


def load_cards(conn: Connection, paper_ids: Sequence[str]) -> list[Card]:
    """Cards of ``paper_ids`` in that order; ids not in the store are left out."""
    if not paper_ids:
        return []
    rows = conn.execute(card_query().where(Paper.id.in_(list(paper_ids)))).all()
    by_id = {card.id: card for card in cards_from_rows(conn, rows)}
    return [by_id[paper_id] for paper_id in paper_ids if paper_id in by_id]


def cards_from_rows(conn: Connection, rows: Sequence[Row[Any]]) -> list[Card]:
    """Cards from rows of :func:`card_query` (in their order), authors and categories added."""
    cards = [_card(row) for row in rows]
    ids = [card.id for card in cards]
    if not ids:
        return []
    authors: dict[str, list[str]] = {}
    affiliations: dict[str, dict[str, str]] = {}
    for paper_id, name, affiliation in conn.execute(
        select(PaperAuthor.paper_id, Author.name, PaperAuthor.affiliation)
        .join(Author, Author.id == PaperAuthor.author_id)
        .where(PaperAuthor.paper_id.in_(ids))
        .order_by(PaperAuthor.paper_id, PaperAuthor.position)
    ):
        authors.setdefault(paper_id, []).append(name)
        if affiliation:
            affiliations.setdefault(paper_id, {})[name] = affiliation
    categories: dict[str, list[str]] = {}
    for paper_id, category in conn.execute(
        select(PaperCategory.paper_id, PaperCategory.category).where(
            PaperCategory.paper_id.in_(ids)
        )
    ):
        categories.setdefault(paper_id, []).append(category)
    for card in cards:
        card.authors = authors.get(card.id, [])
        card.categories = categories.get(card.id, [])
        card.affiliations = affiliations.get(card.id, {})
    return cards


def _card(row: Row[Any]) -> Card:
    values = row._asdict()
    if values.pop("hidden", False):  # hidden from the feed by a moderator: not shown as featured
        values.update(day=None, submitter=None, submitter_name=None, submitted_at=None)
        values["hidden"] = True
    values["abstract"] = values["abstract"] or ""
    return Card(**values)
