"""A member's library: saved papers and reading lists.

Lists are addressed by an unguessable token, never by their number, so an unlisted list's link
is its only key; a private list is answered as "not found" to anyone but its owner (a 403
would tell a stranger that the list exists).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, delete, func, select, update

from paperfeed.models import ListItem, ReadingList, SavedPaper, User, table_of
from paperfeed.services.accounts import AccountError, Member
from paperfeed.store.bulk import DO_NOTHING, insert_rows

saved = table_of(SavedPaper)
lists = table_of(ReadingList)
items = table_of(ListItem)
VISIBILITIES = ("private", "unlisted", "public")
MAX_LISTS = 200
MAX_ITEMS = 5_000
MAX_NOTE = 2_000


@dataclass(frozen=True, slots=True)
class ListInfo:
    id: int
    token: str
    owner_id: int
    owner_handle: str
    owner_name: str
    name: str
    description: str
    visibility: str
    updated_at: dt.datetime
    size: int


@dataclass(frozen=True, slots=True)
class Entry:
    paper_id: str
    position: int
    note: str


def save(conn: Connection, member: Member, paper_id: str, now: dt.datetime) -> None:
    insert_rows(conn, saved, ("user_id", "paper_id", "created_at"), [(member.id, paper_id, now)],
                on_conflict=DO_NOTHING)  # fmt: skip


def unsave(conn: Connection, member: Member, paper_id: str) -> None:
    conn.execute(delete(saved).where(saved.c.user_id == member.id, saved.c.paper_id == paper_id))


def saved_ids(conn: Connection, user_id: int, limit: int = 1_000) -> list[str]:
    """The member's saved papers, the latest first."""
    return list(
        conn.scalars(
            select(saved.c.paper_id)
            .where(saved.c.user_id == user_id)
            .order_by(saved.c.created_at.desc(), saved.c.paper_id)
            .limit(limit)
        )
    )


def saved_among(conn: Connection, user_id: int, paper_ids: list[str]) -> set[str]:
    """Which of ``paper_ids`` the member saved (to draw the buttons on cards)."""
    if not paper_ids:
        return set()
    return set(
        conn.scalars(
            select(saved.c.paper_id).where(
                saved.c.user_id == user_id, saved.c.paper_id.in_(paper_ids)
            )
        )
    )


def create_list(
    conn: Connection, member: Member, name: str, visibility: str, now: dt.datetime,
    description: str = "",
) -> str:  # fmt: skip
    """A new list; returns its token."""
    name = " ".join(name.split())[:200]
    if not name:
        raise AccountError("a list needs a name")
    if visibility not in VISIBILITIES:
        raise AccountError("a list is private, unlisted or public")
    count = conn.scalar(select(func.count()).select_from(lists).where(lists.c.user_id == member.id))
    if (count or 0) >= MAX_LISTS:
        raise AccountError(f"you have {MAX_LISTS} lists already")
    token = secrets.token_urlsafe(12)
    conn.execute(
        lists.insert().values(
            token=token, user_id=member.id, name=name, description=description.strip()[:2000],
            visibility=visibility, created_at=now, updated_at=now,
        )
    )  # fmt: skip
    return token


def edit_list(
    conn: Connection, info: ListInfo, name: str, visibility: str, description: str,
    now: dt.datetime,
) -> None:  # fmt: skip
    name = " ".join(name.split())[:200]
    if not name:
        raise AccountError("a list needs a name")
    if visibility not in VISIBILITIES:
        raise AccountError("a list is private, unlisted or public")
    conn.execute(
        update(lists).where(lists.c.id == info.id).values(
            name=name, visibility=visibility, description=description.strip()[:2000], updated_at=now
        )
    )  # fmt: skip


def delete_list(conn: Connection, info: ListInfo) -> None:
    conn.execute(delete(items).where(items.c.list_id == info.id))
    conn.execute(delete(lists).where(lists.c.id == info.id))


