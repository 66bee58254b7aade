"""Vectors in the store: written once per paper and model, renewed when the embedded text
changes, gone with their paper, checked for size at every read; the queue's claims and leases."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import OperationalError

from paperfeed.models import PaperKeyphrases, PaperVector
from paperfeed.normalize import normalise
from paperfeed.search import workers
from paperfeed.search.embedder import HashingEmbedder
from paperfeed.search.workers import EmbedReport, _embed_claimed, embed_backlog
from paperfeed.sources.record import PaperRecord
from paperfeed.store.engine import write_transaction
from paperfeed.store.papers import delete_papers, upsert_papers
from paperfeed.store.vectors import (
    Embedded,
    WrongModel,
    claim,
    complete,
    encode,
    enqueue_stale,
    vectors_since,
)

T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
MODEL = HashingEmbedder()


def store(engine: Engine, papers: list[tuple[str, str, str]], at: dt.datetime = T0) -> None:
    records = [
        normalise(PaperRecord(id=i, title=t, abstract=a, authors=["A. Author"]))
        for i, t, a in papers
    ]
    with write_transaction(engine) as conn:
        upsert_papers(conn, records, "jsonl", at)


def stored(engine: Engine) -> dict[str, tuple[bytes, dt.datetime]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(PaperVector.paper_id, PaperVector.vector, PaperVector.created_at)
        )
        return {row[0]: (bytes(row[1]), row[2]) for row in rows}


def test_each_paper_gets_one_vector_a_changed_text_a_new_one_a_deleted_paper_none(
    engine: Engine,
) -> None:
    store(engine, [("2606.00001", "Graph networks", "On graphs."), ("2606.00002", "Sparse", "")])
    assert embed_backlog(engine, MODEL).embedded == 2
    first = stored(engine)
    expected = MODEL.embed_documents(["Graph networks. On graphs."])[0]
    assert first["2606.00001"][0] == encode(expected)
    assert embed_backlog(engine, MODEL).embedded == 0  # nothing lacks a vector

    later = T0 + dt.timedelta(minutes=1)
    store(engine, [("2606.00001", "Graph networks", "On graphs and trees.")], later)
    assert embed_backlog(engine, MODEL).embedded == 1
    second = stored(engine)
    assert second["2606.00001"][0] == encode(
        MODEL.embed_documents(["Graph networks. On graphs and trees."])[0]
    )
    assert second["2606.00002"] == first["2606.00002"]

    with write_transaction(engine) as conn:
        delete_papers(conn, ["2606.00002"], later)
    assert set(stored(engine)) == {"2606.00001"}


def test_a_change_that_leaves_the_text_alone_keeps_the_vector(engine: Engine) -> None:
    store(engine, [("2606.00001", "Graph networks", "On graphs.")])
    embed_backlog(engine, MODEL)
    before = stored(engine)
    records = [normalise(PaperRecord(id="2606.00001", title="Graph networks",
                                     abstract="On graphs.", authors=["B. Other"]))]  # fmt: skip
    with write_transaction(engine) as conn:
        upsert_papers(conn, records, "jsonl", T0 + dt.timedelta(minutes=1))
    report = embed_backlog(engine, MODEL)
    assert (report.embedded, report.unchanged) == (0, 1)
    assert stored(engine) == before  # same vector, same cursor position: nodes have nothing to do


def test_a_vector_of_another_size_is_refused_when_read(engine: Engine) -> None:
    store(engine, [("2606.00001", "Graph networks", "On graphs.")])
    with write_transaction(engine) as conn:
        conn.execute(insert(PaperVector).values(
            paper_id="2606.00001", model="hashing", dimensions=8, vector=encode(np.ones(8)),
            text_hash="", paper_updated_at=T0, created_at=T0,
        ))  # fmt: skip
    with engine.connect() as conn, pytest.raises(WrongModel, match="8 dimensions, not 384"):
        vectors_since(conn, "hashing", 384, None, 10)
    with engine.connect() as conn:
        assert vectors_since(conn, "other-model", 384, None, 10) == []


def test_a_claim_is_taken_over_only_after_its_lease(engine: Engine) -> None:
    store(engine, [(f"2606.{n:05d}", f"Paper {n}", "") for n in range(3)])
    lease = dt.timedelta(minutes=1)
    with write_transaction(engine) as conn:
        assert enqueue_stale(conn, "hashing") == 3
        assert enqueue_stale(conn, "hashing") == 0  # queued once
        mine = claim(conn, "hashing", "a", T0, lease, 10)
        assert len(mine) == 3
        assert claim(conn, "hashing", "b", T0 + dt.timedelta(seconds=59), lease, 10) == []
        taken = claim(conn, "hashing", "b", T0 + dt.timedelta(seconds=61), lease, 2)
    assert len(taken) == 2
    done = [Embedded(p, "h", T0, np.ones(384, dtype=np.float32)) for p in mine]
    with write_transaction(engine) as conn:  # "a" comes back late: only its untaken job is its
        assert len(complete(conn, "hashing", 384, "a", done, T0)) == 1
    assert set(stored(engine)) == set(mine) - set(taken)


def test_a_worker_whose_lease_passed_counts_and_writes_nothing_of_the_taken_papers(
    engine: Engine,
) -> None:
    """A worker paused past its lease (SIGSTOP, a long GC) comes back after another took its
    papers: it writes neither their vectors nor their keyphrases, and does not report them as
    embedded (two workers' reports once added up to more papers than the store held)."""
    store(engine, [(f"2606.{n:05d}", f"Paper {n} on graphs", "Graph networks.") for n in range(4)])
    lease = dt.timedelta(seconds=1)
    with write_transaction(engine) as conn:
        enqueue_stale(conn, MODEL.name)
        mine = claim(conn, MODEL.name, "slow", dt.datetime.now(dt.UTC) - 2 * lease, lease, 10)
    assert len(mine) == 4
    other = embed_backlog(engine, MODEL, lease=lease)  # takes them over: the lease has passed
    assert other.embedded == 4
    before = stored(engine)
    with engine.connect() as conn:
        phrases = list(conn.execute(select(PaperKeyphrases.paper_id, PaperKeyphrases.computed_at)))
    assert phrases  # the other worker wrote them: the late one must not again
    late = EmbedReport()
    _embed_claimed(engine, MODEL, "slow", mine, late)
    assert (late.embedded, late.unchanged) == (0, 0)
    assert stored(engine) == before
    with engine.connect() as conn:
        assert (
            list(conn.execute(select(PaperKeyphrases.paper_id, PaperKeyphrases.computed_at)))
            == phrases
        )


def test_a_worker_waits_out_a_store_that_stopped_answering(monkeypatch: pytest.MonkeyPatch) -> None:
    """A PostgreSQL restart: each step of a worker is tried again (pauses of 1, 2, 4 s …)
    until the store answers, for up to ``STORE_PATIENCE``; then the error is the worker's."""
    pauses: list[float] = []
    monkeypatch.setattr(workers.time, "sleep", pauses.append)
    failures = iter([OperationalError("SELECT 1", {}, Exception("connection refused"))] * 3)

    def step() -> str:
        for failure in failures:
            raise failure
        return "done"

    assert workers._patiently(step) == "done" and pauses == [1.0, 2.0, 4.0]
    monkeypatch.setattr(workers, "STORE_PATIENCE", dt.timedelta(seconds=0))

    def down() -> str:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    with pytest.raises(OperationalError):
        workers._patiently(down)
