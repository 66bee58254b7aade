"""Sending digests: each address gets each period's digest exactly once.

For every active subscription of the cadence, a ``deliveries`` row (address, cadence, period)
and the ledger of its papers are committed *before* the mail goes out (for a batch of
addresses at a time), and each row is marked sent right after the SMTP server accepts its mail. A run killed at any point, or an SMTP connection
dropped mid-batch, is repaired by the next run: rows marked sent are skipped, pending ones are
sent again with the same papers and Message-ID.

The one window for a duplicate: the server has said "250 OK" and the process dies before the
``sent`` mark commits (a few milliseconds per mail). The mail then goes out again, with the
same Message-ID, which lets most clients and servers drop the copy.

Temporary failures (4xx) are retried with backoff on a fresh connection; permanent ones (5xx,
or a malformed address) mark the delivery failed with the reason, and it is not retried.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import queue
import secrets
import smtplib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine, func, insert, select, update

from paperfeed.config import Settings
from paperfeed.digest.compose import (
    Candidates,
    Digest,
    Pick,
    active_subscriptions,
    choose,
    period_key,
)
from paperfeed.digest.render import MailRenderer, Outgoing
from paperfeed.models import Delivery, DigestItem, table_of, utc
from paperfeed.search.hybrid import PaperSearch
from paperfeed.services.accounts import AccountError, normal_email
from paperfeed.services.cards import load_cards
from paperfeed.services.mail import smtp_connection
from paperfeed.services.subscriptions import unsubscribe_token
from paperfeed.store.engine import write_transaction

deliveries = table_of(Delivery)
ledger = table_of(DigestItem)
RETRIES = 3
BACKOFF = 2.0
BATCH = 200  # addresses composed and recorded together
FIRST_LOOKBACK = {"daily": dt.timedelta(days=1), "weekly": dt.timedelta(days=7)}


@dataclass(slots=True)
class SendReport:
    sent: int = 0
    empty: int = 0
    already: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    previews: list[str] = field(default_factory=list)  # dry run: the text of each digest


class Sender:
    """One SMTP connection reused for a batch, reopened when the server drops it."""

    def __init__(self, settings: Settings, sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings, self._sleep = settings, sleep
        self._server: smtplib.SMTP | None = None

    def send(self, mail: Outgoing) -> None:
        wait = BACKOFF
        for attempt in range(RETRIES + 1):
            try:
                if self._server is None:
                    self._server = smtp_connection(self.settings)
                options = ["SMTPUTF8"] if mail.utf8 else []
                self._server.sendmail(mail.sender, [mail.to], mail.data, mail_options=options)
                return
            except smtplib.SMTPServerDisconnected:
                self._server = None
                error: smtplib.SMTPException | OSError = smtplib.SMTPServerDisconnected(
                    "connection dropped"
                )
            except smtplib.SMTPResponseException as refused:
                if refused.smtp_code >= 500:
                    raise
                error = refused
            except smtplib.SMTPRecipientsRefused as refused:
                codes = [code for code, _ in refused.recipients.values()]
                if any(code >= 500 for code in codes):
                    raise
                error = refused
            except OSError as failure:
                self._server = None
                error = failure
            if attempt < RETRIES:
                self._sleep(wait)
                wait *= 2
        raise error

    def close(self) -> None:
        if self._server is not None:
            with contextlib.suppress(smtplib.SMTPException):
                self._server.quit()
            self._server = None


def send_digests(
    engine: Engine,
    settings: Settings,
    search: PaperSearch | None,
    cadence: str,
    today: dt.date,
    *,
    dry_run: bool = False,
    only: str | None = None,
    sender: Sender | None = None,
) -> SendReport:
    report = SendReport()
    period = period_key(cadence, today)
    now = dt.datetime.now(dt.UTC)
    with engine.connect() as conn:
        subs = active_subscriptions(conn, cadence, only)
        existing = _deliveries(conn, cadence, period)
        since = _since(conn, cadence, now)
    outbox = sender or Sender(settings)
    renderer = MailRenderer(settings.site_name, settings.base_url, settings.mail_from)
    courier = _Courier(engine, settings, renderer, outbox, report)
    try:
        with engine.connect() as shared:
            # What the run's digests have in common, once: from the earliest "since" on.
            earliest = min((since(sub.id) for sub in subs), default=now)
            pool = Candidates(shared, search, earliest, subs, today)
            run = _Run(engine, settings, pool, cadence, period, today, dry_run, courier, report)
            for start in range(0, len(subs), BATCH):
                batch = subs[start : start + BATCH]
                _send_batch(
                    run, shared, [(sub, existing.get(sub.id), since(sub.id)) for sub in batch]
                )
    finally:
        courier.close()
        outbox.close()
    return report


class _Courier:
    """Sends recorded digests, and marks them, from a thread of its own: composing the next
    batch overlaps the SMTP round trips (the mails go out in the order they were recorded)."""

    def __init__(
        self, engine: Engine, settings: Settings, renderer: MailRenderer, outbox: Sender,
        report: SendReport,
    ) -> None:  # fmt: skip
        self.engine, self.settings, self.renderer = engine, settings, renderer
        self.outbox, self.report = outbox, report
        self.key = settings.signing_key()
        self.queue: queue.Queue[tuple[Digest, int, str] | None] = queue.Queue(maxsize=2 * BATCH)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._work, name="digest-courier", daemon=True)
        self.thread.start()

    def put(self, digest: Digest, delivery_id: int, message_id: str) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put((digest, delivery_id, message_id))

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error

    def _work(self) -> None:
        while (item := self.queue.get()) is not None:
            if self.error is not None:
                continue  # (drain, so the composer never blocks on a full queue)
            try:
                _deliver(self, *item)
            except BaseException as error:  # handed to the composing thread
                self.error = error


@dataclass(slots=True)
class _Run:
    engine: Engine
    settings: Settings
    pool: Candidates
    cadence: str
    period: str
    today: dt.date
    dry_run: bool
    courier: _Courier
    report: SendReport


def _send_batch(run: _Run, conn: Connection, batch: list[tuple[Any, Any, dt.datetime]]) -> None:
    """A batch of addresses: those done this period are skipped, those a dead run left pending
    are resumed with the same papers, the others composed together and recorded in one
    transaction; then each is sent and marked on its own."""
    report, now = run.report, dt.datetime.now(dt.UTC)
    resumed = [
        (sub, found) for sub, found, _ in batch if found is not None and found.status == "pending"
    ]
    report.already += sum(
        1 for _, found, _ in batch if found is not None and found.status != "pending"
    )
    fresh = [(sub, since) for sub, found, since in batch if found is None]
    composed = []
    for sub, digest in zip(
        [sub for sub, _ in fresh], choose(conn, fresh, run.today, run.pool), strict=True
    ):
        if not digest.picks and not sub.send_empty:
            report.empty += 1
        elif run.dry_run:
            report.previews.append(_preview(digest, run.courier.renderer))
        elif (problem := _bad_address(sub.email)) is not None:
            report.failed.append((sub.email, problem))
        else:
            composed.append(digest)
    if run.dry_run:
        return
    outgoing = [
        (_resumed(conn, sub, found, run), found.id, found.message_id) for sub, found in resumed
    ]
    outgoing += _record(run.engine, run.settings, composed, now)
    for digest, delivery_id, message_id in outgoing:
        run.courier.put(digest, delivery_id, message_id)


def _resumed(conn: Connection, sub: Any, pending: Any, run: _Run) -> Digest:
    """A digest a dead run recorded but did not send: the same papers (from the ledger)."""
    ids = list(conn.scalars(select(ledger.c.paper_id).where(ledger.c.delivery_id == pending.id)))
    picks = [Pick(card, "in your digest") for card in load_cards(conn, ids)]
    return Digest(sub.id, sub.email, run.cadence, run.period, picks)


def _bad_address(email: str) -> str | None:
    try:
        normal_email(email)
    except AccountError as error:
        return str(error)
    return None


def _deliveries(conn: Connection, cadence: str, period: str) -> dict[int, Any]:
    """This period's deliveries so far, by subscription."""
    rows = conn.execute(
        select(deliveries).where(deliveries.c.cadence == cadence, deliveries.c.period == period)
    )
    return {row.subscription_id: row for row in rows}


