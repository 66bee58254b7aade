"""A small real corpus, indexed, with the deterministic stand-in embedder or the real model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from paperfeed.ingest import ingest_file
from paperfeed.search import indexer
from paperfeed.search.embedder import HashingEmbedder
from tests.conftest import FIXTURES


@pytest.fixture
def indexed_home(engine: Engine, tmp_path: Path) -> Iterator[Path]:
    """A data directory whose index holds 300 real cs papers (hashing vectors)."""
    ingest_file(engine, "arxiv-snapshot", FIXTURES / "arxiv-more-1-head300.jsonl")
    indexer.update(engine, tmp_path, HashingEmbedder())
    yield tmp_path
