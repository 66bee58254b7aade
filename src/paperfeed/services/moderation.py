"""What admins do, each action written to the audit log in the same transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update

from paperfeed.models import AuditEntry, Comment, FeedEntry, MemberSession, User, table_of
from paperfeed.services.accounts import Member
from paperfeed.services.comments import papers
from paperfeed.services.feeds import forget_rankings

audit = table_of(AuditEntry)
users = table_of(User)


class NotAllowed(PermissionError):
    pass


@dataclass(frozen=True, slots=True)
class Entry:
    at: dt.datetime
    actor: str | None
    action: str
    target: str
    detail: str | None


def _admin(member: Member | None) -> Member:
    if member is None or not member.is_admin:
        raise NotAllowed("only admins may do this")
    return member


def log_action(
    conn: Connection,
    actor: Member,
    action: str,
    target: str,
    now: dt.datetime,
    detail: str | None = None,
) -> None:
    conn.execute(
        insert(audit).values(actor_id=actor.id, action=action, target=target, detail=detail, at=now)
    )


def set_paper_hidden(
    conn: Connection, member: Member | None, paper_id: str, hidden: bool, now: dt.datetime
) -> bool:
    actor = _admin(member)
    changed = conn.execute(
        update(FeedEntry).where(FeedEntry.paper_id == paper_id).values(hidden=hidden)
    ).rowcount
    if changed:
        log_action(conn, actor, "hide paper" if hidden else "show paper", paper_id, now)
        forget_rankings()
    return bool(changed)


def delete_comment(
    conn: Connection, member: Member | None, comment_id: int, now: dt.datetime, reason: str = ""
) -> bool:
    actor = _admin(member)
    row = conn.execute(
        select(Comment.paper_id, Comment.deleted_at).where(Comment.id == comment_id)
    ).first()
    if row is None or row.deleted_at is not None:
        return False
    conn.execute(
        update(Comment).where(Comment.id == comment_id).values(deleted_at=now, body="", html="")
    )
    conn.execute(
        update(papers)
        .where(papers.c.id == row.paper_id)
        .values(num_comments=papers.c.num_comments - 1)
    )
    log_action(
        conn,
        actor,
        "delete comment",
        f"comment {comment_id} on {row.paper_id}",
        now,
        reason or None,
    )
    return True


def set_suspended(
    conn: Connection,
    member: Member | None,
    handle: str,
    suspended: bool,
    now: dt.datetime,
    reason: str = "",
) -> bool:
    actor = _admin(member)
    if handle == actor.handle:
        raise NotAllowed("an admin cannot suspend themselves")
    changed = conn.execute(
        update(users)
        .where(users.c.handle == handle)
        .values(suspended_at=now if suspended else None)
    ).rowcount
    if changed and suspended:
        user_id = conn.scalar(select(users.c.id).where(users.c.handle == handle))
        conn.execute(
            delete(table_of(MemberSession)).where(table_of(MemberSession).c.user_id == user_id)
        )
    if changed:
        log_action(
            conn,
            actor,
            "suspend member" if suspended else "reinstate member",
            handle,
            now,
            reason or None,
        )
    return bool(changed)


def recent(conn: Connection, limit: int = 200) -> list[Entry]:
    rows = conn.execute(
        select(audit.c.at, users.c.handle, audit.c.action, audit.c.target, audit.c.detail)
        .outerjoin(users, users.c.id == audit.c.actor_id)
        .order_by(audit.c.id.desc())
        .limit(limit)
    ).all()
    return [Entry(*row) for row in rows]
