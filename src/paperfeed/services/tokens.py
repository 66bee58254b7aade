"""Personal API tokens: made on the settings page, shown once, stored as a SHA-256 digest."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import OperationalError

from paperfeed.models import ApiToken, table_of, utc
from paperfeed.services.accounts import AccountError, Member, member_of, members_with
from paperfeed.store.engine import write_transaction

PREFIX = "pf_"
MAX_TOKENS = 20
LAST_USED_STEP = dt.timedelta(minutes=1)
log = logging.getLogger("paperfeed.tokens")
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


@dataclass(frozen=True, slots=True)
class Bearer:
    """A valid token and its member."""

    member: Member
    token_id: int
    last_used_at: dt.datetime | None


def bearer(conn: Connection, token: str) -> Bearer | None:
    """The token and member a bearer token names, in one query (None if unknown, revoked, or
    the member is gone or suspended)."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    row = conn.execute(
        members_with(tokens, tokens.c.id.label("token_id"), tokens.c.last_used_at).where(
            tokens.c.digest == digest(token), tokens.c.revoked_at.is_(None)
        )
    ).first()
    if row is None:
        return None
    return Bearer(member_of(row), row.token_id, row.last_used_at)


def mark_used(engine: Engine, used: Bearer, now: dt.datetime) -> None:
    """Note when the token was last used: once a minute at most (the settings page shows it to
    the minute), as a script sending many requests would otherwise commit a write for each.

    Runs after the answer was sent: with the database gone meanwhile, a line in the log says
    so, not a stack trace (the next use writes it)."""
    if used.last_used_at is not None and utc(used.last_used_at) >= now - LAST_USED_STEP:
        return
    try:
        with write_transaction(engine) as conn:
            conn.execute(
                update(tokens).where(tokens.c.id == used.token_id).values(last_used_at=now)
            )
    except OperationalError as error:
        log.warning("token %s: last use not noted: %s", used.token_id, str(error).splitlines()[0])
