"""The links and answers of signing up, on SQLite and PostgreSQL, with the mail received by a
real SMTP server on loopback: a confirmation link confirms once and logs no one in, a GET of
it changes nothing, and sign-up tells nobody which addresses have an account."""

from __future__ import annotations

import base64
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from paperfeed.models import Subscription, User
from paperfeed.services import accounts
from tests.servers import Inbox
from tests.web.helpers import PASSWORD, log_in, outbox_drained, press_link, token


def sign_up(client: TestClient, address: str, handle: str) -> httpx.Response:
    form = {"email": address, "handle": handle, "name": handle.title(), "password": PASSWORD,
            "csrf_token": token(client, "/signup")}  # fmt: skip
    return client.post("/signup", data=form, follow_redirects=False)


def confirmed(engine: Engine, address: str) -> bool:
    with engine.connect() as conn:
        return conn.scalar(select(User.email_confirmed_at).where(User.email == address)) is not None


def logged_in(client: TestClient) -> bool:
    return client.get("/settings", follow_redirects=False).status_code == 200


def press_at_once(
    site: TestClient, link: str, forms: list[dict[str, str]]
) -> tuple[list[int], list[TestClient]]:
    """POST ``link`` from one new browser per form, all released at the same instant: the status
    codes in the forms' order, and the browsers. Each form gets its browser's CSRF token."""
    clients = [TestClient(site.app) for _ in forms]
    filled = [form | {"csrf_token": token(c, link)} for c, form in zip(clients, forms, strict=True)]
    start = threading.Barrier(len(clients))

    def press(n: int) -> int:
        start.wait()
        return clients[n].post(link, data=filled[n]).status_code

    with ThreadPoolExecutor(len(clients)) as pool:
        return list(pool.map(press, range(len(clients)))), clients


def test_confirm_link_is_single_use_and_never_logs_in(
    site: TestClient, inbox: Inbox, engine: Engine
) -> None:
    assert sign_up(site, "ada@lab.org", "ada").status_code == 303
    assert not logged_in(site)  # signing up alone logs no one in
    link = inbox.link("ada@lab.org")

    scanner = TestClient(site.app)  # a mail scanner, or anyone who sees the link
    shown = scanner.get(link)
    assert shown.status_code == 200 and "Confirm my address" in shown.text
    assert not confirmed(engine, "ada@lab.org")  # a GET changes nothing

    join_as_bob = TestClient(site.app)  # someone logged in who is sent the link (log-in CSRF)
    assert sign_up(join_as_bob, "bob@lab.org", "bob").status_code == 303
    press_link(join_as_bob, inbox.link("bob@lab.org"))
    assert log_in(join_as_bob, "bob@lab.org").status_code == 303
    assert press_link(join_as_bob, link).status_code == 200
    assert confirmed(engine, "ada@lab.org")
    assert "Bob" in join_as_bob.get("/settings").text  # still Bob: his session is untouched
    assert not logged_in(scanner)

    again = press_link(scanner, link)
    assert again.status_code == 400 and "confirmed already" in again.text
    assert not logged_in(scanner)
    forged = scanner.post(link, data={"csrf_token": "forged"})
    assert forged.status_code == 403


def test_confirm_link_confirms_once_under_parallel_presses(
    site: TestClient, inbox: Inbox, engine: Engine
) -> None:
    assert sign_up(site, "ada@lab.org", "ada").status_code == 303
    link = inbox.link("ada@lab.org")
    codes, clients = press_at_once(site, link, [{} for _ in range(8)])
    assert sorted(codes) == [200] + [400] * 7
    assert confirmed(engine, "ada@lab.org")
    assert not any(logged_in(c) for c in clients)


