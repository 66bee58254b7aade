"""The mail outbox: requests queue mail in the store; a worker sends it with retries.

A request that causes a mail (sign-up, a new confirmation link, a password reset, a digest
subscription) writes an ``outbox`` row in the same transaction as its change, and answers: it
never waits on the SMTP server and never fails because of it. The row exists if and only if the
change committed, so there is no account without its confirmation mail, and no mail about a
change that was rolled back.

The worker (:func:`deliver_due`) runs in every ``paperfeed serve`` node (a background thread,
woken as soon as a request queues a mail) and as ``paperfeed mail send-outbox [--loop]``. It
holds the outbox's job lock (``store/locks.py``: a PostgreSQL advisory lock, or a file lock on
SQLite) for a run, so one process of however many nodes sends at a time; the others skip.

**Retries.** A temporary failure (the server unreachable, a dropped connection, a 4xx answer)
puts the mail back with exponential backoff: :data:`FIRST_RETRY`, doubling to at most
:data:`LONGEST_WAIT`. When the server itself is unreachable, every mail of the run waits
(nobody hammers a server that is down). A permanent refusal (5xx) marks the mail ``failed`` at
once; so does a temporary one after :data:`GIVE_UP_AFTER`. An hour's outage loses nothing: the
mails go out at the first try after the server is back, at most :data:`LONGEST_WAIT` later.

**At most once, nearly.** A mail is claimed (``sending``) before it is handed to the server and
marked ``sent`` in its own commit right after the server accepts it, so a worker that crashes
before or after that resends nothing that was marked. The worst case is at-least-once: when the
process dies in the few milliseconds between the server's "250 OK" and the commit of the mark,
the store cannot know whether the server took the mail, and the next run sends it again (with
the same Message-ID, which lets mail systems drop the copy). Losing a confirmation link would be
worse than a duplicate, so that is the side it errs on.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine

from paperfeed.config import Settings
from paperfeed.services.accounts import normal_email
from paperfeed.services.mail import Mailer, mailer_for, sender_domain
from paperfeed.store import counters, outbox
from paperfeed.store.locks import job_lock

log = logging.getLogger("paperfeed.outbox")
OUTBOX_LOCK = "mail-outbox"
FIRST_RETRY = dt.timedelta(seconds=30)
LONGEST_WAIT = dt.timedelta(minutes=15)
GIVE_UP_AFTER = dt.timedelta(days=3)  # as long as a confirmation link lives
KEEP_SENT = dt.timedelta(days=30)
BATCH = 100


@dataclass(frozen=True, slots=True)
class Cap:
    """At most ``limit`` per ``window`` (a budget counter in the store: ``store/counters.py``)."""

    limit: int
    window: dt.timedelta


HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)
#: Mails of one kind to one address, whoever asks and from however many IP addresses.
PER_RECIPIENT = {
    "confirm-account": Cap(3, HOUR),
    "reset-password": Cap(3, HOUR),
    "confirm-digest": Cap(3, DAY),
    "signup-taken": Cap(3, DAY),  # "someone signed up with your address"
}
#: A kind not listed above (a new one someone forgot to add): as strict as the strictest.
OTHER_KIND = Cap(3, HOUR)
#: Mails of every kind together to one address.
ALL_KINDS = Cap(10, DAY)
#: Requests from one IP address to the forms that mail (counted whether or not a mail goes).
PER_IP = {
    "reset-password": Cap(10, HOUR),
    "confirm-account": Cap(10, HOUR),
    # (a reading group signing up together behind one address fits; a script making accounts
    # and mailing strangers does not)
    "signup": Cap(20, HOUR),
}


class TooManyRequests(Exception):
    """An IP address asked too often; ``retry_after`` seconds until it may again."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many requests: try again in {retry_after} s")
        self.retry_after = retry_after


def take_ip_budget(
    conn: Connection, settings: Settings, kind: str, ip: str, now: dt.datetime
) -> None:
    """Spend one of ``ip``'s requests for ``kind``, or raise :class:`TooManyRequests`."""
    cap = PER_IP[kind]
    if settings.rate_limits and not counters.take(
        conn, f"mail-ip:{kind}:{ip}", cap.limit, cap.window, now
    ):
        raise TooManyRequests(counters.seconds_to_wait(cap.window, now))


def take_recipient_budget(
    conn: Connection, settings: Settings, kind: str, address: str, now: dt.datetime
) -> bool:
    """Spend one mail of ``address``'s budgets (its kind's and all kinds'); False, with
    nothing spent, when either is used up. ``address`` must be normalised already."""
    if not settings.rate_limits:
        return True
    cap = PER_RECIPIENT.get(kind, OTHER_KIND)
    with conn.begin_nested() as both:  # (both budgets, or neither)
        if counters.take(
            conn, f"mail-to:{kind}:{address}", cap.limit, cap.window, now
        ) and counters.take(conn, f"mail-to:*:{address}", ALL_KINDS.limit, ALL_KINDS.window, now):
            return True
        both.rollback()
    return False


