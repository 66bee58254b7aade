"""Migrations: they build the schema the models describe, on both databases, and know their state."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from paperfeed.models import Base
from paperfeed.store.engine import make_engine
from paperfeed.store.migrate import (
    StoreNotReady,
    current_revision,
    ensure_current,
    head_revision,
    upgrade,
)


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_is_idempotent_and_reaches_head(engine: Engine) -> None:
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    ensure_current(engine)
    tables = set(inspect(engine).get_table_names())
    assert {
        "papers",
        "authors",
        "paper_authors",
        "paper_categories",
        "paper_sources",
        "organizations",
        "ingest_runs",
    } <= tables


def test_an_empty_store_is_refused_with_the_command_that_fixes_it(db_url: str) -> None:
    engine = make_engine(db_url)
    with pytest.raises(StoreNotReady, match="run `paperfeed init` first"):
        ensure_current(engine)
    engine.dispose()


def test_0019_and_0020_key_the_titles_of_stored_papers(db_url: str) -> None:
    """A store made before merges existed: its captured papers get a title key (arXiv papers
    none), so the next arXiv import finds them."""
    from sqlalchemy import text

    from paperfeed.normalize import title_key

    engine = make_engine(db_url)
    upgrade(engine, "0018")
    with engine.begin() as conn:
        for paper_id in ("dailypapers:mist", "2511.00001"):
            conn.execute(
                text(
                    "INSERT INTO papers (id, title, abstract, created_at, updated_at) "
                    "VALUES (:id, 'MIST: Mutual Information Via Supervised Training', '', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"id": paper_id},
            )
    upgrade(engine, "0019")
    keys_at_0019 = _title_keys(engine)
    upgrade(engine)
    keys_at_head = _title_keys(engine)
    engine.dispose()

    key = title_key("MIST: Mutual Information Via Supervised Training")
    assert keys_at_0019 == {"dailypapers:mist": key, "2511.00001": None}
    # 0020 keys the arXiv papers too, so a capture imported after its arXiv twin finds it.
    assert keys_at_head == {"dailypapers:mist": key, "2511.00001": key}


def _title_keys(engine: Engine) -> dict[str, str | None]:
    from sqlalchemy import text

    with engine.connect() as conn:
        return {
            row.id: row.title_key for row in conn.execute(text("SELECT id, title_key FROM papers"))
        }
