"""Cards: a page of papers in a fixed number of queries, authors and categories kept per
process but never stale."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from paperfeed.normalize import normalise
from paperfeed.services.cards import SHOWN_NAME, authors_line, load_cards
from paperfeed.sources.record import PaperRecord
from paperfeed.store.engine import make_engine, write_transaction
from paperfeed.store.migrate import upgrade
from paperfeed.store.papers import upsert_papers
from tests.conftest import FIXTURES

T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def paper(n: int, authors: list[str], categories: list[str]) -> PaperRecord:
    return normalise(
        PaperRecord(id=f"2606.{n:05d}", title=f"Paper {n}", authors=authors, categories=categories)
    )


@contextmanager
def selects(engine: Engine) -> Iterator[list[str]]:
    """The SELECT statements run on ``engine`` inside the block."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        if args[2].lstrip().upper().startswith("SELECT"):
            seen.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_cards_cost_two_queries_then_one_and_show_fresh_counters(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        records = [paper(n, [f"Author {n}", "B. Second"], ["cs.LG"]) for n in range(3)]
        upsert_papers(conn, records, "t", T0)
    ids = ["2606.00002", "2606.00000", "2606.00001"]
    with engine.connect() as conn, selects(engine) as seen:
        first = load_cards(conn, ids)
    assert [c.id for c in first] == ids
    assert first[0].authors == ["Author 2", "B. Second"] and first[0].categories == ["cs.LG"]
    assert len(seen) == 2  # the papers, then their authors and categories together

    with write_transaction(engine) as conn:  # a vote moves the counter, not updated_at
        conn.exec_driver_sql("UPDATE papers SET upvotes = 7 WHERE id = '2606.00000'")
    with engine.connect() as conn, selects(engine) as seen:
        again = load_cards(conn, ids)
    assert len(seen) == 1
    assert [c.authors for c in again] == [c.authors for c in first]
    assert again[1].upvotes == 7


def test_a_changed_paper_is_read_afresh(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        upsert_papers(conn, [paper(1, ["Old Author"], ["cs.LG"])], "t", T0)
    with engine.connect() as conn:
        assert load_cards(conn, ["2606.00001"])[0].authors == ["Old Author"]
    with write_transaction(engine) as conn:
        later = T0 + dt.timedelta(seconds=1)
        upsert_papers(conn, [paper(1, ["New Author", "Other"], ["cs.CL"])], "t", later)
    with engine.connect() as conn:
        card = load_cards(conn, ["2606.00001"])[0]
    assert card.authors == ["New Author", "Other"] and card.categories == ["cs.CL"]


def test_cards_of_one_store_are_not_shown_for_another(engine: Engine, tmp_path: Path) -> None:
    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    upgrade(other)
    for store, name in ((engine, "Here"), (other, "There")):
        with write_transaction(store) as conn:
            upsert_papers(conn, [paper(1, [name], ["cs.LG"])], "t", T0)  # the same id and time
    with engine.connect() as conn:
        assert load_cards(conn, ["2606.00001"])[0].authors == ["Here"]
    with other.connect() as conn:
        assert load_cards(conn, ["2606.00001"])[0].authors == ["There"]
    other.dispose()


def test_cards_name_up_to_three_authors_and_count_more() -> None:
    assert authors_line([]) == ""
    assert authors_line(["A. One", "B. Two", "C. Three"]) == "A. One, B. Two, C. Three"
    assert authors_line(["A", "B", "C", "D"]) == "4 authors"


def test_a_long_name_is_cut_where_a_card_shows_it() -> None:
    name = json.loads((FIXTURES / "arxiv-2506.02197.jsonl").read_text())["authors"].split(", ")[3]
    assert len(name) > 400  # the real record's run-together name
    line = authors_line(["Marcos V. Conde", name])
    assert line.startswith("Marcos V. Conde, Xiangyu Kongand") and line.endswith("…")
    assert len(line) == len("Marcos V. Conde, ") + SHOWN_NAME
