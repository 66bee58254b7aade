"""Background jobs of a web node (index following, sync, digests): a daemon thread that runs
one action every few seconds until the server stops, and never lets the action's errors reach
the web server."""

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
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"paperfeed-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        if not self.first_now and self._stop.wait(self.every):
            return
        while True:
            try:
                self.action()
            except Exception:  # a background job must never take the web node down
                log.exception("background %s failed", self.name)
            if self._stop.wait(self.every):
                return
