"""The log-in throttle on SQLite and PostgreSQL: attempts are reserved in the store before the
password is checked, so parallel guesses cannot outrun the count, and the budget belongs to
the pair (IP, address), so nobody can lock another person out."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from paperfeed.services import accounts, login_throttle
from tests.servers import Inbox
from tests.web.helpers import PASSWORD, join, log_in, token

GUESSES = 16


class CountingHasher(PasswordHasher):
    """argon2-cffi's hasher, counting the passwords it checks (it still checks them)."""

    def __init__(self) -> None:
        super().__init__()
        self.verified = 0
        self._lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        with self._lock:
            self.verified += 1
        return super().verify(hash, password)


def test_parallel_wrong_passwords_are_checked_only_as_often_as_allowed(
    site: TestClient, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    join(site, inbox, "ada")
    hasher = CountingHasher()
    monkeypatch.setattr(accounts, "_hasher", hasher)
    guessers = [TestClient(site.app, client=("192.0.2.7", 40000 + n)) for n in range(GUESSES)]
    forms: list[dict[str, Any]] = [
        {"email": "ada@lab.org", "password": f"guess number {n}", "csrf_token": token(g, "/login")}
        for n, g in enumerate(guessers)
    ]
    start = threading.Barrier(GUESSES)

    def guess(n: int) -> int:
        start.wait()
        return guessers[n].post("/login", data=forms[n]).status_code

    with ThreadPoolExecutor(GUESSES) as pool:
        codes = sorted(pool.map(guess, range(GUESSES)))
    allowed, _window = login_throttle.BUDGETS[0]
    assert codes == [400] * allowed + [429] * (GUESSES - allowed)
    assert hasher.verified == allowed  # the refused ones never reached argon2

    same_network = log_in(guessers[0], "ada@lab.org")  # the right password: backs off too
    assert same_network.status_code == 429 and hasher.verified == allowed
    owner = TestClient(site.app, client=("198.51.100.9", 50000))  # the owner, elsewhere
    assert log_in(owner, "ada@lab.org", PASSWORD).status_code == 303
    assert "Ada" in owner.get("/settings").text
