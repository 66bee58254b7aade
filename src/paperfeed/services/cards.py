"""Papers as the site, the API and the feeds show them: one :class:`Card` per paper, with its
authors, organization, counters and, when it was featured, the day and the submitter.

Cards are loaded for a page of papers at a time with a fixed number of queries (papers with
their feed entry and organization, then their authors, then their categories), whatever the
page size: the feed, search results and similar papers all cost the same three queries.

Authors and categories change only when an import changes the paper, and an import that does
moves the paper's ``updated_at`` in the same transaction. So each process keeps them for the
papers it showed lately, stamped with that ``updated_at``, which the first query reads anyway:
a page of papers seen before costs one query, and a changed paper is read afresh at once, on
every node. Counters, titles and feed entries always come from that first query.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import (
    Connection,
    Engine,
    Executable,
    Row,
    Select,
    bindparam,
    null,
    select,
    union_all,
)

from paperfeed import wording
from paperfeed.models import (
    Author,
    FeedEntry,
    Organization,
    Paper,
    PaperAuthor,
    PaperCategory,
    PaperKeyphrases,
)
from paperfeed.store.keyphrases import split_phrases


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
    organization_handle: str | None = None  # a source's short name for it, e.g. "caltech"
    day: dt.date | None = None  # featured on
    submitter: str | None = None
    submitter_name: str | None = None
    submitted_at: dt.datetime | None = None
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    affiliations: dict[str, str] = field(default_factory=dict)  # author name → affiliation
    #: Authors the source lists but hides: only the compatible API sends them (flagged).
    hidden_authors: list[str] = field(default_factory=list)
    hidden: bool = False  # taken off the feed by a moderator
    keyphrases: list[str] = field(default_factory=list)  # most relevant first
    #: Authors a source counted without naming them (a captured listing's "4 authors").
    num_authors: int | None = None
    #: A date as a source showed it, when it was not a full date ("Apr 8", no year).
    date_shown: str | None = None

    @property
    def is_arxiv(self) -> bool:
        """Only arXiv ids lack the ``source:`` prefix every other source's ids have."""
        return ":" not in self.id

    @property
    def arxiv_abs(self) -> str | None:
        """The arXiv abstract page; None for a paper without an arXiv id, whatever its links."""
        if not self.is_arxiv:
            return None
        return self.abs_url or f"https://arxiv.org/abs/{self.id}"

    @property
    def arxiv_pdf(self) -> str | None:
        if not self.is_arxiv:
            return None
        return self.pdf_url or f"https://arxiv.org/pdf/{self.id}"

    @property
    def source_url(self) -> str | None:
        """The page a paper without an arXiv id came from, if its source gave one."""
        return None if self.is_arxiv else self.abs_url

    @property
    def author_count(self) -> int:
        """Authors named, or else the number a source counted without names."""
        return len(self.authors) or self.num_authors or 0

    @property
    def shown_date(self) -> dt.date | None:
        return self.day or self.published

    @property
    def authors_line(self) -> str:
        """How every card names the authors: see :func:`authors_line`."""
        if not self.authors and self.num_authors:
            return wording.count(self.num_authors, "author")
        return authors_line(self.authors)


SHOWN_AUTHORS = 3
SHOWN_NAME = 80  # characters of one name on a card (a real record has a 512-character one)


def authors_line(authors: Sequence[str]) -> str:
    """ "A, B, C" for up to three authors, "N authors" for more (as the public site shows),
    the same on every page, feed and mail; an over-long name is cut here, where it is shown."""
    if len(authors) > SHOWN_AUTHORS:
        return wording.count(len(authors), "author")
    return ", ".join(
        name if len(name) <= SHOWN_NAME else name[: SHOWN_NAME - 1].rstrip() + "…"
        for name in authors
    )


def card_query() -> Select[Any]:
    """Papers with their feed entry and organization (both optional), one flat row each."""
    columns: tuple[Any, ...] = (
        Paper.id, Paper.title, Paper.abstract, Paper.published, Paper.upvotes,
        Paper.num_comments, Paper.code_url, Paper.project_url, Paper.abs_url,
        Paper.pdf_url, Paper.doi, Paper.journal_ref, Paper.comments, Paper.version,
        Paper.updated,
        Organization.name.label("organization"),
        Organization.slug.label("organization_slug"),
        Organization.handle.label("organization_handle"),
        FeedEntry.day, FeedEntry.submitter, FeedEntry.submitter_name,
        FeedEntry.submitted_at, FeedEntry.hidden, Paper.updated_at.label("changed_at"),
        PaperKeyphrases.phrases.label("keyphrases"), Paper.num_authors, Paper.date_shown,
    )  # fmt: skip
    return (
        select(*columns)
        .outerjoin(FeedEntry, FeedEntry.paper_id == Paper.id)
        .outerjoin(Organization, Organization.id == Paper.organization_id)
        .outerjoin(PaperKeyphrases, PaperKeyphrases.paper_id == Paper.id)
    )


