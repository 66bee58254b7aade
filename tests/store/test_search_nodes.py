"""What ``paperfeed status`` shows per model (papers with vectors, waiting, workers at work)
and per node (how far behind the store its index is), from the store alone."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select

from paperfeed.cli import vectors as vectors_cli
from paperfeed.cli.vectors import show_vector_status
from paperfeed.models import PaperVector
from paperfeed.search.embedder import HashingEmbedder
from paperfeed.search.workers import embed_backlog
from paperfeed.store.engine import write_transaction
from paperfeed.store.search_nodes import model_status, node_status, report_node
from paperfeed.store.vectors import claim, enqueue_stale
from tests.store.test_vectors import store

NOW = dt.datetime(2026, 6, 1, 13, 0, tzinfo=dt.UTC)


def test_status_counts_vectors_waiting_papers_workers_and_each_nodes_lag(engine: Engine) -> None:
    store(engine, [(f"2606.{n:05d}", f"Paper {n}", "An abstract.") for n in range(5)])
    with engine.connect() as conn:
        empty = model_status(conn, "hashing", NOW)
    assert (empty.papers, empty.with_vectors, empty.waiting, empty.workers) == (5, 0, 5, 0)

    embed_backlog(engine, HashingEmbedder())
    store(engine, [(f"2607.{n:05d}", f"Later {n}", "") for n in range(2)], NOW)
    with write_transaction(engine) as conn:
        enqueue_stale(conn, "hashing")
        claim(conn, "hashing", "worker-1", NOW, dt.timedelta(minutes=5), 1)
    with engine.connect() as conn:
        now = model_status(conn, "hashing", NOW)
        written = sorted(conn.scalars(select(PaperVector.created_at)))
    assert (now.papers, now.with_vectors, now.waiting, now.workers) == (7, 5, 2, 1)

    report_node(engine, "node-a", "hashing", NOW, written[-1], NOW)  # has every vector
    report_node(engine, "node-b", "hashing", None, None, NOW)  # has nothing yet
    report_node(engine, "node-b", "hashing", None, written[1], NOW)  # reports again: one row
    with engine.connect() as conn:
        nodes = {node.name: node for node in node_status(conn)}
    assert set(nodes) == {"node-a", "node-b"}
    assert (nodes["node-a"].keyword_lag, nodes["node-a"].vector_lag) == (0, 0)
    assert nodes["node-b"].keyword_lag == 7 and nodes["node-b"].vector_lag == sum(
        1 for stamp in written if stamp > written[1]
    )


def test_status_marks_a_node_silent_for_ten_minutes_as_stopped(
    engine: Engine, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = dt.datetime.now(dt.UTC)
    report_node(engine, "node-live", "hashing", None, None, now - dt.timedelta(seconds=20))
    report_node(engine, "node-gone", "hashing", None, None, now - dt.timedelta(minutes=11))
    monkeypatch.setattr(vectors_cli.console, "width", 200)  # (a narrow terminal wraps the rows)
    show_vector_status(engine, "hashing")
    rows = {
        line.split()[1]: line for line in capsys.readouterr().out.splitlines() if "node-" in line
    }
    assert "stopped?" in rows["node-gone"] and "stopped?" not in rows["node-live"]
