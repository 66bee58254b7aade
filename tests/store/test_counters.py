"""Budget counters: exact under parallel takes on both databases, windows that turn, pruning."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, func, select

from paperfeed.store.counters import (
    counters,
    prune,
    prune_expired,
    seconds_to_wait,
    take,
    take_committed,
    used,
    window_end,
)
from paperfeed.store.engine import write_transaction

NOW = dt.datetime(2026, 12, 2, 16, 30, 15, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
MINUTE = dt.timedelta(minutes=1)


@pytest.mark.parametrize(("takers", "limit"), [(16, 10), (24, 1)])
def test_parallel_takes_against_a_limit_succeed_exactly_limit_times(
    engine: Engine, takers: int, limit: int
) -> None:
    start = threading.Barrier(takers)

    def one_take(_: int) -> bool:
        start.wait()
        return take_committed(engine, "submit:7", limit, DAY, NOW)

    with ThreadPoolExecutor(max_workers=takers) as pool:
        results = list(pool.map(one_take, range(takers)))
    assert results.count(True) == limit
    with engine.connect() as conn:
        assert conn.scalar(select(counters.c.used).where(counters.c.key == "submit:7")) == limit


def test_a_rolled_back_transaction_gives_its_unit_back(engine: Engine) -> None:
    with pytest.raises(RuntimeError), write_transaction(engine) as conn:
        assert take(conn, "k", 1, DAY, NOW)
        raise RuntimeError("the limited work failed")
    assert take_committed(engine, "k", 1, DAY, NOW)
    assert not take_committed(engine, "k", 1, DAY, NOW)


def test_keys_have_budgets_of_their_own(engine: Engine) -> None:
    assert take_committed(engine, "a", 1, MINUTE, NOW)
    assert take_committed(engine, "b", 1, MINUTE, NOW)
    assert not take_committed(engine, "a", 1, MINUTE, NOW)


def test_the_budget_comes_back_when_the_window_turns(engine: Engine) -> None:
    assert take_committed(engine, "k", 2, MINUTE, NOW)
    assert take_committed(engine, "k", 2, MINUTE, NOW)
    assert not take_committed(engine, "k", 2, MINUTE, NOW)
    later = NOW + dt.timedelta(seconds=seconds_to_wait(MINUTE, NOW))
    assert take_committed(engine, "k", 2, MINUTE, later)
    assert take_committed(engine, "k", 2, MINUTE, later)
    assert not take_committed(engine, "k", 2, MINUTE, later)


def test_a_node_whose_clock_lags_counts_into_the_newer_window(engine: Engine) -> None:
    later = NOW + MINUTE
    assert take_committed(engine, "k", 1, MINUTE, later)
    assert not take_committed(engine, "k", 1, MINUTE, NOW)


def test_a_take_larger_than_the_budget_is_refused_and_spends_nothing(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        assert not take(conn, "k", 3, DAY, NOW, amount=4)
        assert take(conn, "k", 3, DAY, NOW, amount=3)
        assert not take(conn, "k", 3, DAY, NOW)


def test_prune_removes_only_windows_that_are_over(engine: Engine) -> None:
    take_committed(engine, "old", 5, MINUTE, NOW)
    take_committed(engine, "current", 5, DAY, NOW)
    with write_transaction(engine) as conn:
        assert prune(conn, NOW + 2 * MINUTE) == 1
        assert conn.scalar(select(func.count()).select_from(counters)) == 1
        assert conn.scalar(select(counters.c.key)) == "current"


def test_windows_are_aligned_to_utc_and_wait_is_whole_seconds() -> None:
    assert window_end(DAY, NOW) == dt.datetime(2026, 12, 3, tzinfo=dt.UTC)
    assert window_end(MINUTE, NOW) == dt.datetime(2026, 12, 2, 16, 31, tzinfo=dt.UTC)
    assert seconds_to_wait(MINUTE, NOW) == 45
    other_zone = NOW.astimezone(dt.timezone(dt.timedelta(hours=5)))
    assert window_end(DAY, other_zone) == window_end(DAY, NOW)
    with pytest.raises(ValueError, match="longer than zero"):
        window_end(dt.timedelta(0), NOW)


def test_used_reads_the_current_window_only(engine: Engine) -> None:
    take_committed(engine, "k", 5, MINUTE, NOW)
    take_committed(engine, "k", 5, MINUTE, NOW)
    with engine.connect() as conn:
        assert used(conn, "k", MINUTE, NOW) == 2
        assert used(conn, "k", MINUTE, NOW + MINUTE) == 0
        assert used(conn, "other", MINUTE, NOW) == 0


def test_prune_expired_clears_windows_over_by_now(engine: Engine) -> None:
    take_committed(engine, "long ago", 5, MINUTE, NOW - DAY * 400)
    take_committed(engine, "today", 5, dt.timedelta(days=3650), dt.datetime.now(dt.UTC))
    assert prune_expired(engine) == 1
    with engine.connect() as conn:
        assert list(conn.scalars(select(counters.c.key))) == ["today"]
