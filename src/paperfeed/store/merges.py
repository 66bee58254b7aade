"""Merging a paper without an arXiv id into the arXiv record of the same paper.

Papers taken from a capture of the public site have no arXiv id (``dailypapers:<slug>``).
When an import or sync brings the arXiv record with the same normalised title, before or after
the other, and nothing both records know disagrees (author count, authors, dates:
:mod:`paperfeed.store.merge_evidence`), the two are one paper: the arXiv record wins field by
field where it has a value (the old paper fills what it lacks), and what members did on
the old paper (votes, comments, featured day, lists, saves, claims, digests sent) moves to it.
The old id then redirects, and a tombstone takes the old paper out of the search indexes.

Everything happens inside the importing transaction, so a merge is all or nothing. Imports
that could merge the same pair take turns: on PostgreSQL each takes its title keys' advisory
locks (:func:`lock_title_keys`) before writing, and the pair's rows are locked ``FOR UPDATE``
before anything moves, so a second import waits and then finds the old paper gone (and a vote
on it waits too, then lands before the move or follows the redirect); on SQLite write
transactions already run one at a time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import (
    Connection,
    Table,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    select,
    text,
    update,
)

from paperfeed.models import (
    AuthorClaim,
    Comment,
    DigestItem,
    Dismissal,
    FeedEntry,
    ListItem,
    Paper,
    PaperAuthor,
    PaperCategory,
    PaperDeletion,
    PaperRedirect,
    SavedPaper,
    Upvote,
    table_of,
)
from paperfeed.sources.record import PaperRecord
from paperfeed.store.bulk import chunks, lookup
from paperfeed.store.merge_evidence import conflict, facts_of

papers = table_of(Paper)
redirects = table_of(PaperRedirect)
deletions = table_of(PaperDeletion)
upvotes = table_of(Upvote)
feed_entries = table_of(FeedEntry)

# Rows that move to the new paper unless the new paper has one for the same member, list or
# subscription already (then the old one goes with the old paper): (table, the other key).
_ONE_PER_PAPER: tuple[tuple[Table, str | None], ...] = (
    (upvotes, "user_id"),
    (table_of(SavedPaper), "user_id"),
    (table_of(Dismissal), "user_id"),
    (table_of(ListItem), "list_id"),
    (table_of(DigestItem), "subscription_id"),
    (feed_entries, None),  # a paper is featured on one day at most: the arXiv record's stays
)
comments = table_of(Comment)
_MANY_PER_PAPER: tuple[Table, ...] = (comments, table_of(AuthorClaim))
# What the arXiv record lacks is kept from the old paper (a capture's abstract or code link is
# still true): the arXiv record wins field by field, only where it has a value.
_FILLED_FROM_OLD = (
    "abstract", "doi", "journal_ref", "comments", "primary_category", "code_url", "project_url",
    "organization_id",
)  # fmt: skip
paper_authors = table_of(PaperAuthor)
paper_categories = table_of(PaperCategory)
KEY_BUCKETS = 32
_LOCK_SPACE = 19_0019  # the advisory-lock namespace of title keys (pg_advisory_xact_lock(int, int))


def without_merged(
    conn: Connection, records: Sequence[PaperRecord]
) -> tuple[list[PaperRecord], int]:
    """``records`` less those of papers already merged into an arXiv record (re-importing a
    capture must not bring the old paper back), and how many were left out."""
    others = [r.id for r in records if ":" in r.id]
    if not others:
        return list(records), 0
    merged = lookup(conn, redirects.c.old_id, redirects.c.new_id, others)
    kept = [r for r in records if r.id not in merged]
    return kept, len(records) - len(kept)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A paper without an arXiv id left apart from the arXiv paper with its title, and why."""

    old_id: str
    arxiv_id: str
    reason: str


@dataclass(slots=True)
class Merges:
    """What an import's merging did: the ``(old id, new id)`` pairs merged, and the pairs with
    one title that the evidence kept apart."""

    merged: list[tuple[str, str]] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def merge_same_titles(
    conn: Connection, written: Sequence[PaperRecord], keys: dict[str, str], now: dt.datetime
) -> Merges:
    """Merge the stored papers without an arXiv id into the arXiv paper that has their title,
    wherever ``written`` (the records this import just wrote, of either kind; ``keys`` holds
    their title keys by id) brought one side of such a pair, unless what both records know disagrees
    (:mod:`paperfeed.store.merge_evidence`).

    A title that more than one arXiv paper has is ambiguous and merges nothing."""
    written_ids = {record.id for record in written}
    done = Merges()
    for key in _keys_of_both_kinds(conn, sorted({keys[i] for i in written_ids if i in keys})):
        rows = _locked_rows(conn, key)
        arxiv = [paper_id for paper_id in rows if ":" not in paper_id]
        for old_id in rows:
            if ":" not in old_id or not written_ids & {old_id, *arxiv}:
                continue
            if len(arxiv) > 1:
                shared = f"{len(arxiv)} arXiv papers have this title"
                done.refused.append(Refusal(old_id, ", ".join(arxiv), shared))
            elif (why := conflict(facts_of(conn, old_id), facts_of(conn, arxiv[0]))) is not None:
                done.refused.append(Refusal(old_id, arxiv[0], why))
            else:
                merge_paper(conn, old_id, arxiv[0], now)
                done.merged.append((old_id, arxiv[0]))
    return done


