"""Real servers the tests start on loopback: a free port, and an SMTP server that keeps mail."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import Message

from aiosmtpd.controller import Controller


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

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.received += 1
        if self.before_data is not None and not self.before_data(self.received):
            return "421 4.3.2 going away"
        if self.busy > 0:
            self.busy -= 1
            return "451 4.3.0 busy, try again later"
        content = envelope.content  # type: ignore[attr-defined]
        with self.arrived:
            self.messages.append(email.message_from_bytes(content, policy=email.policy.default))
            self.arrived.notify_all()
        return "250 OK"

    def link(self, to: str, base: str = "http://testserver") -> str:
        """The path of the confirmation link in the last mail to ``to`` (waits for it)."""
        with self.arrived:
            self.arrived.wait_for(lambda: any(m["To"] == to for m in self.messages), timeout=10)
        mail = [m for m in self.messages if m["To"] == to][-1]
        payload = mail.get_payload(decode=True)
        assert isinstance(payload, bytes)
        found = re.search(
            re.escape(base) + r"(/(?:confirm|reset|subscriptions/confirm)/\S+)", payload.decode()
        )
        assert found is not None, payload
        return found[1]


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
