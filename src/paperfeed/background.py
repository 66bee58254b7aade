"""Background jobs of a web node (index following, sync, digests, the mail outbox): a daemon
thread that runs one action every few seconds until the server stops, and never lets the
action's errors reach the web server. :meth:`BackgroundJob.wake` runs it at once (a request
that queued a mail need not wait for the next tick)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("paperfeed.background")


class BackgroundJob:
    def __init__(
        self, name: str, every: float, action: Callable[[], object], first_now: bool = False
    ) -> None:
        self.name, self.every, self.action, self.first_now = name, every, action, first_now
        self._stopping = False
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"paperfeed-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """Run the action now rather than at the next tick (cheap: it only sets an event)."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout=30)

    def _pause(self) -> bool:
        """Wait for the next tick or a wake-up; True when the job is to stop."""
        self._wake.wait(self.every)
        self._wake.clear()
        return self._stopping

    def _run(self) -> None:
        if not self.first_now and self._pause():
            return
        while True:
            try:
                self.action()
            except Exception:  # a background job must never take the web node down
                log.exception("background %s failed", self.name)
            if self._pause():
                return
