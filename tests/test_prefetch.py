"""The reader process: same items, same order, errors passed on, no child left behind."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator

import pytest

from paperfeed.prefetch import prefetch


def numbers(count: int) -> Iterator[int]:
    yield from range(count)


def numbers_then_failure(count: int) -> Iterator[int]:
    yield from range(count)
    raise ValueError("line 4: broken")


def test_items_arrive_in_order() -> None:
    assert list(prefetch(numbers, 1000)) == list(range(1000))


def test_a_producer_error_is_raised_in_the_consumer() -> None:
    seen: list[int] = []
    with pytest.raises(ValueError, match="line 4: broken"):
        for item in prefetch(numbers_then_failure, 3):
            seen.append(item)
    assert seen == [0, 1, 2]


def test_stopping_early_ends_the_child() -> None:
    items = prefetch(numbers, 10**9)
    assert next(items) == 0
    items.close()
    assert multiprocessing.active_children() == []
