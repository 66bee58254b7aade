"""Sending mail: through the configured SMTP server, or, when none is configured, printed on the
console (so `make demo` shows the confirmation link instead of losing it).

Requests never call these: they queue mail in the outbox (``services/outbox.py``), whose worker
sends it with one of these mailers."""

from __future__ import annotations

import contextlib
import smtplib
import ssl
import sys
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

from paperfeed.config import Settings


class Mailer(Protocol):
    def send(self, to: str, subject: str, text: str, message_id: str | None = None) -> None: ...

    def close(self) -> None: ...


def sender_domain(sender: str) -> str:
    """The domain of a From address (``"paperfeed <noreply@example.org>"``), for Message-IDs."""
    return sender.rsplit("@", 1)[-1].strip("> ") or "localhost"


def message(
    sender: str, to: str, subject: str, text: str, message_id: str | None = None
) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, to, subject
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = message_id or make_msgid(domain=sender_domain(sender))
    mail.set_content(text)
    return mail


class SmtpMailer:
    """One connection, opened at the first mail and kept for the next ones until
    :meth:`close` (the outbox worker sends a batch on it); dropped after any error, so the
    next mail opens a fresh one."""

    def __init__(self, settings: Settings) -> None:
        assert settings.smtp_host is not None
        self.settings = settings
        self._server: smtplib.SMTP | None = None

    def send(self, to: str, subject: str, text: str, message_id: str | None = None) -> None:
        try:
            if self._server is None:
                self._server = smtp_connection(self.settings)
            self._server.send_message(
                message(self.settings.mail_from, to, subject, text, message_id)
            )
        except OSError:  # (smtplib's errors are OSErrors too) a clean start for the next mail
            self._drop()
            raise

    def close(self) -> None:
        if self._server is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._server.quit()
        self._server = None

    def _drop(self) -> None:
        if self._server is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._server.close()
        self._server = None


def smtp_connection(settings: Settings) -> smtplib.SMTP:
    """A connected (and, as configured, encrypted and logged-in) SMTP client."""
    assert settings.smtp_host is not None
    context = ssl.create_default_context()
    if settings.smtp_security == "ssl":
        server: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, context=context, timeout=30
        )
    else:
        server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30)
    if settings.smtp_security == "starttls":
        server.starttls(context=context)
    if settings.smtp_user:
        server.login(settings.smtp_user, settings.smtp_password or "")
    return server


class LogMailer:
    """No SMTP server configured: the mail is printed whole on the server's console."""

    def send(self, to: str, subject: str, text: str, message_id: str | None = None) -> None:
        rule = "-" * 72
        print(
            f"{rule}\nMail to {to} (no SMTP server configured: PAPERFEED_SMTP_HOST)\n"
            f"Subject: {subject}\n\n{text}{rule}",
            file=sys.stderr,
            flush=True,
        )

    def close(self) -> None:
        """Nothing to close."""


def mailer_for(settings: Settings) -> Mailer:
    return SmtpMailer(settings) if settings.smtp_host else LogMailer()
