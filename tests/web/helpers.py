"""Helpers for tests that act as members: the CSRF token of a page, a mailed link's button,
joining the site."""

from __future__ import annotations

import re
import time

import httpx
from fastapi.testclient import TestClient

from paperfeed.store import outbox
from tests.servers import Inbox

PASSWORD = "correct horse battery"


def token(client: TestClient, path: str = "/") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found is not None
    return found[1]


def press_link(client: TestClient, path: str) -> httpx.Response:
    """Open a mailed confirmation link and press its page's button (the GET changes nothing)."""
    return client.post(path, data={"csrf_token": token(client, path)})


def log_in(client: TestClient, address: str, password: str = PASSWORD) -> httpx.Response:
    return client.post(
        "/login",
        data={"email": address, "password": password, "csrf_token": token(client, "/login")},
        follow_redirects=False,
    )


def join(client: TestClient, inbox: Inbox, handle: str, name: str = "") -> None:
    """Sign up, confirm the address by the mailed link, log in."""
    address = f"{handle}@lab.org"
    done = client.post("/signup", data={"email": address, "handle": handle, "name": name or handle.title(),
                                         "password": PASSWORD, "csrf_token": token(client, "/signup")},
                       follow_redirects=False)  # fmt: skip
    assert done.status_code == 303, done.text
    confirmed = press_link(client, inbox.link(address))
    assert confirmed.status_code == 200 and "Address confirmed" in confirmed.text
    assert log_in(client, address).status_code == 303


def outbox_drained(client: TestClient, timeout: float = 15) -> None:
    """Wait until the site's outbox worker has sent (or given up on) every queued mail, so the
    test SMTP server has received all it ever will."""
    engine = client.app.state.site.engine  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout
    while True:
        with engine.connect() as conn:
            if outbox.backlog(conn).pending == 0:
                return
        assert time.monotonic() < deadline, "the outbox was not sent in time"
        time.sleep(0.05)