def _since(conn: Connection, cadence: str, now: dt.datetime) -> Callable[[int], dt.datetime]:
    """When each subscription's new papers start: its last digest sent (or a period back for
    a first one), but never more than two periods back, so an address that was away for a
    month does not get a month at once."""
    period = FIRST_LOOKBACK.get(cadence, dt.timedelta(days=1))
    last = dict(
        conn.execute(
            select(deliveries.c.subscription_id, func.max(deliveries.c.sent_at))
            .where(deliveries.c.status == "sent", deliveries.c.sent_at >= now - 2 * period)
            .group_by(deliveries.c.subscription_id)
        ).all()
    )

    def since(subscription_id: int) -> dt.datetime:
        sent = last.get(subscription_id)
        return max(utc(sent), now - 2 * period) if sent else now - period

    return since


def _record(
    engine: Engine, settings: Settings, digests: list[Digest], now: dt.datetime
) -> list[tuple[Digest, int, str]]:
    """The pending deliveries and their papers in the ledger, committed (in one transaction)
    before anything is sent. Message-IDs are random, so the rows go in with one statement."""
    if not digests:
        return []
    domain = urlsplit(settings.base_url).hostname or "localhost"
    message_ids = [f"<digest.{d.period}.{secrets.token_hex(12)}@{domain}>" for d in digests]
    with write_transaction(engine) as conn:
        conn.execute(insert(deliveries), [
            {"subscription_id": digest.subscription_id, "cadence": digest.cadence,
             "period": digest.period, "status": "pending", "attempts": 0, "message_id": message_id,
             "created_at": now}
            for digest, message_id in zip(digests, message_ids, strict=True)
        ])  # fmt: skip
        ids = dict(
            conn.execute(
                select(deliveries.c.subscription_id, deliveries.c.id).where(
                    deliveries.c.subscription_id.in_([d.subscription_id for d in digests]),
                    deliveries.c.cadence == digests[0].cadence,
                    deliveries.c.period == digests[0].period,
                )
            ).all()
        )  # (one row per subscription and period: the unique key)
        recorded = [
            (digest, ids[digest.subscription_id], message_id)
            for digest, message_id in zip(digests, message_ids, strict=True)
        ]
        items = [
            {"subscription_id": digest.subscription_id, "paper_id": pick.card.id, "delivery_id": delivery_id}
            for digest, delivery_id, _ in recorded
            for pick in digest.picks
        ]  # fmt: skip
        if items:  # (a "nothing new" mail has no papers to record)
            conn.execute(insert(ledger), items)
    return recorded


