"""Digest subscriptions: double opt-in, and unsubscribing by a signed link (no log-in needed).

Tokens are itsdangerous signatures of the subscription id and address: a confirmation link
lasts a week; an unsubscribe link never expires (RFC 8058 clients POST to it long after).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import Connection, Row, insert, select, update

from paperfeed.models import Subscription, table_of
from paperfeed.services.accounts import AccountError, Member, normal_email

subscriptions = table_of(Subscription)
CONFIRM_MAX_AGE = 7 * 24 * 3600


def subscribe(
    conn: Connection, email: str, now: dt.datetime, user_id: int | None = None
) -> tuple[int, str, bool]:
    """(subscription id, address, whether a confirmation mail is needed)."""
    address = normal_email(email)
    row = conn.execute(
        select(subscriptions.c.id, subscriptions.c.status).where(subscriptions.c.email == address)
    ).first()
    if row is None:
        new_id = conn.execute(
            insert(subscriptions).values(
                email=address, status="pending", created_at=now, user_id=user_id
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        return int(new_id), address, True
    if row.status == "unsubscribed":
        conn.execute(
            update(subscriptions).where(subscriptions.c.id == row.id).values(status="pending")
        )
    return int(row.id), address, row.status != "active"


def why_not_sent(conn: Connection, email: str, cadence: str) -> str | None:
    """Why ``email`` gets no ``cadence`` digest, in words for the person who asked; None when
    it is an active subscription of that cadence."""
    address = email.strip().lower()
    row = conn.execute(
        select(subscriptions.c.status, subscriptions.c.cadence).where(
            subscriptions.c.email == address
        )
    ).first()
    if row is None:
        return f"{address} has no subscription"
    if row.status == "pending":
        return f"{address} has not confirmed its subscription (nothing is sent before it does)"
    if row.status != "active":
        return f"{address} has unsubscribed"
    if row.cadence != cadence:
        return f"{address} gets {row.cadence} digests: add --cadence {row.cadence}"
    return None


def confirm_token(secret: str, subscription_id: int, email: str) -> str:
    return URLSafeTimedSerializer(secret, salt="confirm-digest").dumps([subscription_id, email])


def unsubscribe_token(secret: str, subscription_id: int, email: str) -> str:
    return URLSafeSerializer(secret, salt="unsubscribe").dumps([subscription_id, email])


def confirm(conn: Connection, secret: str, token: str, now: dt.datetime) -> str:
    try:
        sub_id, email = URLSafeTimedSerializer(secret, salt="confirm-digest").loads(
            token, max_age=CONFIRM_MAX_AGE
        )
    except (BadSignature, ValueError, TypeError):
        raise AccountError(
            "this confirmation link is not valid or has expired: subscribe again"
        ) from None
    changed = conn.execute(
        update(subscriptions)
        .where(
            subscriptions.c.id == sub_id,
            subscriptions.c.email == email,
            subscriptions.c.status == "pending",
        )
        .values(status="active", confirmed_at=now)
    ).rowcount
    if (
        not changed
        and conn.scalar(select(subscriptions.c.status).where(subscriptions.c.id == sub_id))
        != "active"
    ):
        raise AccountError("this confirmation link is not valid any more")
    return str(email)


def unsubscribe(conn: Connection, secret: str, token: str) -> str:
    try:
        sub_id, email = URLSafeSerializer(secret, salt="unsubscribe").loads(token)
    except (BadSignature, ValueError, TypeError):
        raise AccountError("this unsubscribe link is not valid") from None
    conn.execute(
        update(subscriptions)
        .where(subscriptions.c.id == sub_id, subscriptions.c.email == email)
        .values(status="unsubscribed")
    )
    return str(email)


CADENCES = ("daily", "weekly")


def of_member(conn: Connection, member: Member) -> Row[Any] | None:
    return conn.execute(
        select(subscriptions).where(
            (subscriptions.c.user_id == member.id) | (subscriptions.c.email == member.email)
        )
    ).first()


@dataclass(frozen=True, slots=True)
class DigestChoice:
    """What a member asks for in their digest (the settings form)."""

    cadence: str = "daily"
    trending: int = 10
    searches: str = ""  # one query a line
    categories: str = ""  # space- or comma-separated
    follows: bool = True
    similar: int = 0
    send_empty: bool = False


def save_for_member(
    conn: Connection, member: Member, now: dt.datetime, choice: DigestChoice
) -> None:
    """A member's digest settings. Their address is confirmed with the account, so the
    subscription is active at once (no second opt-in)."""
    if choice.cadence not in CADENCES:
        raise AccountError("cadence is daily or weekly")
    queries = "\n".join(
        [" ".join(q.split())[:200] for q in choice.searches.splitlines() if q.strip()][:10]
    )
    cats = " ".join(choice.categories.replace(",", " ").split()[:10])
    values = {
        "cadence": choice.cadence, "trending": max(0, min(choice.trending, 50)),
        "searches": queries, "categories": cats, "follows": choice.follows,
        "similar": max(0, min(choice.similar, 20)), "send_empty": choice.send_empty,
        "user_id": member.id, "status": "active", "confirmed_at": now,
    }  # fmt: skip
    row = of_member(conn, member)
    if row is None:
        conn.execute(insert(subscriptions).values(email=member.email, created_at=now, **values))
    else:
        conn.execute(update(subscriptions).where(subscriptions.c.id == row.id).values(**values))


def stop_for_member(conn: Connection, member: Member) -> None:
    row = of_member(conn, member)
    if row is not None:
        conn.execute(
            update(subscriptions).where(subscriptions.c.id == row.id).values(status="unsubscribed")
        )
