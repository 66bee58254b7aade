"""Members: sign-up, the confirmation link, log-in with throttling.

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106). Confirmation links are
itsdangerous tokens signed with the site's key and valid three days. They carry the address
they confirm and a stamp of the current password hash, so a link confirms one unconfirmed
address, once, and dies when the address or the password changes; confirming never logs
anyone in (a link in a mail is not a password). Sign-up answers the same whether or not the
address has an account (:class:`AddressTaken` is for the caller to mail its owner). Log-in
attempts are throttled per (IP, address) before the password is checked
(:mod:`paperfeed.services.login_throttle`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Row,
    Select,
    Table,
    delete,
    func,
    insert,
    select,
    update,
)

from paperfeed.models import Comment, MemberSession, Paper, Subscription, Upvote, User, table_of
from paperfeed.services import login_throttle
from paperfeed.store.engine import write_transaction

CONFIRM_MAX_AGE = 3 * 24 * 3600
MIN_PASSWORD = 10
_HANDLE = re.compile(r"[a-z0-9][a-z0-9_-]{1,38}")
_hasher = PasswordHasher()
users = table_of(User)
sessions = table_of(MemberSession)


class AccountError(ValueError):
    """Something the person must change (the message says what)."""


class TooManyFailures(AccountError):
    """Too many log-in attempts for this address from this IP; ``wait`` seconds to go."""

    def __init__(self, wait: int) -> None:
        minutes = max(1, round(wait / 60))
        super().__init__(
            f"too many log-in attempts for this address from your network: try again in "
            f"{minutes} minute{'s' if minutes != 1 else ''}, or reset the password"
        )
        self.wait = wait


class AddressTaken(AccountError):
    """Sign-up with an address that has an account. Not to be shown to the person signing up:
    the answer must not tell who has an account here."""

    def __init__(self, address: str) -> None:
        super().__init__(
            "an account with this e-mail address exists: log in, or reset its password"
        )
        self.address = address


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    email: str
    handle: str
    name: str
    confirmed: bool
    is_admin: bool

    @property
    def can_write(self) -> bool:
        return self.confirmed


def normal_email(email: str) -> str:
    """A plain ``local@domain`` address in one normal form, or :class:`AccountError`.

    email-validator (no DNS: ``check_deliverability=False``) refuses display names, angle
    brackets, lists, comments, quoted local parts, IP-address domains and control characters,
    so one address can never put a second recipient on an SMTP envelope. Its normalized form is
    then lower-cased whole, as the store always kept addresses: every cap counts per address,
    and ``Victim@x.org`` must not be a way around the cap of ``victim@x.org``."""
    address = email.strip(" ")
    if any(unicodedata.category(char) == "Cc" for char in address):
        raise AccountError(f"{address[:100]!r} is not an e-mail address: no control characters")
    try:
        valid = validate_email(address, check_deliverability=False)
    except EmailNotValidError as error:
        raise AccountError(f"{address[:100]!r} is not an e-mail address: {error}") from None
    return valid.normalized.lower()


def sign_up(
    conn: Connection, email: str, handle: str, name: str, password: str, now: dt.datetime
) -> Member:
    """A new, unconfirmed member; :class:`AddressTaken` if the address has an account.

    The password is hashed before the address is looked up, so both answers take as long."""
    address = normal_email(email)
    handle = handle.strip().lower()
    if not _HANDLE.fullmatch(handle):
        raise AccountError(
            "a user name is 2-39 lowercase letters, digits, - or _, starting with a letter or digit"
        )
    name = " ".join(name.split())[:200] or handle
    _check_password(password)
    password_hash = _hasher.hash(password)
    if conn.scalar(select(User.id).where(User.handle == handle)) is not None:
        raise AccountError(f"the user name {handle!r} is taken")  # (public: profiles show it)
    if conn.scalar(select(User.id).where(User.email == address)) is not None:
        raise AddressTaken(address)
    user_id = conn.execute(
        insert(User).values(
            email=address,
            handle=handle,
            name=name,
            password_hash=password_hash,
            created_at=now,
            is_admin=False,
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    return Member(int(user_id), address, handle, name, False, False)


def create_admin(
    conn: Connection, email: str, handle: str, name: str, password: str, now: dt.datetime
) -> Member:
    """A confirmed admin account, or an existing account (by e-mail) made admin."""
    address = normal_email(email)
    existing = conn.execute(select(users).where(users.c.email == address)).first()
    if existing is not None:
        conn.execute(
            update(User)
            .where(User.id == existing.id)
            .values(is_admin=True, email_confirmed_at=existing.email_confirmed_at or now)
        )
        member = member_by_id(conn, existing.id)
        assert member is not None
        return member
    member = sign_up(conn, address, handle, name, password, now)
    conn.execute(
        update(User).where(User.id == member.id).values(is_admin=True, email_confirmed_at=now)
    )
    return Member(member.id, member.email, member.handle, member.name, True, True)


def _password_stamp(password_hash: str) -> str:
    """A digest of the stored password hash: a signed link carrying it dies with the password
    (and shows nothing of the hash to whoever reads the link)."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:24]


