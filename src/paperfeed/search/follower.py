"""A web node's background index follower: every few seconds, the papers the store gained,
changed or lost since the last look are indexed, so what one node (or `paperfeed sync`, or a
member's submission) adds is searchable on every node within seconds."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from paperfeed.search.embedder import Embedder
from paperfeed.search.indexer import follow_if_free

log = logging.getLogger("paperfeed.index")


class IndexFollower:
    def __init__(
        self, engine: Engine, home: Path, embedder: Callable[[], Embedder | None], every: float
    ) -> None:
        self.engine, self.home, self.embedder, self.every = engine, home, embedder, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="paperfeed-index", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                embedder = self.embedder()
                if embedder is not None:
                    follow_if_free(self.engine, self.home, embedder)
            except Exception:  # the web node must go on serving whatever happens here
                log.exception("background indexing failed")
