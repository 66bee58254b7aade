"""Following authors, organizations and categories.

A follow names what the member sees on the site: an author as written on papers, an
organization by its slug, an arXiv category. Only things the store knows can be followed, so a
typo is refused at once rather than silently matching nothing forever.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import Connection, delete, exists, select

from paperfeed.models import Author, Follow, Organization, PaperCategory, table_of
from paperfeed.services.accounts import AccountError, Member
from paperfeed.store.bulk import DO_NOTHING, insert_rows

follows = table_of(Follow)
KINDS = ("author", "organization", "category")
MAX_FOLLOWS = 500


def follow(conn: Connection, member: Member, kind: str, target: str, now: dt.datetime) -> None:
    """Follow ``target``; following twice is the same as once."""
    target = " ".join(target.split())[:500]
    if kind not in KINDS:
        raise AccountError("one follows an author, an organization or a category")
    if not known(conn, kind, target):
        raise AccountError(f"there is no {kind} “{target}” here")
    count = len(following(conn, member.id)[kind])
    if count >= MAX_FOLLOWS:
        raise AccountError(f"you follow {MAX_FOLLOWS} {kind}s already")
    insert_rows(
        conn, follows, ("user_id", "kind", "target", "created_at"),
        [(member.id, kind, target, now)], on_conflict=DO_NOTHING,
    )  # fmt: skip


def unfollow(conn: Connection, member: Member, kind: str, target: str) -> None:
    conn.execute(
        delete(follows).where(
            follows.c.user_id == member.id, follows.c.kind == kind, follows.c.target == target
        )
    )


def following(conn: Connection, user_id: int) -> dict[str, list[str]]:
    """What the member follows, by kind, each list in the order it was followed."""
    found: dict[str, list[str]] = {kind: [] for kind in KINDS}
    rows = conn.execute(
        select(follows.c.kind, follows.c.target)
        .where(follows.c.user_id == user_id)
        .order_by(follows.c.created_at, follows.c.target)
    )
    for kind, target in rows:
        found.setdefault(kind, []).append(target)
    return found


def following_many(conn: Connection, user_ids: list[int]) -> dict[int, dict[str, list[str]]]:
    """:func:`following` for many members in one query (a digest run)."""
    found: dict[int, dict[str, list[str]]] = defaultdict(lambda: {kind: [] for kind in KINDS})
    for start in range(0, len(user_ids), 500):
        rows = conn.execute(
            select(follows.c.user_id, follows.c.kind, follows.c.target)
            .where(follows.c.user_id.in_(user_ids[start : start + 500]))
            .order_by(follows.c.user_id, follows.c.created_at, follows.c.target)
        )
        for user_id, kind, target in rows:
            found[user_id][kind].append(target)
    return dict(found)


def is_following(conn: Connection, member: Member | None, kind: str, target: str) -> bool:
    if member is None:
        return False
    return bool(
        conn.scalar(
            select(
                exists().where(
                    follows.c.user_id == member.id,
                    follows.c.kind == kind,
                    follows.c.target == target,
                )
            )
        )
    )


def known(conn: Connection, kind: str, target: str) -> bool:
    """Whether the store has this author name, organization slug or category."""
    if not target:
        return False
    where = {
        "author": exists().where(Author.name == target),
        "organization": exists().where(Organization.slug == target),
        "category": exists().where(PaperCategory.category == target),
    }[kind]
    return bool(conn.scalar(select(where)))
