"""The mail outbox table: rows written beside the change that asks for a mail, and the states a
worker moves them through (``pending`` → ``sending`` → ``sent``, or back to ``pending`` with a
later ``next_attempt_at``, or ``failed``).

Only the SQL lives here; when and how mail is sent is ``services/outbox.py``.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Row, delete, func, insert, select, update

from paperfeed.models import OutboxMail, table_of, utc
from paperfeed.store.engine import write_transaction

outbox = table_of(OutboxMail)


@dataclass(frozen=True, slots=True)
class Mail:
    """One queued mail as the worker sends it."""

    id: int
    kind: str
    recipient: str
    subject: str
    body: str
    message_id: str
    attempts: int
    created_at: dt.datetime


def queue(
    conn: Connection, kind: str, recipient: str, subject: str, body: str, now: dt.datetime,
    domain: str,
) -> int:  # fmt: skip
    """Queue a mail inside the caller's transaction: it exists if and only if the change that
    asked for it commits. The Message-ID is fixed now, so a mail sent twice (see the worker)
    carries the same one and mail systems can drop the copy."""
    message_id = f"<{secrets.token_hex(16)}@{domain}>"
    new_id = conn.execute(
        insert(outbox).values(
            kind=kind, recipient=recipient, subject=subject[:300], body=body,
            message_id=message_id, status="pending", attempts=0, created_at=now,
            next_attempt_at=now,
        )
    ).inserted_primary_key[0]  # type: ignore[index]  # fmt: skip
    return int(new_id)


def due(engine: Engine, now: dt.datetime, limit: int) -> list[Mail]:
    """Pending mails whose next attempt is due, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(outbox)
            .where(outbox.c.status == "pending", outbox.c.next_attempt_at <= now)
            .order_by(outbox.c.next_attempt_at, outbox.c.id)
            .limit(limit)
        ).all()
    return [_mail(row) for row in rows]


def _mail(row: Row[Any]) -> Mail:
    return Mail(
        row.id, row.kind, row.recipient, row.subject, row.body, row.message_id, row.attempts,
        utc(row.created_at),
    )  # fmt: skip


def claim(engine: Engine, mail_id: int, now: dt.datetime) -> bool:
    """Take a pending mail for sending; False if another worker took it first (the update is
    conditional, so two workers can never both hold one mail)."""
    with write_transaction(engine) as conn:
        taken = conn.execute(
            update(outbox)
            .where(outbox.c.id == mail_id, outbox.c.status == "pending")
            .values(status="sending", claimed_at=now, attempts=outbox.c.attempts + 1)
        ).rowcount
    return taken == 1


def mark_sent(engine: Engine, mail_id: int, now: dt.datetime) -> None:
    """The SMTP server accepted it. The body goes: it may hold a one-time link."""
    with write_transaction(engine) as conn:
        conn.execute(
            update(outbox)
            .where(outbox.c.id == mail_id)
            .values(status="sent", sent_at=now, body="", last_error=None)
        )


def mark_failed(engine: Engine, mail_id: int, error: str) -> None:
    """Refused for good (a 5xx, or retried for too long): never tried again."""
    with write_transaction(engine) as conn:
        conn.execute(
            update(outbox)
            .where(outbox.c.id == mail_id)
            .values(status="failed", body="", last_error=error[:2000])
        )


def retry_later(engine: Engine, mail_ids: list[int], at: dt.datetime, error: str) -> None:
    """Back to pending, not to be tried before ``at``."""
    if not mail_ids:
        return
    with write_transaction(engine) as conn:
        conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(mail_ids), outbox.c.status.in_(("pending", "sending")))
            .values(status="pending", next_attempt_at=at, last_error=error[:2000])
        )


def has_abandoned(engine: Engine) -> bool:
    """Whether any mail is left ``sending`` (a read, so an idle run writes nothing)."""
    with engine.connect() as conn:
        return (
            conn.scalar(select(outbox.c.id).where(outbox.c.status == "sending").limit(1))
            is not None
        )


def release_abandoned(engine: Engine, now: dt.datetime) -> int:
    """Mails left ``sending`` by a worker that died mid-send, back to pending to go out now.
    Called only while holding the outbox's job lock, so no live worker holds any of them."""
    left = "the worker stopped while sending: sent again (maybe twice)"
    with write_transaction(engine) as conn:
        released = conn.execute(
            update(outbox)
            .where(outbox.c.status == "sending")
            .values(status="pending", next_attempt_at=now, last_error=left)
        )
    return int(released.rowcount)


def forget_sent(engine: Engine, before: dt.datetime) -> int:
    """Drop rows of mail sent or given up on before ``before`` (the outbox is not an archive)."""
    with write_transaction(engine) as conn:
        return int(
            conn.execute(
                delete(outbox).where(
                    outbox.c.status.in_(("sent", "failed")), outbox.c.created_at < before
                )
            ).rowcount
        )


@dataclass(frozen=True, slots=True)
class Backlog:
    """What waits in the outbox, for status lines."""

    pending: int
    failed: int
    next_attempt_at: dt.datetime | None
    oldest_pending: dt.datetime | None


def backlog(conn: Connection) -> Backlog:
    pending = conn.execute(
        select(func.count(), func.min(outbox.c.next_attempt_at), func.min(outbox.c.created_at))
        .where(outbox.c.status.in_(("pending", "sending")))
    ).one()  # fmt: skip
    failed = conn.scalar(select(func.count()).where(outbox.c.status == "failed")) or 0
    return Backlog(
        int(pending[0]), int(failed),
        utc(pending[1]) if pending[1] is not None else None,
        utc(pending[2]) if pending[2] is not None else None,
    )  # fmt: skip
