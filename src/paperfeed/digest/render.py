"""Digests as mails: multipart/alternative, plain text and HTML with the CSS inlined.

A run renders thousands of mails that share most of their papers (the trending ones go to
everyone), so each paper's block is rendered and inlined once per run and reused; a mail is
then its skeleton with the blocks put in. The mail's bytes are written here (two base64 parts
under multipart/alternative, ASCII headers, non-ASCII ones encoded by ``email.header``): the
``email`` package's generator writes a message line by line in Python, which made flattening a
mail cost more than composing its digest. The tests read every mail back with the stdlib
parser.
"""

from __future__ import annotations

import binascii
import datetime as dt
import secrets
from dataclasses import dataclass
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path

import css_inline
from jinja2 import Environment, FileSystemLoader, select_autoescape

from paperfeed.digest.compose import Digest, Pick
from paperfeed.paper_urls import paper_path

TEMPLATES = Path(__file__).parent / "templates"
CSS = (TEMPLATES / "digest.css").read_text()
PLACE = "<!--papers-->"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,  # (templates ship with the package: no stat() per mail)
)
_env.filters["paper_path"] = paper_path


class MailRenderer:
    """Renders one run's digests; keeps each paper's rendered block for the run."""

    def __init__(self, site_name: str, base_url: str, sender: str) -> None:
        self.site_name, self.base_url = site_name, base_url
        name, self.address = parseaddr(sender)
        self.sender = formataddr((name, self.address), charset="utf-8")
        self._blocks: dict[tuple[str, int, str], tuple[str, str]] = {}

    def subject(self, digest: Digest) -> str:
        count = len(digest.picks)
        what = f"{count} paper{'' if count == 1 else 's'}" if count else "nothing new"
        return f"{self.site_name}: {what} for {digest.period}"

    def text(self, digest: Digest, unsubscribe_url: str) -> str:
        """The plain-text part (also what ``--dry-run`` prints)."""
        return _env.get_template("digest.txt").render(
            digest=digest, papers=[self._block(pick)[0] for pick in digest.picks],
            site_name=self.site_name, base_url=self.base_url, unsubscribe_url=unsubscribe_url,
        )  # fmt: skip

    def html(self, digest: Digest, unsubscribe_url: str) -> str:
        skeleton = _env.get_template("digest.html").render(
            digest=digest, css=CSS, site_name=self.site_name, base_url=self.base_url,
            unsubscribe_url=unsubscribe_url,
        )  # fmt: skip
        papers = "\n".join(self._block(pick)[1] for pick in digest.picks)
        return css_inline.inline(skeleton).replace(PLACE, papers, 1)

    def mail(
        self, digest: Digest, unsubscribe_url: str, message_id: str, now: dt.datetime
    ) -> Outgoing:
        """The mail, with a Message-ID, a Date, and RFC 8058 one-click unsubscribe headers."""
        subject = self.subject(digest)
        boundary = f"=_{secrets.token_hex(16)}"  # ("_" is not in the base64 alphabet)
        headers = {
            "From": self.sender,
            "To": digest.email,
            "Subject": subject if subject.isascii() else Header(subject, "utf-8").encode(),
            "Date": format_datetime(now),
            "Message-ID": message_id,
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "MIME-Version": "1.0",
            "Content-Type": f'multipart/alternative; boundary="{boundary}"',
        }
        head = "".join(f"{name}: {_one_line(value)}\r\n" for name, value in headers.items())
        parts = (
            _utf8_part(self.text(digest, unsubscribe_url), "plain"),
            _utf8_part(self.html(digest, unsubscribe_url), "html"),
        )
        body = "".join(f"--{boundary}\r\n{part}" for part in parts) + f"--{boundary}--\r\n"
        message = head + "\r\n" + body
        # An address with non-ASCII characters needs the server's SMTPUTF8 (RFC 6531).
        return Outgoing(self.address, digest.email, message.encode(), not message.isascii())

    def _block(self, pick: Pick) -> tuple[str, str]:
        key = (pick.card.id, pick.card.upvotes, pick.reason)
        if key not in self._blocks:
            context = {"pick": pick, "base_url": self.base_url}
            text = _env.get_template("paper.txt").render(**context)
            html = css_inline.inline_fragment(
                _env.get_template("paper.html").render(**context), CSS
            )
            self._blocks[key] = (text, html)
        return self._blocks[key]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A mail ready for SMTP: envelope sender, recipient, and the message's bytes."""

    sender: str
    to: str
    data: bytes
    utf8: bool = False


def _utf8_part(body: str, subtype: str) -> str:
    """A UTF-8 text part in base64, encoded in one ``binascii`` call and cut into 76-character
    lines."""
    encoded = binascii.b2a_base64(body.encode(), newline=False).decode("ascii")
    lines = "\r\n".join([encoded[i : i + 76] for i in range(0, len(encoded), 76)])
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n{lines}\r\n"
    )


def _one_line(value: str) -> str:
    """A header value can never start another header (CR and LF removed)."""
    return value.replace("\r", " ").replace("\n", " ")
