"""What every request shares: settings, the store's engine, templates, CSRF, and the search
indexes, reopened when ``paperfeed index`` has moved them on."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from paperfeed.config import Settings
from paperfeed.search.embedder import Embedder, UnknownModel, load_model
from paperfeed.search.hybrid import IndexMissing, PaperSearch
from paperfeed.search.indexer import IndexState, VectorModel, current_generation
from paperfeed.search.model_files import ModelMissing
from paperfeed.services.new_papers import NewPapers
from paperfeed.services.submissions import ArxivFetcher
from paperfeed.web.csrf import Csrf

RECHECK_SECONDS = 2.0
OPEN_TRIES = 3  # generations switched while a searcher was opening: open the newer one
RECENT_SECONDS = 60.0  # "For you" sees papers at most a minute after they are indexed


class SearchUnavailable(RuntimeError):
    """No index has been built yet; the message says what to run."""


class Site:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        embedder_factory: Callable[[], Embedder | None],
        model: VectorModel | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.csrf = Csrf(settings.signing_key())
        self._embedder_factory = embedder_factory
        self._model = model
        self._embedder: Embedder | None = None
        self._embedder_loaded = False
        #: During a switch of models: the old model, which embeds queries for the index
        #: until it holds the new model's vectors.
        self._previous: tuple[str, Embedder | None] | None = None
        self._search: PaperSearch | None = None
        self._opened: tuple[Path, float] | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()
        self._recent: dict[int, tuple[float, NewPapers]] = {}
        #: Wakes this node's outbox worker (``create_app`` sets it): called after a request has
        #: committed a mail to the outbox, so the mail goes out at once rather than next tick.
        self.mail_queued: Callable[[], None] = lambda: None
        #: How submissions and imports fetch unknown papers (the arXiv API; tests point it
        #: elsewhere): one fetcher for the node, made on first use (see :meth:`arxiv`).
        self.fetch_paper: ArxivFetcher | None = None

    def arxiv(self) -> ArxivFetcher:
        """The node's one arXiv client, which spaces every request from the last."""
        with self._lock:
            if self.fetch_paper is None:
                self.fetch_paper = ArxivFetcher(self.settings.arxiv_api_url)
            return self.fetch_paper

    def embedder(self) -> Embedder | None:
        """The model (loaded once, shared by searches and the background indexer)."""
        with self._lock:
            if not self._embedder_loaded:
                self._embedder = self._embedder_factory()
                self._embedder_loaded = True
            return self._embedder

    def vector_model(self) -> VectorModel | None:
        """The configured model (its name and size): the one the follower embeds with and
        the index follows, once its vectors cover the store."""
        return self._model or self.embedder()

    def _embedder_of(self, name: str | None) -> Embedder | None:
        """The embedder for queries on an index of ``name``'s vectors: the configured one, or
        during a switch of models the old one, loaded beside it until the index has switched
        (then let go). None when that model cannot be loaded: keyword search only."""
        if not self._embedder_loaded:
            self._embedder = self._embedder_factory()
            self._embedder_loaded = True
        configured = self._model.name if self._model else None
        if name is None or name in (configured, getattr(self._embedder, "name", None)):
            self._previous = None
            return self._embedder
        if self._previous is None or self._previous[0] != name:
            try:
                loaded = load_model(name, self.settings.home / "models", threads=1)
            except (UnknownModel, ModelMissing):
                loaded = None
            self._previous = (name, loaded)
        return self._previous[1]

    def search_or_none(self) -> PaperSearch | None:
        """The searcher, or None while there is no index (digests then skip saved searches)."""
        try:
            return self.search()
        except SearchUnavailable:
            return None

    def search(self) -> PaperSearch:
        """The searcher on the current index generation, reopened when the index changed."""
        now = time.monotonic()
        if self._search is not None and now - self._checked_at < RECHECK_SECONDS:
            return self._search
        with self._lock:
            self._checked_at = now
            for _ in range(OPEN_TRIES):
                folder = current_generation(self.settings.home)
                if folder is None:
                    raise SearchUnavailable("there is no search index yet: run `paperfeed index`")
                try:
                    search = self._open(folder)
                except (OSError, ValueError):
                    if current_generation(self.settings.home) == folder:
                        raise
                    continue  # the index switched generations (and removed this one) meanwhile
                if current_generation(self.settings.home) == folder:
                    return search
            raise SearchUnavailable("the search index is being switched: try again")

    def _open(self, folder: Path) -> PaperSearch:
        """The searcher on ``folder``, with the embedder of its vectors' model (reopened when
        its state changed)."""
        state = folder / "state.json"
        stamp = (folder, state.stat().st_mtime if state.exists() else 0.0)
        if self._search is None or stamp != self._opened:
            embedder = self._embedder_of(IndexState.load(folder).embedder)
            try:
                self._search = PaperSearch(self.settings.home, embedder, folder=folder)
            except IndexMissing as error:
                raise SearchUnavailable(str(error)) from None
            self._opened = stamp
        return self._search

    def recent(self, days: int) -> NewPapers:
        """The papers of the last ``days`` days with their vectors, for "For you"; shared by
        the node's requests and rebuilt at most every :data:`RECENT_SECONDS`."""
        now = time.monotonic()
        cached = self._recent.get(days)
        if cached is not None and now - cached[0] < RECENT_SECONDS:
            return cached[1]
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
        with self.engine.connect() as conn:
            papers = NewPapers(conn, self.search_or_none(), since)
        self._recent[days] = (now, papers)
        return papers
