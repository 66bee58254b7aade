"""``paperfeed serve --sync-every 1h``: run the sync in the background of a web node
(:class:`paperfeed.background.BackgroundJob` calls :func:`sync_once_if_due`).

Every node and every worker may run this loop; the sync lock makes one of them sync at a time,
and a node that gets the lock skips the run if another finished one less than a period ago, so
N nodes together sync once per period, not N times.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path

from sqlalchemy import Engine

from paperfeed.store.locks import job_lock
from paperfeed.store.sync_state import last_finished
from paperfeed.sync.config import ConfigError, load_config
from paperfeed.sync.runner import run_sync

log = logging.getLogger("paperfeed.sync")
SYNC_LOCK = "sync"
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(s|m|h|d)?")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """``90s``, ``30m``, ``1h``, ``1d`` (a bare number is seconds) → seconds."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None or float(match[1]) <= 0:
        raise ValueError(f"not a duration: {text!r} (write e.g. 30m, 1h or 1d)")
    return float(match[1]) * _UNITS[match[2] or "s"]


def sync_once_if_due(engine: Engine, config_path: Path, every: float) -> bool:
    """Run the sync if no node ran it within ``every`` seconds; True if this call ran it."""
    with job_lock(engine, SYNC_LOCK) as held:
        if not held:
            return False
        previous = last_finished(engine)
        if previous is not None:
            if previous.tzinfo is None:  # SQLite gives naive UTC
                previous = previous.replace(tzinfo=dt.UTC)
            if (dt.datetime.now(dt.UTC) - previous).total_seconds() < every * 0.9:
                return False
        try:
            config = load_config(config_path)
        except ConfigError as error:
            log.error("background sync: %s", error)
            return False
        for report in run_sync(engine, config):
            log.warning("background sync of %s: %s", report.name, report.error or "done")
        return True
