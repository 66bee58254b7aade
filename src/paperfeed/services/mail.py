"""Sending mail: through the configured SMTP server, or, when none is configured, printed on the
console (so `make demo` shows the confirmation link instead of losing it)."""

from __future__ import annotations

import smtplib
import ssl
import sys
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

from paperfeed.config import Settings


class Mailer(Protocol):
    def send(self, to: str, subject: str, text: str) -> None: ...


def message(sender: str, to: str, subject: str, text: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, to, subject
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip("> ") or "localhost")
    mail.set_content(text)
    return mail


class SmtpMailer:
    def __init__(self, settings: Settings) -> None:
        assert settings.smtp_host is not None
        self.settings = settings

    def send(self, to: str, subject: str, text: str) -> None:
        with smtp_connection(self.settings) as server:
            server.send_message(message(self.settings.mail_from, to, subject, text))


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

    def send(self, to: str, subject: str, text: str) -> None:
        rule = "-" * 72
        print(
            f"{rule}\nMail to {to} (no SMTP server configured: PAPERFEED_SMTP_HOST)\n"
            f"Subject: {subject}\n\n{text}{rule}",
            file=sys.stderr,
            flush=True,
        )


def mailer_for(settings: Settings) -> Mailer:
    return SmtpMailer(settings) if settings.smtp_host else LogMailer()