def confirmation_token(conn: Connection, secret: str, member_id: int) -> str:
    """The token of the link that confirms the member's current address, while their password
    stays what it is now."""
    row = conn.execute(
        select(users.c.email, users.c.password_hash).where(users.c.id == member_id)
    ).one()
    return URLSafeTimedSerializer(secret, salt="confirm-email").dumps(
        [member_id, row.email, _password_stamp(row.password_hash)]
    )


def confirm(conn: Connection, secret: str, token: str, now: dt.datetime) -> Member:
    """Confirm the address a link names: once, while the account is unconfirmed and its address
    and password are still those the link was made for. Run it in a write transaction: of two
    concurrent confirmations, one changes the row and the other is told it was done."""
    try:
        user_id, email, stamp = URLSafeTimedSerializer(secret, salt="confirm-email").loads(
            token, max_age=CONFIRM_MAX_AGE
        )
    except (BadSignature, ValueError, TypeError):
        raise AccountError(
            "this confirmation link is not valid or has expired: log in to get a new one"
        ) from None
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    if (
        row is None
        or row.suspended_at is not None
        or row.email != email
        or not secrets.compare_digest(_password_stamp(row.password_hash), str(stamp))
    ):
        raise AccountError("this confirmation link is not valid any more: log in to get a new one")
    changed = conn.execute(
        update(User)
        .where(
            User.id == row.id,
            User.password_hash == row.password_hash,
            User.email_confirmed_at.is_(None),
        )
        .values(email_confirmed_at=now)
    ).rowcount
    if changed != 1:
        raise AccountError("this address is confirmed already: log in")
    return Member(row.id, row.email, row.handle, row.name, True, bool(row.is_admin))


def log_in(engine: Engine, email: str, password: str, ip: str, now: dt.datetime) -> Member:
    """The member, or :class:`AccountError` (the same message for a wrong address or password),
    or :class:`TooManyFailures` before any password is checked once (``ip``, address) has used
    its attempts."""
    try:
        address = normal_email(email)
    except AccountError:
        raise AccountError("wrong e-mail address or password") from None
    wait = login_throttle.reserve(engine, ip, address, now)
    if wait is not None:
        raise TooManyFailures(wait)
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.email == address)).first()
    try:
        if row is None:
            _hasher.hash(password)  # spend the same time whether or not the address exists
            raise VerificationError
        _hasher.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise AccountError("wrong e-mail address or password") from None
    if row.suspended_at is not None:
        raise AccountError("this account is suspended")
    with write_transaction(engine) as conn:
        if _hasher.check_needs_rehash(row.password_hash):
            conn.execute(
                update(User).where(User.id == row.id).values(password_hash=_hasher.hash(password))
            )
        login_throttle.release(conn, ip, address)
    return member_of(row)


def member_by_id(conn: Connection, user_id: int) -> Member | None:
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    return member_of(row) if row is not None and row.suspended_at is None else None


def members_with(link: Table, *columns: ColumnElement[Any]) -> Select[Any]:
    """Members (not suspended) with the rows of ``link`` (a table with a ``user_id``) that name
    them, plus ``columns``: a session or a token and its member in one query, not two."""
    return (
        select(users, *columns)
        .join(link, link.c.user_id == users.c.id)
        .where(users.c.suspended_at.is_(None))
    )


def open_session(conn: Connection, member: Member, now: dt.datetime) -> str:
    """A new session id for a browser that just logged in."""
    session_id = secrets.token_urlsafe(32)
    conn.execute(insert(sessions).values(id=session_id, user_id=member.id, created_at=now))
    return session_id


def session_member(conn: Connection, session_id: str) -> Member | None:
    row = conn.execute(members_with(sessions).where(sessions.c.id == session_id)).first()
    return member_of(row) if row is not None else None