# Built once: building a statement costs more Python than running a cached one.
_BY_IDS = card_query().where(Paper.id.in_(bindparam("ids", expanding=True)))
# Authors (in order, with affiliations) and categories of the papers ``ids``, in one round trip:
# a category row has no position, an author row no category.
_LINKS: Executable = union_all(
    select(
        PaperAuthor.paper_id, PaperAuthor.position, Author.name, PaperAuthor.affiliation,
        PaperAuthor.hidden, null().label("category"),
    )
    .join(Author, Author.id == PaperAuthor.author_id)
    .where(PaperAuthor.paper_id.in_(bindparam("ids", expanding=True))),
    select(
        PaperCategory.paper_id, null(), null(), null(), null(), PaperCategory.category
    ).where(PaperCategory.paper_id.in_(bindparam("ids", expanding=True))),
).order_by("paper_id", "position", "category")  # fmt: skip
CACHED_PAPERS = 50_000  # papers whose authors and categories a process keeps (about 1 KB each)


def load_cards(conn: Connection, paper_ids: Sequence[str]) -> list[Card]:
    """Cards of ``paper_ids`` in that order; ids not in the store are left out."""
    if not paper_ids:
        return []
    rows = conn.execute(_BY_IDS, {"ids": list(paper_ids)}).all()
    by_id = {card.id: card for card in cards_from_rows(conn, rows)}
    return [by_id[paper_id] for paper_id in paper_ids if paper_id in by_id]


def cards_from_rows(conn: Connection, rows: Sequence[Row[Any]]) -> list[Card]:
    """Cards from rows of :func:`card_query` (in their order), authors and categories added."""
    if not rows:
        return []
    cache = _link_cache(conn.engine)
    found: dict[str, _Links] = {}
    missing: list[str] = []
    for row in rows:
        links = cache.get(row.id, row.changed_at)
        if links is None:
            missing.append(row.id)
        else:
            found[row.id] = links
    if missing:
        read = _read_links(conn, missing, {row.id: row.changed_at for row in rows})
        cache.put(read)
        found.update(read)
    cards = [_card(row) for row in rows]
    for card in cards:
        links = found[card.id]
        card.authors = list(links.authors)
        card.categories = list(links.categories)
        card.affiliations = dict(links.affiliations)
        card.hidden_authors = list(links.hidden_authors)
    return cards


class _Links(NamedTuple):
    """A paper's authors (with affiliations) and categories, as of ``changed_at``.

    Its fields are tuples of strings, which CPython stops tracking for garbage collection: a
    kept paper is one object for a collection to visit, not five (lists, dicts)."""

    changed_at: object  # the paper's updated_at, as the database returns it
    authors: tuple[str, ...]
    affiliations: tuple[tuple[str, str], ...]  # (author, affiliation)
    categories: tuple[str, ...]
    hidden_authors: tuple[str, ...] = ()


class _LinkCache:
    """The most recently shown papers' :class:`_Links`, the least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[str, _Links] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, paper_id: str, changed_at: object) -> _Links | None:
        with self._lock:
            links = self._entries.get(paper_id)
            if links is None or links.changed_at != changed_at:
                return None
            self._entries.move_to_end(paper_id)
            return links

    def put(self, links: dict[str, _Links]) -> None:
        with self._lock:
            self._entries.update(links)
            for paper_id in links:
                self._entries.move_to_end(paper_id)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


# One cache per store (tests and tools open several stores in one process).
_CACHES: weakref.WeakKeyDictionary[Engine, _LinkCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def _link_cache(engine: Engine) -> _LinkCache:
    with _CACHES_LOCK:
        cache = _CACHES.get(engine)
        if cache is None:
            cache = _CACHES[engine] = _LinkCache(CACHED_PAPERS)
        return cache


def _read_links(
    conn: Connection, paper_ids: list[str], changed_at: dict[str, object]
) -> dict[str, _Links]:
    authors: dict[str, list[str]] = {}
    hidden_authors: dict[str, list[str]] = {}
    affiliations: dict[str, dict[str, str]] = {}
    categories: dict[str, list[str]] = {}
    rows = conn.execute(_LINKS, {"ids": paper_ids})
    for paper_id, _, name, affiliation, hidden, category in rows:
        if category is not None:
            categories.setdefault(paper_id, []).append(category)
            continue
        (hidden_authors if hidden else authors).setdefault(paper_id, []).append(name)
        if affiliation:
            affiliations.setdefault(paper_id, {})[name] = affiliation
    return {
        paper_id: _Links(
            changed_at[paper_id],
            tuple(authors.get(paper_id, ())),
            tuple(affiliations.get(paper_id, {}).items()),
            tuple(categories.get(paper_id, ())),
            tuple(hidden_authors.get(paper_id, ())),
        )
        for paper_id in paper_ids
    }


def _card(row: Row[Any]) -> Card:
    values = row._asdict()
    del values["changed_at"]
    if values.pop("hidden", False):  # hidden from the feed by a moderator: not shown as featured
        values.update(day=None, submitter=None, submitter_name=None, submitted_at=None)
        values["hidden"] = True
    values["abstract"] = values["abstract"] or ""
    values["keyphrases"] = split_phrases(values["keyphrases"])
    return Card(**values)
