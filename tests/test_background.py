"""Background jobs keep going when their action fails, and stop when asked."""

from __future__ import annotations

import threading

from paperfeed.background import BackgroundJob


def test_a_failing_action_does_not_end_the_job() -> None:
    calls: list[int] = []
    enough = threading.Event()

    def action() -> None:
        calls.append(1)
        if len(calls) >= 3:
            enough.set()
        raise RuntimeError("the provider is down")

    job = BackgroundJob("test", 0.01, action, first_now=True)
    job.start()
    assert enough.wait(5)
    job.stop()
    stopped_at = len(calls)
    assert not job._thread.is_alive() and len(calls) == stopped_at