def lock_title_keys(conn: Connection, keys: Iterable[str]) -> None:
    """On PostgreSQL, take (until the transaction ends) the advisory locks of an import's
    title ``keys``, before it writes anything.

    Two imports that bring the two sides of one pair at once then take turns: without this,
    each wrote its own row, locked it, and waited for the other's (a deadlock), or neither
    saw the other's uncommitted row and the pair stayed apart. Keys fall into
    :data:`KEY_BUCKETS` buckets, locked in order, so a batch holds at most that many locks."""
    if conn.dialect.name != "postgresql":
        return  # SQLite's writers already take turns
    buckets = sorted({int(key, 16) % KEY_BUCKETS for key in keys})
    for bucket in buckets:
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:space, :bucket)"),
            {"space": _LOCK_SPACE, "bucket": bucket},
        )


def _keys_of_both_kinds(conn: Connection, keys: list[str]) -> list[str]:
    """The ``keys`` that a stored arXiv paper and a stored paper without an arXiv id share."""
    other = case((papers.c.id.contains(":"), 1), else_=0)
    found: list[str] = []
    for chunk in chunks(keys):
        query = (
            select(papers.c.title_key)
            .where(papers.c.title_key.in_(chunk))
            .group_by(papers.c.title_key)
            .having(func.sum(other) > 0, func.sum(1 - other) > 0)
        )
        found.extend(conn.scalars(query))
    return sorted(found)


def _locked_rows(conn: Connection, key: str) -> list[str]:
    """Ids of the stored papers with title ``key``, locked for the merge (PostgreSQL only;
    SQLite's writers already take turns)."""
    query = (
        select(papers.c.id).where(papers.c.title_key == key).order_by(papers.c.id).with_for_update()
    )
    return list(conn.scalars(query))


def merge_paper(conn: Connection, old_id: str, new_id: str, now: dt.datetime) -> None:
    """Move everything members did on ``old_id`` to ``new_id``, then delete ``old_id`` leaving
    a redirect and a tombstone (the search index drops it on its next update)."""
    old = conn.execute(select(papers).where(papers.c.id == old_id)).one()
    recorded = _recorded_counts(conn, old_id, new_id)
    for table, key in _ONE_PER_PAPER:
        _move_one_per_paper(conn, table, key, old_id, new_id)
    for table in _MANY_PER_PAPER:
        conn.execute(update(table).where(table.c.paper_id == old_id).values(paper_id=new_id))
    _recount(conn, new_id, recorded)
    filled = _fill_links(conn, new_id, {name: getattr(old, name) for name in _FILLED_FROM_OLD})
    filled |= _keep_authors(conn, old_id, new_id, old.num_authors)
    if filled:  # the paper's text changed: move it on the change cursor, to be indexed again
        conn.execute(update(papers).where(papers.c.id == new_id).values(updated_at=now))
    conn.execute(update(redirects).where(redirects.c.new_id == old_id).values(new_id=new_id))
    conn.execute(insert(redirects).values(old_id=old_id, new_id=new_id, merged_at=now))
    conn.execute(delete(papers).where(papers.c.id == old_id))
    conn.execute(delete(deletions).where(deletions.c.paper_id == old_id))
    conn.execute(insert(deletions).values(paper_id=old_id, deleted_at=now))


def _member_counts(conn: Connection, paper_id: str) -> tuple[int, int]:
    """Votes and (not deleted) comments members made here on ``paper_id``."""
    voted = conn.scalar(select(func.count()).where(upvotes.c.paper_id == paper_id))
    said = conn.scalar(
        select(func.count()).where(comments.c.paper_id == paper_id, comments.c.deleted_at.is_(None))
    )
    return int(voted or 0), int(said or 0)


