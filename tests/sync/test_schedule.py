"""The background sync of ``serve --sync-every``: at most once per period across nodes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from paperfeed.models import SyncRun
from paperfeed.store.locks import job_lock
from paperfeed.sync.schedule import SYNC_LOCK, parse_duration, sync_once_if_due
from tests.sources.replay import Replay
from tests.sync.conftest import write_config


def test_durations() -> None:
    assert parse_duration("90s") == 90 and parse_duration("30m") == 1800
    assert (
        parse_duration("1h") == 3600
        and parse_duration("2d") == 172800
        and parse_duration("45") == 45
    )
    for bad in ("", "0h", "soon", "1w"):
        with pytest.raises(ValueError, match="not a duration"):
            parse_duration(bad)


def test_one_run_per_period_and_none_while_another_node_syncs(
    engine: Engine, tmp_path: Path, replay: Replay
) -> None:
    config = write_config(tmp_path, replay.url)
    with job_lock(engine, SYNC_LOCK):  # another node is syncing right now
        assert not sync_once_if_due(engine, config, 3600)
    assert sync_once_if_due(engine, config, 3600)
    assert not sync_once_if_due(engine, config, 3600)  # done less than an hour ago
    assert sync_once_if_due(engine, config, 0.001)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(SyncRun)) == 10  # 5 sources, twice
