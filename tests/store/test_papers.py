"""Batch upserts and the change cursor the search indexer follows."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from paperfeed.normalize import normalise
from paperfeed.sources.record import PaperRecord
from paperfeed.store.engine import write_transaction
from paperfeed.store.papers import changed_since, slugify, upsert_papers

T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def record(n: int, title: str = "A paper") -> PaperRecord:
    return normalise(
        PaperRecord(
            id=f"2606.{n:05d}", title=f"{title} {n}", authors=["A. Author"], categories=["cs.LG"]
        )
    )


def all_changes(engine: Engine, cursor: tuple[dt.datetime, str] | None, page: int) -> list[str]:
    ids: list[str] = []
    with engine.connect() as conn:
        while rows := changed_since(conn, cursor, page):
            ids += [paper_id for paper_id, _ in rows]
            cursor = (rows[-1][1], rows[-1][0])
    return ids


def test_change_cursor_pages_through_every_change_once(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        upsert_papers(conn, [record(n) for n in range(7)], "jsonl", T0)
    with write_transaction(engine) as conn:
        upsert_papers(
            conn, [record(n) for n in range(7, 10)], "jsonl", T0 + dt.timedelta(seconds=1)
        )

    assert all_changes(engine, None, page=3) == [f"2606.{n:05d}" for n in range(10)]


def test_only_changed_papers_move_past_the_cursor(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        upsert_papers(conn, [record(n) for n in range(5)], "jsonl", T0)
    with engine.connect() as conn:
        last_id, last_at = changed_since(conn, None, 100)[-1]

    later = T0 + dt.timedelta(minutes=5)
    with write_transaction(engine) as conn:
        counts = upsert_papers(conn, [record(1, "Renamed"), record(2), record(3)], "jsonl", later)

    assert (counts.new, counts.updated, counts.unchanged) == (0, 1, 2)
    assert all_changes(engine, (last_at, last_id), page=10) == ["2606.00001"]


def test_slugs() -> None:
    assert slugify("NAVER AI Lab") == "naver-ai-lab"
    assert (
        slugify("École Polytechnique Fédérale de Lausanne")
        == "ecole-polytechnique-federale-de-lausanne"
    )
    assert slugify("北京大学").startswith("org-")
    assert slugify("北京大学") != slugify("清华大学")