def _deliver(courier: _Courier, digest: Digest, delivery_id: int, message_id: str) -> None:
    """Send the mail, then mark the delivery sent (or failed, with the reason)."""
    settings, engine, report = courier.settings, courier.engine, courier.report
    token = unsubscribe_token(courier.key, digest.subscription_id, digest.email)
    unsubscribe_url = f"{settings.base_url}/unsubscribe/{token}"
    mail = courier.renderer.mail(digest, unsubscribe_url, message_id, dt.datetime.now(dt.UTC))
    try:
        courier.outbox.send(mail)
    except (smtplib.SMTPException, OSError) as error:
        permanent = isinstance(error, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused)
        with write_transaction(engine) as conn:
            conn.execute(
                update(deliveries).where(deliveries.c.id == delivery_id).values(
                    status="failed" if permanent else "pending", error=str(error)[:1000],
                    attempts=deliveries.c.attempts + 1,
                )
            )  # fmt: skip
        report.failed.append((digest.email, str(error)[:200]))
        return
    with write_transaction(engine) as conn:
        conn.execute(
            update(deliveries).where(deliveries.c.id == delivery_id)
            .values(status="sent", sent_at=dt.datetime.now(dt.UTC), attempts=deliveries.c.attempts + 1)
        )  # fmt: skip
    report.sent += 1


def _preview(digest: Digest, renderer: MailRenderer) -> str:
    body = renderer.text(digest, f"{renderer.base_url}/unsubscribe/…")
    return f"To: {digest.email}\nSubject: {renderer.subject(digest)}\n\n{body}"
