"""``paperfeed backup`` and ``restore``: the SQLite store, consistent while the site runs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn
from sqlalchemy import make_url

from paperfeed.cli.app import app, console, fail, open_store, settings_of
from paperfeed.config import Settings
from paperfeed.store.backup import BackupError, backup, restore
from paperfeed.store.migrate import current_revision, upgrade


@app.command("backup")
def backup_command(
    ctx: typer.Context,
    target: Annotated[
        Path, typer.Argument(help="the new file to write, e.g. paperfeed-2026-11-25.db")
    ],
) -> None:
    """Copy the SQLite store to a new file, consistent even while the site and syncs write.
    (A PostgreSQL store is backed up with pg_dump.)"""
    store = _sqlite_path(settings_of(ctx))
    with _bar("backing up") as report:
        try:
            size = backup(store, target, report)
        except BackupError as error:
            fail(str(error))
    console.print(f"Backed up {store} to {target} ({size / 2**20:,.1f} MiB).")


@app.command("restore")
def restore_command(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="a file written by `paperfeed backup`")],
    yes: Annotated[
        bool, typer.Option("--yes", help="replace the current store without asking")
    ] = False,
) -> None:
    """Replace the SQLite store with a backup (stop the site first), then bring its schema up
    to date. The search index is rebuilt from it with `paperfeed index --rebuild`."""
    settings = settings_of(ctx)
    store = _sqlite_path(settings)
    if store.exists() and not yes:
        typer.confirm(f"Replace the store {store} with {source}?", abort=True)
    with _bar("restoring") as report:
        try:
            restore(source, store, report)
        except BackupError as error:
            fail(str(error))
    engine = open_store(settings, require_current=False)
    before = current_revision(engine)
    upgrade(engine)
    console.print(f"Restored {source} to {store} (schema {before} → {current_revision(engine)}). "
                  "Now run `paperfeed index --rebuild`.")  # fmt: skip


def _sqlite_path(settings: Settings) -> Path:
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        fail("the store is PostgreSQL: back it up with pg_dump (see docs/deploy.md)", code=2)
    return Path(url.database)


@contextmanager
def _bar(what: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar for a copy; yields the function the copy reports (pages done, total) to."""
    columns = (TextColumn(what), BarColumn(), TextColumn("{task.percentage:>3.0f}%"))
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("", total=None)
        yield lambda done, total: progress.update(task, completed=done, total=total)
