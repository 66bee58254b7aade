"""A second node joins a PostgreSQL store that a worker embedded: real ``paperfeed`` processes.

The new node builds its index from the stored vectors: its ``paperfeed index --no-embed`` never
loads the model (its data directory gets no ONNX export, which loading makes), and nothing it
does writes a vector (a trigger in the store counts every write). Its keyword and semantic
results equal the first node's. A changed abstract, embedded again by a worker, reaches the
node's index by itself. (A serving node does load the model, for one thing: to embed the
words of a semantic query.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text

from paperfeed.ingest import ingest_file
from paperfeed.store.engine import make_engine
from paperfeed.store.migrate import upgrade
from tests.conftest import FIXTURES, new_postgres_database
from tests.search.test_workers import AUDIT, writes
from tests.servers import free_port, serve_process
from tests.web.test_nodes import wait_for

PAPERS = FIXTURES / "arxiv-more-1-head300.jsonl"
QUERIES = ["hand gesture recognition", "graph neural networks", "protein structure", "speech"]
CHANGED = "2503.12419"


def env_of(home: Path, url: str) -> dict[str, str]:
    return {**os.environ, "PAPERFEED_HOME": str(home), "PAPERFEED_DB": url, "COLUMNS": "200"}


def run(home: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "paperfeed", *args]
    done = subprocess.run(
        command, env=env_of(home, url), capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture
def embedded_store(tmp_path: Path, model_dir: Path) -> Iterator[tuple[str, Engine]]:
    with new_postgres_database() as url:
        engine = make_engine(url)
        upgrade(engine)
        ingest_file(engine, "arxiv-snapshot", PAPERS)
        worker = tmp_path / "worker"
        shutil.copytree(model_dir, worker / "models")
        run(worker, url, "embed")
        with engine.begin() as conn:
            conn.exec_driver_sql(AUDIT)  # counts the writes from here on
        yield url, engine
        engine.dispose()


def serve(home: Path, url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = serve_process(home / "node.log", env_of(home, url), port, "--index-every", "1s")
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx.get(base + "/", timeout=2).status_code == 200, 60, "node answers")
    return process, base


def results(base: str, query: str, mode: str) -> list[str]:
    answer = httpx.get(
        base + "/api/v1/search", params={"q": query, "mode": mode, "limit": 20}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert not body.get("notes"), body["notes"]  # (e.g. "semantic search is not available yet")
    return [hit["id"] for hit in body["results"]]


def test_a_second_node_searches_by_meaning_from_stored_vectors(
    embedded_store: tuple[str, Engine], tmp_path: Path, model_dir: Path
) -> None:
    url, engine = embedded_store
    nodes = []
    try:
        for name in ("a", "b"):
            home = tmp_path / name
            run(home, url, "index", "--no-embed")
            assert not (home / "models").exists()  # the model was never loaded to build it
            shutil.copytree(model_dir, home / "models")  # for the words of queries
            nodes.append(serve(home, url))
        (_, a), (_, b) = nodes
        for query in QUERIES:
            for mode in ("keyword", "semantic", "hybrid"):
                assert results(a, query, mode) == results(b, query, mode), (query, mode)
        assert results(b, "hand gesture recognition", "semantic")
        assert writes(engine) == {}  # neither node embedded a paper

        changed = tmp_path / "changed.jsonl"
        changed.write_text(json.dumps({"id": CHANGED, "title": "Zeolite catalysts",
                                       "abstract": "Zeolite catalysis in porous crystals."}) + "\n")  # fmt: skip
        ingest_file(engine, "jsonl", changed)
        run(tmp_path / "worker", url, "embed")
        assert writes(engine) == {CHANGED: ["UPDATE"]}  # a new vector, for that paper only
        wait_for(
            lambda: results(b, "porous crystal catalysis", "semantic")[:1] == [CHANGED],
            30, "node B's index follows the new vector",
        )  # fmt: skip
    finally:
        for process, _ in nodes:
            process.kill()
            process.wait(10)
    with engine.connect() as conn:
        nodes_seen = conn.scalar(text("SELECT count(*) FROM paper_vectors"))
    assert nodes_seen == 300
