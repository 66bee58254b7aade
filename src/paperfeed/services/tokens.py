"""Personal API tokens: made on the settings page, shown once, stored as a SHA-256 digest."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from paperfeed.models import ApiToken, table_of, utc
from paperfeed.services.accounts import AccountError, Member, member_by_id

PREFIX = "pf_"
MAX_TOKENS = 20
LAST_USED_STEP = dt.timedelta(minutes=1)
tokens = table_of(ApiToken)


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: int
    name: str
    shown: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(conn: Connection, member: Member, name: str, now: dt.datetime) -> str:
    """A new token (returned once; only its digest is kept)."""
    label = " ".join(name.split())[:100] or "token"
    active = conn.scalar(
        select(tokens.c.id)
        .where(tokens.c.user_id == member.id, tokens.c.revoked_at.is_(None))
        .limit(MAX_TOKENS)
        .offset(MAX_TOKENS - 1)
    )
    if active is not None:
        raise AccountError(f"you have {MAX_TOKENS} tokens: revoke one first")
    token = PREFIX + secrets.token_urlsafe(32)
    conn.execute(
        insert(tokens).values(
            user_id=member.id, name=label, digest=digest(token), shown=token[:10], created_at=now
        )
    )
    return token


def revoke(conn: Connection, member: Member, token_id: int, now: dt.datetime) -> bool:
    changed = conn.execute(
        update(tokens)
        .where(
            tokens.c.id == token_id, tokens.c.user_id == member.id, tokens.c.revoked_at.is_(None)
        )
        .values(revoked_at=now)
    )
    return changed.rowcount == 1


def active(conn: Connection, member: Member) -> list[TokenInfo]:
    rows = conn.execute(
        select(
            tokens.c.id, tokens.c.name, tokens.c.shown, tokens.c.created_at, tokens.c.last_used_at
        )
        .where(tokens.c.user_id == member.id, tokens.c.revoked_at.is_(None))
        .order_by(tokens.c.id)
    ).all()
    return [TokenInfo(*row) for row in rows]


def member_for(conn: Connection, token: str, now: dt.datetime) -> Member | None:
    """The member a bearer token belongs to (None if unknown, revoked, or the member is gone)."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    row = conn.execute(
        select(tokens.c.id, tokens.c.user_id, tokens.c.last_used_at).where(
            tokens.c.digest == digest(token), tokens.c.revoked_at.is_(None)
        )
    ).first()
    if row is None:
        return None
    # Written once a minute at most (the settings page shows it to the minute): a script
    # sending many requests would otherwise commit a write for each one.
    if row.last_used_at is None or utc(row.last_used_at) < now - LAST_USED_STEP:
        conn.execute(update(tokens).where(tokens.c.id == row.id).values(last_used_at=now))
    return member_by_id(conn, row.user_id)