def test_confirm_link_dies_when_the_password_changes(
    site: TestClient, inbox: Inbox, engine: Engine
) -> None:
    """Someone signs up with another person's address; the owner sets a password by /reset:
    the first link, still in the owner's inbox, no longer confirms the squatter's account."""
    assert sign_up(site, "ada@lab.org", "ada").status_code == 303
    link = inbox.link("ada@lab.org")
    site.post("/reset", data={"email": "ada@lab.org", "csrf_token": token(site, "/reset")})
    outbox_drained(site)
    reset = inbox.link("ada@lab.org", kind="reset")
    assert reset.startswith("/reset/")
    site.post(reset, data={"password": "the owner's password", "csrf_token": token(site, reset)})
    stale = press_link(TestClient(site.app), link)
    assert stale.status_code == 400 and "not valid any more" in stale.text
    assert not confirmed(engine, "ada@lab.org")


def test_digest_confirmation_link_acts_only_on_post(
    site: TestClient, inbox: Inbox, engine: Engine
) -> None:
    site.post("/subscribe", data={"email": "reader@lab.org", "csrf_token": token(site)})
    link = inbox.link("reader@lab.org")
    assert link.startswith("/subscriptions/confirm/")

    def status() -> str | None:
        with engine.connect() as conn:
            return conn.scalar(
                select(Subscription.status).where(Subscription.email == "reader@lab.org")
            )

    scanner = TestClient(site.app)
    assert scanner.get(link).status_code == 200 and status() == "pending"
    assert scanner.post(link, data={"csrf_token": "forged"}).status_code == 403
    assert status() == "pending"
    done = press_link(scanner, link)
    assert done.status_code == 200 and "Subscribed" in done.text and status() == "active"


class CountingHasher(PasswordHasher):
    """argon2-cffi's hasher, counting the passwords it hashes (it still hashes them)."""

    def __init__(self) -> None:
        super().__init__()
        self.hashed = 0

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self.hashed += 1
        return super().hash(password, salt=salt)


def test_sign_up_does_not_tell_who_has_an_account(
    site: TestClient, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    hasher = CountingHasher()
    monkeypatch.setattr(accounts, "_hasher", hasher)
    first = sign_up(TestClient(site.app), "ada@lab.org", "ada")
    assert hasher.hashed == 1
    again = sign_up(TestClient(site.app), "ADA@lab.org", "ada2")  # the address has an account
    assert hasher.hashed == 2  # the same work either way
    for answer in (first, again):
        assert answer.status_code == 303 and answer.headers["location"] == "/?welcome=1"
        assert "set-cookie" not in answer.headers  # no session for either
    page = site.get(again.headers["location"]).text
    assert "Check your inbox" in page and "with this e-mail address exists" not in page
    outbox_drained(site)
    mails = [m for m in inbox.messages if m["To"] == "ada@lab.org"]
    assert [m["Subject"] for m in mails] == [
        "Confirm your paperfeed account",
        "Signing up at paperfeed",
    ]
    taken = mails[1].get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "/confirm/" not in taken and "http://testserver/reset" in taken


def test_reset_link_sets_a_password_once_under_parallel_presses(
    site: TestClient, inbox: Inbox, engine: Engine
) -> None:
    """Eight browsers press one reset link at once: one password is set, seven are told the link
    was used, and the link never shows any part of the stored password hash."""
    assert sign_up(site, "ada@lab.org", "ada").status_code == 303
    site.post("/reset", data={"email": "ada@lab.org", "csrf_token": token(site, "/reset")})
    outbox_drained(site)
    link = inbox.link("ada@lab.org", kind="reset")
    with engine.connect() as conn:
        stored = conn.scalar(select(User.password_hash).where(User.email == "ada@lab.org"))
    payload = link.removeprefix("/reset/").split(".")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    assert stored is not None and not any(
        stored[i : i + 8] in decoded for i in range(len(stored) - 8)
    )
    codes, _ = press_at_once(site, link, [{"password": f"new password {n}"} for n in range(8)])
    assert sorted(codes) == [200] + [400] * 7
    winner = codes.index(200)
    with engine.connect() as conn:
        now_hash = conn.scalar(select(User.password_hash).where(User.email == "ada@lab.org"))
    assert now_hash is not None
    PasswordHasher().verify(now_hash, f"new password {winner}")