def find_list(conn: Connection, token: str, viewer: Member | None) -> ListInfo | None:
    """The list with ``token`` if ``viewer`` may see it: its owner always, anyone for unlisted
    and public lists; None otherwise (answered as not found), and for every list of a
    suspended member (as their profile is)."""
    row = conn.execute(
        _info_query().where(lists.c.token == token[:40], User.suspended_at.is_(None))
    ).first()
    if row is None:
        return None
    info = ListInfo(*row)
    if info.visibility == "private" and (viewer is None or viewer.id != info.owner_id):
        return None
    return info


def own_list(conn: Connection, token: str, member: Member) -> ListInfo | None:
    info = find_list(conn, token, member)
    return info if info is not None and info.owner_id == member.id else None


def lists_of(conn: Connection, user_id: int, public_only: bool = False) -> list[ListInfo]:
    query = _info_query().where(lists.c.user_id == user_id)
    if public_only:
        query = query.where(lists.c.visibility == "public")
    return [ListInfo(*row) for row in conn.execute(query.order_by(lists.c.updated_at.desc()))]


def entries(conn: Connection, info: ListInfo) -> list[Entry]:
    rows = conn.execute(
        select(items.c.paper_id, items.c.position, items.c.note)
        .where(items.c.list_id == info.id)
        .order_by(items.c.position, items.c.added_at)
    )
    return [Entry(*row) for row in rows]


def add(conn: Connection, info: ListInfo, paper_id: str, now: dt.datetime, note: str = "") -> bool:
    """Append the paper (False if it is in the list already)."""
    if info.size >= MAX_ITEMS:
        raise AccountError(f"a list holds at most {MAX_ITEMS} papers")
    last = conn.scalar(select(func.max(items.c.position)).where(items.c.list_id == info.id))
    dialect_insert = insert_rows
    before = conn.scalar(
        select(func.count())
        .select_from(items)
        .where(items.c.list_id == info.id, items.c.paper_id == paper_id)
    )
    if before:
        return False
    dialect_insert(
        conn, items, ("list_id", "paper_id", "position", "note", "added_at"),
        [(info.id, paper_id, (last or 0) + 1, note.strip()[:MAX_NOTE], now)], on_conflict=DO_NOTHING,
    )  # fmt: skip
    _touch(conn, info, now)
    return True


def remove(conn: Connection, info: ListInfo, paper_id: str, now: dt.datetime) -> None:
    conn.execute(delete(items).where(items.c.list_id == info.id, items.c.paper_id == paper_id))
    _touch(conn, info, now)


def set_note(conn: Connection, info: ListInfo, paper_id: str, note: str, now: dt.datetime) -> None:
    conn.execute(
        update(items)
        .where(items.c.list_id == info.id, items.c.paper_id == paper_id)
        .values(note=note.strip()[:MAX_NOTE])
    )
    _touch(conn, info, now)


def move(conn: Connection, info: ListInfo, paper_id: str, offset: int, now: dt.datetime) -> None:
    """Move the paper ``offset`` places (negative: up), renumbering the list 1..n."""
    order = [entry.paper_id for entry in entries(conn, info)]
    if paper_id not in order:
        return
    start = order.index(paper_id)
    order.insert(max(0, min(len(order) - 1, start + offset)), order.pop(start))
    for position, moved in enumerate(order, start=1):
        conn.execute(
            update(items)
            .where(items.c.list_id == info.id, items.c.paper_id == moved)
            .values(position=position)
        )
    _touch(conn, info, now)


def _touch(conn: Connection, info: ListInfo, now: dt.datetime) -> None:
    conn.execute(update(lists).where(lists.c.id == info.id).values(updated_at=now))


def _info_query() -> Select[Any]:
    size = (
        select(func.count())
        .select_from(items)
        .where(items.c.list_id == lists.c.id)
        .scalar_subquery()
    )
    return select(
        lists.c.id, lists.c.token, lists.c.user_id, User.handle, User.name, lists.c.name,
        lists.c.description, lists.c.visibility, lists.c.updated_at, size,
    ).join(User, User.id == lists.c.user_id)  # fmt: skip
