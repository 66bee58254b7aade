"""The polite client against a real local server: spacing, Retry-After, retries, clear errors."""

from __future__ import annotations

import email.utils
import time

import pytest

from paperfeed.sources.http import FetchError, PoliteClient, Politeness, retry_after
from tests.sources.replay import Replay, Reply


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after("7") == 7.0
    soon = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= (retry_after(soon) or 0) <= 31
    assert retry_after("soon-ish") is None and retry_after(None) is None


def test_requests_are_spaced_and_busy_answers_waited_out() -> None:
    replay = Replay()
    replay.add("/busy", None, Reply(b"wait", 503, {"Retry-After": "1"}), Reply(b"ok"))
    replay.add("/page", None, Reply(b"page"))
    waits: list[float] = []
    with (
        replay.running(),
        PoliteClient(Politeness(delay=0.5, retries=2, backoff=0), waits.append) as client,
    ):
        assert client.get(replay.url + "/page").content == b"page"
        assert client.get(replay.url + "/busy").content == b"ok"
    assert client.requests == 3
    assert any(abs(w - 1.0) < 0.01 for w in waits)  # what Retry-After asked for
    assert sum(1 for w in waits if 0.3 < w <= 0.5) >= 1  # the spacing between requests


def test_failures_say_what_and_where_and_4xx_are_not_retried() -> None:
    replay = Replay()
    replay.add("/gone", None, Reply(b"no", 404))
    replay.add("/broken", None, Reply(b"oops", 500))
    with replay.running(), PoliteClient(Politeness(delay=0, retries=2, backoff=0)) as client:
        with pytest.raises(FetchError, match="/gone: HTTP 404"):
            client.get(replay.url + "/gone")
        assert replay.requests.count("/gone") == 1
        with pytest.raises(FetchError, match="HTTP 500"):
            client.get(replay.url + "/broken")
        assert replay.requests.count("/broken") == 3
        with pytest.raises(FetchError, match="ConnectError"):
            client.get("http://127.0.0.1:9/nothing")
