"""The log-in throttle: attempts per (IP address, account address), reserved before the
password is checked.

Each attempt takes one unit from budget counters in the store (:mod:`paperfeed.store.counters`)
in one write transaction, before argon2 runs: parallel attempts cannot all pass a check made
while the others are still verifying, and a refused attempt costs no password check. A log-in
that succeeds gives the budget back. The key is the pair (IP, address), not the address alone:
whoever guesses from one network backs off, and nobody can lock another person out of their
account by failing on purpose from elsewhere. The key is a digest of the pair, so the counter
table holds neither addresses nor IPs.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import Connection, Engine

from paperfeed.store import counters
from paperfeed.store.engine import write_transaction

#: (attempts, per window): a few tries for a mistyped password, then a pause; a patient
#: guesser from one address gets a few dozen tries a day at most.
BUDGETS = ((5, dt.timedelta(minutes=15)), (20, dt.timedelta(days=1)))


class _Refused(Exception):
    def __init__(self, wait: int) -> None:
        super().__init__(wait)
        self.wait = wait


def _key(ip: str, address: str, window: dt.timedelta) -> str:
    pair = hashlib.sha256(f"{ip}\n{address}".encode()).hexdigest()[:40]
    return f"login:{int(window.total_seconds())}:{pair}"


def reserve(engine: Engine, ip: str, address: str, now: dt.datetime) -> int | None:
    """Take one attempt for (``ip``, ``address``) from every budget, in one transaction;
    None if it may go ahead, else the seconds until it may (and nothing is taken)."""
    try:
        with write_transaction(engine) as conn:
            for limit, window in BUDGETS:
                if not counters.take(conn, _key(ip, address, window), limit, window, now):
                    raise _Refused(counters.seconds_to_wait(window, now))  # (rolls back)
    except _Refused as refused:
        return refused.wait
    return None


def release(conn: Connection, ip: str, address: str) -> None:
    """A successful log-in: (``ip``, ``address``) starts afresh."""
    for _limit, window in BUDGETS:
        counters.forget(conn, _key(ip, address, window))
