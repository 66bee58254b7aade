"""``paperfeed serve --digest-at 07:00``: send the digests from the web nodes, once a day.

Every node may run this loop. Sending is exactly-once per address and period anyway (the
deliveries table), and the digest lock lets one node send at a time, so the loop just tries
every few minutes after the hour (UTC): daily digests every day, weekly ones on Mondays.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable

from sqlalchemy import Engine

from paperfeed.config import Settings
from paperfeed.digest.send import send_digests
from paperfeed.search.hybrid import PaperSearch
from paperfeed.store.locks import job_lock

log = logging.getLogger("paperfeed.digest")
DIGEST_LOCK = "digest"
_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


def parse_time(text: str) -> dt.time:
    match = _TIME.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a time of day: {text!r} (write HH:MM, UTC)")
    return dt.time(int(match[1]), int(match[2]))


def send_if_due(
    engine: Engine, settings: Settings, search: Callable[[], PaperSearch | None], at: dt.time,
    now: dt.datetime,
) -> list[str]:  # fmt: skip
    """The cadences sent by this call (none before ``at``, or while another node sends)."""
    if now.time() < at:
        return []
    cadences = ["daily"] + (["weekly"] if now.date().weekday() == 0 else [])
    with job_lock(engine, DIGEST_LOCK) as held:
        if not held:
            return []
        for cadence in cadences:
            report = send_digests(engine, settings, search(), cadence, now.date())
            if report.sent or report.failed:
                log.warning(
                    "%s digests: %d sent, %d failed", cadence, report.sent, len(report.failed)
                )
    return cadences
