"""Bring a store's schema up to date with the Alembic migrations shipped in the package.

``paperfeed init`` calls :func:`upgrade`; it is safe to run on every start and on every upgrade
of the package, since Alembic applies only the migrations a database has not seen.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from paperfeed.store.engine import write_transaction

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration the database lacks, in one transaction where the database allows."""
    config = alembic_config()
    with write_transaction(engine) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for a database never initialised."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


class StoreNotReady(RuntimeError):
    """The store is missing tables or migrations; the message says which command fixes it."""


def ensure_current(engine: Engine) -> None:
    """Refuse to work on a store that ``paperfeed init`` has not brought up to date."""
    current, head = current_revision(engine), head_revision()
    if current is None:
        raise StoreNotReady("the store is not initialised: run `paperfeed init` first")
    if current != head:
        raise StoreNotReady(
            f"the store is at schema {current}, this paperfeed needs {head}: run `paperfeed init`"
        )
