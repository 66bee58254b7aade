"""Comments: Markdown rendered once when written, then sanitised by nh3 (Ammonia) so that no
script, event handler, iframe or ``javascript:`` link survives, whatever a member writes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import nh3
from markdown_it import MarkdownIt
from sqlalchemy import Connection, insert, select, update

from paperfeed.models import Comment, Paper, User, table_of, utc
from paperfeed.services.accounts import AccountError, Member
from paperfeed.store.merges import lock_paper

EDIT_WINDOW = dt.timedelta(minutes=15)
MAX_BODY = 10_000
comments = table_of(Comment)
users = table_of(User)
papers = table_of(Paper)
_markdown = (
    MarkdownIt("commonmark", {"html": False, "linkify": False})
    .enable("table")
    .enable("strikethrough")
)
_TAGS = {"p", "br", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li", "a",
         "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "hr"}  # fmt: skip


@dataclass(slots=True)
class ShownComment:
    id: int
    parent_id: int | None
    author: str | None  # handle; None once the account is gone
    author_name: str | None
    html: str
    body: str  # the Markdown as written (to edit it)
    created_at: dt.datetime
    edited: bool
    deleted: bool
    mine: bool
    editable: bool
    replies: list[ShownComment]


def render(body: str) -> str:
    """Safe HTML for a comment's Markdown."""
    return nh3.clean(
        _markdown.render(body),
        tags=_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener ugc",
    )


def add(
    conn: Connection,
    member: Member,
    paper_id: str,
    body: str,
    parent_id: int | None,
    now: dt.datetime,
) -> int:
    text = _body(body)
    found = lock_paper(conn, paper_id)  # (follows a merge that commits while this waits)
    if found is None:
        raise AccountError("that paper is no longer here")
    paper_id = found
    if parent_id is not None:
        parent = conn.execute(
            select(comments.c.paper_id, comments.c.parent_id).where(comments.c.id == parent_id)
        ).first()
        if parent is None or parent.paper_id != paper_id:
            raise AccountError("the comment you reply to is not on this paper")
        parent_id = parent.parent_id or parent_id  # threads are one level deep
    new_id = conn.execute(
        insert(comments).values(
            paper_id=paper_id,
            user_id=member.id,
            parent_id=parent_id,
            body=text,
            html=render(text),
            created_at=now,
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    _count(conn, paper_id, +1)
    return int(new_id)


def edit(conn: Connection, member: Member, comment_id: int, body: str, now: dt.datetime) -> str:
    row = _own(conn, member, comment_id)
    if now - utc(row.created_at) > EDIT_WINDOW:
        raise AccountError("comments can be edited for 15 minutes after they are written")
    text = _body(body)
    conn.execute(
        update(comments)
        .where(comments.c.id == comment_id)
        .values(body=text, html=render(text), edited_at=now)
    )
    return str(row.paper_id)


def remove(conn: Connection, member: Member, comment_id: int, now: dt.datetime) -> str:
    row = _own(conn, member, comment_id)
    conn.execute(
        update(comments).where(comments.c.id == comment_id).values(deleted_at=now, body="", html="")
    )
    _count(conn, row.paper_id, -1)
    return str(row.paper_id)


def thread(
    conn: Connection, paper_id: str, viewer: Member | None, now: dt.datetime
) -> list[ShownComment]:
    rows = conn.execute(
        select(comments, users.c.handle, users.c.name.label("author_name"))
        .outerjoin(users, users.c.id == comments.c.user_id)
        .where(comments.c.paper_id == paper_id)
        .order_by(comments.c.created_at, comments.c.id)
    ).all()
    shown: dict[int, ShownComment] = {}
    top: list[ShownComment] = []
    for row in rows:
        mine = viewer is not None and row.user_id == viewer.id and row.deleted_at is None
        item = ShownComment(
            row.id, row.parent_id, row.handle, row.author_name, row.html, row.body,
            utc(row.created_at),
            row.edited_at is not None, row.deleted_at is not None, mine,
            mine and now - utc(row.created_at) <= EDIT_WINDOW, [],
        )  # fmt: skip
        shown[row.id] = item
        if row.parent_id is not None and row.parent_id in shown:
            shown[row.parent_id].replies.append(item)
        else:
            top.append(item)
    return top


def shown_count(thread: list[ShownComment]) -> int:
    """Comments made here and not deleted, replies included: what the page's heading counts.

    The paper's ``num_comments`` can be higher: an import from the Daily Papers site raises it to
    that site's count, and those comments stay there.
    """
    return sum((not c.deleted) + shown_count(c.replies) for c in thread)


def _count(conn: Connection, paper_id: str, delta: int) -> None:
    """Move the paper's comment counter (which may start from an imported count)."""
    conn.execute(
        update(papers)
        .where(papers.c.id == paper_id)
        .values(num_comments=papers.c.num_comments + delta)
    )


def _own(conn: Connection, member: Member, comment_id: int):  # type: ignore[no-untyped-def]
    row = conn.execute(select(comments).where(comments.c.id == comment_id)).first()
    if row is None or row.deleted_at is not None:
        raise LookupError("no such comment")
    if row.user_id != member.id:
        raise PermissionError("only its author can change a comment")
    return row


def _body(body: str) -> str:
    text = body.strip()
    if not text:
        raise AccountError("the comment is empty")
    if len(text) > MAX_BODY:
        raise AccountError(f"a comment is {MAX_BODY:,} characters at most")
    return text