def queue_mail(
    conn: Connection, settings: Settings, kind: str, to: str, subject: str, text: str,
    now: dt.datetime,
) -> bool:  # fmt: skip
    """Queue a mail inside the caller's write transaction (see the module's docstring) if the
    recipient's budget allows; False if it does not (nothing is queued, and the caller gives
    the same answer either way unless the asker owns the address).

    The caps apply to the address the mail goes to, in its normal form; an address that is not
    a plain ``local@domain`` (an account made before addresses were checked) raises
    :class:`~paperfeed.services.accounts.AccountError` rather than reach the SMTP envelope."""
    recipient = normal_email(to)
    if not take_recipient_budget(conn, settings, kind, recipient, now):
        log.info("not queued: %s for %s is over its cap", kind, recipient)
        return False
    domain = sender_domain(settings.mail_from)
    outbox.queue(conn, kind, recipient, subject, text, now, domain)
    return True


def retry_wait(attempts: int) -> dt.timedelta:
    """How long a mail waits after its ``attempts``-th failed try."""
    return min(FIRST_RETRY * (1 << min(max(attempts - 1, 0), 16)), LONGEST_WAIT)


@dataclass(slots=True)
class OutboxReport:
    """What one run did, for the status line and the tests."""

    busy: bool = False  # another process held the lock: nothing done
    sent: int = 0
    retried: int = 0
    failed: int = 0
    resent: int = 0  # left mid-send by a worker that died: sent again
    errors: list[str] = field(default_factory=list)


class _ServerDown(Exception):
    """Not this mail's fault: the server cannot be reached (every mail of the run waits)."""


def _try_send(mailer: Mailer, mail: outbox.Mail) -> str | None:
    """None when accepted; otherwise why, as ``"temporary: ..."`` or ``"permanent: ..."``.
    Raises :class:`_ServerDown` when the server cannot be reached at all."""
    try:
        mailer.send(mail.recipient, mail.subject, mail.body, mail.message_id)
    except smtplib.SMTPRecipientsRefused as refused:
        codes = [code for code, _ in refused.recipients.values()]
        kind = "permanent" if codes and min(codes) >= 500 else "temporary"
        return f"{kind}: recipient refused {refused.recipients}"
    except (smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected) as error:
        raise _ServerDown(f"{type(error).__name__}: {error}") from error
    except smtplib.SMTPResponseException as refused:
        kind = "permanent" if refused.smtp_code >= 500 else "temporary"
        return f"{kind}: {refused.smtp_code} {refused.smtp_error!r}"
    except OSError as error:  # refused, unreachable, timed out, TLS: the server, not the mail
        raise _ServerDown(f"{type(error).__name__}: {error}") from error
    return None


def deliver_due(
    engine: Engine, mailer: Mailer, now: dt.datetime | None = None, batch: int = BATCH
) -> OutboxReport:
    """Send the mails that are due (``now``: the backoff clock, the real one by default)."""
    at = now or dt.datetime.now(dt.UTC)
    report = OutboxReport()
    with job_lock(engine, OUTBOX_LOCK) as held:
        if not held:
            report.busy = True
            return report
        if outbox.has_abandoned(engine):
            report.resent = outbox.release_abandoned(engine, at)
        try:
            _send_batch(engine, mailer, outbox.due(engine, at, batch), at, report)
        finally:
            mailer.close()
        if report.sent:
            outbox.forget_sent(engine, at - KEEP_SENT)
    return report


def _send_batch(
    engine: Engine, mailer: Mailer, mails: list[outbox.Mail], at: dt.datetime,
    report: OutboxReport,
) -> None:  # fmt: skip
    for index, mail in enumerate(mails):
        if not outbox.claim(engine, mail.id, at):
            continue  # (another worker took it: only possible if the lock was lost)
        try:
            problem = _try_send(mailer, mail)
        except _ServerDown as down:
            waiting = [mail.id] + [m.id for m in mails[index + 1 :]]
            outbox.retry_later(engine, waiting, at + retry_wait(mail.attempts + 1), str(down))
            report.retried += len(waiting)
            report.errors.append(str(down))
            log.warning("SMTP server not answering, %d mails wait: %s", len(waiting), down)
            return
        if problem is None:
            outbox.mark_sent(engine, mail.id, at)  # at once: see "at most once, nearly"
            report.sent += 1
        elif problem.startswith("permanent") or at - mail.created_at >= GIVE_UP_AFTER:
            outbox.mark_failed(engine, mail.id, problem)
            report.failed += 1
            report.errors.append(f"{mail.recipient}: {problem}")
        else:
            outbox.retry_later(engine, [mail.id], at + retry_wait(mail.attempts + 1), problem)
            report.retried += 1
            report.errors.append(f"{mail.recipient}: {problem}")


def status_line(report: OutboxReport, backlog: outbox.Backlog) -> str:
    """One line saying what a run did and what still waits."""
    if report.busy:
        return "mail outbox: another process is sending it; nothing done."
    parts = [f"sent {report.sent}"]
    if report.resent:
        parts.append(f"{report.resent} left mid-send by a stopped worker went again")
    if report.failed:
        parts.append(f"{report.failed} refused for good")
    waiting = f"{backlog.pending} waiting"
    if backlog.pending and backlog.next_attempt_at is not None:
        waiting += f" (next try {backlog.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC)"
    parts.append(waiting)
    if backlog.failed:
        parts.append(f"{backlog.failed} failed in all (see `paperfeed mail outbox`)")
    line = "mail outbox: " + ", ".join(parts) + "."
    if report.errors:
        line += f" Last error: {report.errors[-1][:200]}"
    return line


def outbox_worker(engine: Engine, settings: Settings) -> Callable[[], OutboxReport]:
    """The action of a web node's background job: one run with the configured mailer."""

    def run() -> OutboxReport:
        return deliver_due(engine, mailer_for(settings))

    return run
