"""Featuring papers on days, and counters raised by imports, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select

from paperfeed.ingest import ingest_file
from paperfeed.ingest_daily import ingest_daily_papers
from paperfeed.models import FeedEntry, Paper
from paperfeed.store.engine import write_transaction
from paperfeed.store.feed import PaperNotFound, feature, listed_paper_ids, raise_counts
from tests.conftest import FIXTURES

NOW = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
DAILY = FIXTURES / "hf_daily_papers" / "daily_papers_limit30_2026-06-13.json"


def test_a_paper_is_on_one_day_and_rules_never_move_it(engine: Engine) -> None:
    ingest_file(engine, "arxiv-snapshot", FIXTURES / "arxiv-more-1-head300.jsonl")
    first, second = dt.date(2026, 6, 9), dt.date(2026, 6, 10)
    with write_transaction(engine) as conn:
        assert feature(conn, "1904.11093", first, NOW, "alice").outcome == "featured"
        assert feature(conn, "1904.11093", first, NOW, "bob").outcome == "already"
        kept = feature(conn, "1904.11093", second, NOW, "rule", move=False)
        assert (kept.outcome, kept.day) == ("already", first)
        moved = feature(conn, "1904.11093", second, NOW, "carol")
        assert (moved.outcome, moved.previous_day) == ("moved", first)
        with pytest.raises(PaperNotFound):
            feature(conn, "2412.99999", first, NOW)
    with engine.connect() as conn:
        rows = conn.execute(select(FeedEntry.paper_id, FeedEntry.day, FeedEntry.submitter)).all()
    assert [tuple(r) for r in rows] == [("1904.11093", second, "carol")]


def test_counts_from_imports_only_go_up(engine: Engine) -> None:
    ingest_file(engine, "arxiv-snapshot", FIXTURES / "arxiv-more-1-head300.jsonl")
    with write_transaction(engine) as conn:
        raise_counts(conn, "1904.11093", 7, 2)
        raise_counts(conn, "1904.11093", 3, 5)
    with engine.connect() as conn:
        counts = conn.execute(
            select(Paper.upvotes, Paper.num_comments).where(Paper.id == "1904.11093")
        ).one()
    assert tuple(counts) == (7, 5)


def test_importing_a_daily_list_twice_changes_nothing(engine: Engine) -> None:
    first = ingest_daily_papers(engine, DAILY)
    assert (first.papers.new, first.featured, first.days) == (30, 30, {dt.date(2026, 6, 12)})
    again = ingest_daily_papers(engine, DAILY)
    assert (again.papers.unchanged, again.featured, again.already) == (30, 0, 30)


def test_listed_papers_by_day_category_and_code(engine: Engine) -> None:
    ingest_file(engine, "arxiv-snapshot", FIXTURES / "arxiv-more-1-head300.jsonl")
    with engine.connect() as conn:
        days = conn.scalars(select(Paper.listed_on).where(Paper.listed_on.is_not(None))).all()
        day = max(set(days), key=days.count)
        every = listed_paper_ids(conn, day, ["cs.CV", "cs.CL", "cs.AI"])
        coded = listed_paper_ids(conn, day, ["cs.CV", "cs.CL", "cs.AI"], with_code=True)
        listed = conn.scalars(select(Paper.id).where(Paper.listed_on == day)).all()
        with_code = conn.scalars(
            select(Paper.id).where(Paper.listed_on == day, Paper.code_url.is_not(None))
        ).all()
    assert every and set(every) <= set(listed)
    assert set(coded) == set(every) & set(with_code)
