"""Real servers the tests start on loopback: a free port, an SMTP server that keeps mail, and
``paperfeed serve`` in a process of its own."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from email.message import Message
from pathlib import Path

from aiosmtpd.controller import Controller


def serve_process(
    log: Path, env: Mapping[str, str], port: int, *options: str
) -> subprocess.Popen[bytes]:
    """``paperfeed serve`` on ``port`` in a process of its own, its output in ``log`` (read it
    when a test fails); the caller waits for it to answer and stops it."""
    command = [sys.executable, "-m", "paperfeed", "serve", "--port", str(port), *options]
    with log.open("wb") as out:
        return subprocess.Popen(command, env=dict(env), stdout=out, stderr=subprocess.STDOUT)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Inbox:
    """What an aiosmtpd server on loopback received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.arrived = threading.Condition()
        self.port = 0
        self.busy = 0  # answer this many more mails with a temporary failure (451)
        self.before_data: Callable[[int], bool] | None = None  # False: drop the mail (421)
        self.received = 0
        self.refused: set[str] = set()  # answer mail to these with a permanent failure (550)

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.received += 1
        if self.before_data is not None and not self.before_data(self.received):
            return "421 4.3.2 going away"
        if set(envelope.rcpt_tos) & self.refused:  # type: ignore[attr-defined]
            return "550 5.1.1 no such mailbox"
        if self.busy > 0:
            self.busy -= 1
            return "451 4.3.0 busy, try again later"
        content = envelope.content  # type: ignore[attr-defined]
        with self.arrived:
            self.messages.append(email.message_from_bytes(content, policy=email.policy.default))
            self.arrived.notify_all()
        return "250 OK"

    def link(self, to: str, base: str = "http://testserver", kind: str = "") -> str:
        """The path of the link in the last mail to ``to`` whose link starts with ``/kind``
        (any confirmation or reset link by default), waiting for it: mail goes through the
        outbox, so it arrives a moment after the request that queued it."""
        pattern = re.compile(
            re.escape(base)
            + (
                f"(/{re.escape(kind)}/\\S+)"
                if kind
                else r"(/(?:confirm|reset|subscriptions/confirm)/\S+)"
            )
        )

        def found() -> list[re.Match[str]]:
            bodies = [_body(m) for m in self.messages if m["To"] == to]
            return [hit for body in bodies if (hit := pattern.search(body)) is not None]

        with self.arrived:
            self.arrived.wait_for(found, timeout=10)
            hits = found()
        assert hits, [_body(m) for m in self.messages if m["To"] == to]
        return hits[-1][1]

    def count(self, to: str, at_least: int = 0, timeout: float = 10) -> int:
        """Mails received for ``to``, after waiting (up to ``timeout``) for ``at_least``."""
        with self.arrived:
            self.arrived.wait_for(
                lambda: sum(m["To"] == to for m in self.messages) >= at_least, timeout=timeout
            )
            return sum(m["To"] == to for m in self.messages)


def _body(mail: Message) -> str:
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


@contextmanager
def smtp_server() -> Iterator[Inbox]:
    box = Inbox()
    box.port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
