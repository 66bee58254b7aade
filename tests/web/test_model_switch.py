"""Switching a node's embedding model, as deployed: real ``paperfeed`` processes on SQLite and
PostgreSQL, the stand-in models ``hashing`` (384 dimensions) and ``hashing-64``.

A node restarted with the new model keeps answering semantic searches exactly as before, from
the old model's vectors (embedding queries with the old model), until a worker has embedded
every paper with the new one; then its follower builds an index from the new vectors and the
node's answers are those of a node built from them. ``paperfeed status`` shows the switch's
progress; the old vectors can be dropped once no node searches them, not before.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from paperfeed.config import Settings
from paperfeed.ingest import ingest_file
from paperfeed.search import indexer
from paperfeed.search.embedder import HashingEmbedder
from paperfeed.web.app import create_app
from tests.conftest import FIXTURES
from tests.servers import free_port, serve_process
from tests.web.test_nodes import wait_for

PAPERS = FIXTURES / "arxiv-more-1-head300.jsonl"
QUERIES = ["hand gesture recognition", "graph neural networks", "protein structure"]
OLD, NEW = "hashing", "hashing-64"


def env_of(home: Path, url: str, model: str) -> dict[str, str]:
    return {**os.environ, "PAPERFEED_HOME": str(home), "PAPERFEED_DB": url,
            "PAPERFEED_EMBEDDING_MODEL": model, "COLUMNS": "200",
            "PAPERFEED_RATE_LIMITS": "false"}  # (the parallel searches below)  # fmt: skip


def run(
    home: Path, url: str, model: str, *args: str, ok: bool = True
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "paperfeed", *args]
    done = subprocess.run(
        command, env=env_of(home, url, model), capture_output=True, text=True, timeout=300
    )
    assert (done.returncode == 0) == ok, done.stdout + done.stderr
    return done


def serve(home: Path, url: str, model: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = serve_process(
        home / f"node-{model}.log", env_of(home, url, model), port, "--index-every", "0.3s"
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx.get(base + "/readyz", timeout=2).status_code == 200, 60, "node ready")
    return process, base


def answers(base: str) -> list[list[str]]:
    out = []
    for query in QUERIES:
        reply = httpx.get(
            base + "/api/v1/search",
            params={"q": query, "mode": "semantic", "limit": 20},
            timeout=30,
        )
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert not body.get("notes"), body["notes"]  # semantic search answered
        out.append([hit["id"] for hit in body["results"]])
    return out


def searched(home: Path, url: str, model: str) -> list[list[str]]:
    """A node built from ``model``'s stored vectors from the start, asked from the CLI."""
    run(home, url, model, "index", "--no-embed")
    out = []
    for query in QUERIES:
        done = run(home, url, model, "search", "--json", "--mode", "semantic", "-n", "20", query)
        out.append([hit["id"] for hit in json.loads(done.stdout)["results"]])
    return out


class Hammer:
    """Threads asking the node the first query by meaning until the block ends; every answer
    must be a whole one (old model's or new model's), never an error or a keyword fallback."""

    def __init__(self, base: str, threads: int = 3) -> None:
        self.base, self.seen = base, set[tuple[str, ...]]()
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._ask) for _ in range(threads)]

    def _ask(self) -> None:
        with httpx.Client(base_url=self.base, timeout=30) as client:
            while not self._stop.is_set():
                params = {"q": QUERIES[0], "mode": "semantic", "limit": 20}
                reply = client.get("/api/v1/search", params=params)
                if reply.status_code != 200 or reply.json().get("notes"):
                    self.errors.append(reply.text[:300])
                else:
                    self.seen.add(tuple(hit["id"] for hit in reply.json()["results"]))

    def __enter__(self) -> Hammer:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)
        assert not self.errors, self.errors[:3]


def stop(process: subprocess.Popen[bytes]) -> None:
    process.kill()
    process.wait(10)


def test_a_node_switches_models_without_losing_semantic_search(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    ingest_file(engine, "arxiv-snapshot", PAPERS)
    node, worker = tmp_path / "node", tmp_path / "worker"
    run(worker, db_url, OLD, "embed")
    run(node, db_url, OLD, "index", "--no-embed")
    process, base = serve(node, db_url, OLD)
    try:
        before = answers(base)
    finally:
        stop(process)
    assert all(before)

    process, base = serve(node, db_url, NEW)  # the node's setting changed
    try:
        assert answers(base) == before  # from the old vectors, queries by the old model
        time.sleep(1.5)  # several catch-ups: no switch without the new vectors
        assert answers(base) == before
        assert indexer.serving_model_name(node) == OLD
        status = run(worker, db_url, NEW, "status").stdout
        assert f"({OLD} → {NEW}): 0 of 300 papers have a vector by {NEW}" in status, status
        refused = run(worker, db_url, NEW, "vectors", "drop", OLD, ok=False)
        assert "wait until they have switched" in refused.stderr, refused.stderr

        with Hammer(base) as hammer:  # searches in parallel all through the switch
            run(worker, db_url, NEW, "embed")
            status = run(worker, db_url, NEW, "status").stdout
            assert "300 of 300 papers have a vector" in status or "Switching" not in status
            expected = searched(tmp_path / "reference", db_url, NEW)
            assert expected != before
            wait_for(lambda: answers(base) == expected, 30, "the node searches the new vectors")
            time.sleep(0.5)
        assert hammer.seen == {tuple(before[0]), tuple(expected[0])}, hammer.seen
        assert indexer.serving_model_name(node) == NEW
        wait_for(
            lambda: "Switching" not in run(worker, db_url, NEW, "status").stdout,
            10, "the node reports the new model",
        )  # fmt: skip
        dropped = run(worker, db_url, NEW, "vectors", "drop", OLD)
        assert f"Dropped 300 vectors by {OLD}" in dropped.stdout
        assert answers(base) == expected
    finally:
        stop(process)


def test_a_node_that_embeds_switches_by_itself(engine: Engine, db_url: str, tmp_path: Path) -> None:
    ingest_file(engine, "arxiv-snapshot", PAPERS)
    indexer.update(engine, tmp_path, HashingEmbedder())
    settings = Settings(home=tmp_path, db=db_url, base_url="http://testserver",
                        index_every="0.3s", embed=True, embedding_model=NEW)  # fmt: skip
    with TestClient(create_app(settings)) as client:
        body = client.get("/api/v1/search", params={"q": "protein", "mode": "semantic"}).json()
        assert body["results"] and not body["notes"]
        wait_for(lambda: indexer.serving_model_name(tmp_path) == NEW, 30, "the node switched")
        body = client.get("/api/v1/search", params={"q": "protein", "mode": "semantic"}).json()
        assert body["results"] and not body["notes"]