def close_sessions(
    conn: Connection, session_id: str | None = None, user_id: int | None = None
) -> None:
    """End one session, or every session of a member (new password, suspension)."""
    if session_id is not None:
        conn.execute(delete(sessions).where(sessions.c.id == session_id))
    if user_id is not None:
        conn.execute(delete(sessions).where(sessions.c.user_id == user_id))


def member_of(row: Row[Any]) -> Member:
    """The member in a row of ``users`` (or of :func:`members_with`)."""
    return Member(
        row.id,
        row.email,
        row.handle,
        row.name,
        row.email_confirmed_at is not None,
        bool(row.is_admin),
    )


RESET_MAX_AGE = 3600


def reset_token(conn: Connection, secret: str, email: str) -> tuple[Member, str] | None:
    """A password-reset token for the account of ``email`` (None if there is none).

    The token carries a digest of the current password hash (never the hash itself: the token is
    signed, not encrypted), so it stops working as soon as the password changes: a link works
    once, and for an hour at most.
    """
    try:
        address = normal_email(email)
    except AccountError:
        return None
    row = conn.execute(select(users).where(users.c.email == address)).first()
    if row is None or row.suspended_at is not None:
        return None
    token = URLSafeTimedSerializer(secret, salt="reset-password").dumps(
        [row.id, _password_stamp(row.password_hash)]
    )
    return member_of(row), token


def reset_password(conn: Connection, secret: str, token: str, password: str) -> Member:
    try:
        user_id, stamp = URLSafeTimedSerializer(secret, salt="reset-password").loads(
            token, max_age=RESET_MAX_AGE
        )
    except (BadSignature, ValueError, TypeError):
        raise AccountError(
            "this reset link is not valid or has expired: ask for a new one"
        ) from None
    used = AccountError("this reset link has been used already: ask for a new one")
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    if row is None or not secrets.compare_digest(_password_stamp(row.password_hash), str(stamp)):
        raise used
    _check_password(password)
    # The old hash in the WHERE makes the link single-use under parallel presses: of two
    # transactions that both read the old hash, only one changes the row.
    changed = conn.execute(
        update(User)
        .where(User.id == row.id, User.password_hash == row.password_hash)
        .values(password_hash=_hasher.hash(password))
    ).rowcount
    if changed != 1:
        raise used
    close_sessions(conn, user_id=row.id)  # whoever knew the old password is logged out
    member = member_by_id(conn, row.id)
    if member is None:
        raise AccountError("this account is suspended")
    return member


def delete_account(
    conn: Connection, member: Member, password: str, keep_contributions: bool, now: dt.datetime
) -> None:
    """Delete the account. With ``keep_contributions``, votes still count and comments stay,
    anonymised ("a former member"); without, votes are withdrawn and comments deleted."""
    row = conn.execute(select(users).where(users.c.id == member.id)).first()
    try:
        if row is None:
            raise VerificationError
        _hasher.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise AccountError("wrong password: the account is not deleted") from None
    papers, upvotes, comments = table_of(Paper), table_of(Upvote), table_of(Comment)
    if not keep_contributions:
        voted = list(conn.scalars(select(upvotes.c.paper_id).where(upvotes.c.user_id == member.id)))
        for paper_id in voted:
            conn.execute(
                update(papers).where(papers.c.id == paper_id).values(upvotes=papers.c.upvotes - 1)
            )
        written = conn.execute(
            select(comments.c.paper_id, func.count()).where(comments.c.user_id == member.id, comments.c.deleted_at.is_(None))
            .group_by(comments.c.paper_id)
        ).all()  # fmt: skip
        for paper_id, count in written:
            conn.execute(
                update(papers)
                .where(papers.c.id == paper_id)
                .values(num_comments=papers.c.num_comments - count)
            )
        conn.execute(
            update(comments).where(comments.c.user_id == member.id, comments.c.deleted_at.is_(None))
            .values(deleted_at=now, body="", html="")
        )  # fmt: skip
    digests = table_of(Subscription)  # no digest goes on to an address whose account is gone
    conn.execute(
        update(digests)
        .where((digests.c.user_id == member.id) | (digests.c.email == member.email))
        .values(status="unsubscribed")
    )
    conn.execute(
        delete(upvotes).where(upvotes.c.user_id == member.id)
    )  # kept votes stay in the counters
    conn.execute(delete(users).where(users.c.id == member.id))  # comments keep no author (SET NULL)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")
    if len(password) > 1024:
        raise AccountError("the password is too long (1,024 characters at most)")
