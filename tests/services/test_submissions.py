"""Submitting an arXiv id takes over a stored paper of the same title that has no arXiv id."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import Engine, select

from paperfeed.ingest import ingest_file
from paperfeed.models import FeedEntry, Paper, Upvote
from paperfeed.services import votes
from paperfeed.services.accounts import Member, sign_up
from paperfeed.services.submissions import arxiv_fetcher, submit
from paperfeed.store.engine import write_transaction
from paperfeed.store.merges import merged_into
from tests.sources.replay import Replay
from tests.sync.conftest import recorded

NOW = dt.datetime(2026, 12, 7, 6, 0, tzinfo=dt.UTC)
# The title of 1707.08567 in the recorded arXiv API answer, as a lab's own listing might hold it.
LAB_COPY = {"id": "mylab:aew10", "published": "2017-08-01", "title": "Proceedings of Workshop AEW10: Concepts in Information Theory and Communications"}  # fmt: skip


def test_a_submission_by_id_merges_the_lab_copy(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "lab.jsonl").write_text(json.dumps(LAB_COPY) + "\n")
    ingest_file(engine, "jsonl", tmp_path / "lab.jsonl")
    with write_transaction(engine) as conn:
        alice = sign_up(conn, "alice@lab.org", "alice", "Alice", "a long enough password", NOW)
        votes.vote(conn, alice.id, LAB_COPY["id"], NOW)
    confirmed = Member(alice.id, alice.email, alice.handle, alice.name, True, False)
    server = Replay()
    server.add(
        "/api/query", {"id_list": "1707.08567"}, recorded("id_1707.08567_s0_m100_6a1afebfc6a3.json")
    )
    with server.running():
        fetch = arxiv_fetcher(server.url + "/api/query")
        done = submit(engine, confirmed, "1707.08567", NOW, fetch, per_day=5)

    assert done.paper_id == "1707.08567"
    with engine.connect() as conn:
        assert merged_into(conn, LAB_COPY["id"]) == "1707.08567"
        assert conn.scalar(select(Paper.upvotes).where(Paper.id == "1707.08567")) == 1
        assert conn.scalars(select(Upvote.paper_id)).all() == ["1707.08567"]
        assert conn.scalar(select(FeedEntry.paper_id)) == "1707.08567"