def _recorded_counts(conn: Connection, old_id: str, new_id: str) -> tuple[int, int]:
    """The upvotes and comments another site counted (what the counters hold beyond members'
    own), for each counter the arXiv paper's own when it has one, else the old paper's.

    Never the sum (both are one site's count of one paper: its readers would count twice),
    and never the larger: a record that merges must not raise a count its arXiv paper already
    has from a source (a crafted ``source:id`` line with the title and 999,999 upvotes would
    take the paper over). The old paper's count only fills a counter the arXiv paper lacks."""
    found: list[tuple[int, int]] = []
    for paper_id in (old_id, new_id):
        shown = conn.execute(
            select(papers.c.upvotes, papers.c.num_comments).where(papers.c.id == paper_id)
        ).one()
        voted, said = _member_counts(conn, paper_id)
        found.append((max(shown.upvotes - voted, 0), max(shown.num_comments - said, 0)))
    (old_votes, old_said), (own_votes, own_said) = found
    return own_votes or old_votes, own_said or old_said


def _recount(conn: Connection, paper_id: str, recorded: tuple[int, int]) -> None:
    """The merged paper's counters: the recorded counts plus its members' votes (one per
    member) and comments, now that all of them are on it. The paper's row is already locked
    by this import's write, so a vote cannot slip in between the count and the update."""
    voted, said = _member_counts(conn, paper_id)
    conn.execute(
        update(papers)
        .where(papers.c.id == paper_id)
        .values(upvotes=recorded[0] + voted, num_comments=recorded[1] + said)
    )


def _move_one_per_paper(
    conn: Connection, table: Table, key: str | None, old_id: str, new_id: str
) -> None:
    """Re-point ``old_id``'s rows at ``new_id`` where that makes no duplicate; drop the rest."""
    twin = table.alias("twin")
    same = twin.c.paper_id == new_id
    if key is not None:
        same = and_(same, twin.c[key] == table.c[key])
    conn.execute(
        update(table)
        .where(table.c.paper_id == old_id, ~exists().where(same))
        .values(paper_id=new_id)
    )
    conn.execute(delete(table).where(table.c.paper_id == old_id))


def _fill_links(conn: Connection, paper_id: str, old_values: dict[str, object]) -> bool:
    """Give ``paper_id`` the old paper's value of each field it has none of (None, or an empty
    abstract); whether any was given."""
    filled = False
    for name, value in old_values.items():
        if value is not None and value != "":
            column = papers.c[name]
            empty = column == "" if name == "abstract" else column.is_(None)
            done = conn.execute(
                update(papers).where(papers.c.id == paper_id, empty).values({name: value})
            )
            filled |= done.rowcount > 0
    return filled


def _keep_authors(conn: Connection, old_id: str, new_id: str, num_authors: int | None) -> bool:
    """Move the old paper's authors and categories to ``new_id`` if it has none (and its author
    count, when the old paper had only a count); whether the authors changed."""
    moved = False
    for table in (paper_authors, paper_categories):
        if conn.scalar(select(func.count()).where(table.c.paper_id == new_id)) == 0:
            done = conn.execute(
                update(table).where(table.c.paper_id == old_id).values(paper_id=new_id)
            )
            moved |= table is paper_authors and done.rowcount > 0
    if num_authors is not None and not moved:
        named = conn.scalar(select(func.count()).where(paper_authors.c.paper_id == new_id))
        if not named:
            done = conn.execute(
                update(papers)
                .where(papers.c.id == new_id, papers.c.num_authors.is_(None))
                .values(num_authors=num_authors)
            )
            moved |= done.rowcount > 0
    return moved


def lock_paper(conn: Connection, paper_id: str) -> str | None:
    """The id of the paper a member's vote or comment on ``paper_id`` goes to, its row locked
    until the transaction ends (``FOR UPDATE`` on PostgreSQL; SQLite's writers take turns
    already); None if there is no such paper.

    A paper being merged is locked by the merge: this waits for it, then finds the row gone
    and follows the redirect the merge left, so the vote lands on the arXiv paper instead of
    failing on the missing paper's foreign key. A vote that takes the lock first lands on the
    old paper, and the merge (waiting on the same lock) moves it."""
    for _ in range(3):  # (a redirect points at a paper that is not merged: one step suffices)
        query = select(papers.c.id).where(papers.c.id == paper_id).with_for_update()
        found: str | None = conn.scalar(query)
        if found is not None:
            return found
        moved = merged_into(conn, paper_id)
        if moved is None:
            return None
        paper_id = moved
    return None


def merged_into(conn: Connection, paper_id: str) -> str | None:
    """The paper that ``paper_id`` was merged into, or None (for redirects)."""
    return conn.scalar(select(redirects.c.new_id).where(redirects.c.old_id == paper_id))
