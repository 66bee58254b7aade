"""``paperfeed init`` and ``paperfeed status``: create or upgrade the store, and look inside it."""

from __future__ import annotations

import typer
from rich.table import Table
from sqlalchemy import func, select

from paperfeed.cli.app import app, console, open_store, settings_of, shown_url
from paperfeed.models import Paper, PaperCategory
from paperfeed.store.ingest_runs import recent_runs
from paperfeed.store.migrate import current_revision, head_revision, upgrade


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the store, or apply the migrations it lacks (safe to run at every upgrade)."""
    settings = settings_of(ctx)
    settings.home.mkdir(parents=True, exist_ok=True)
    engine = open_store(settings, require_current=False)
    before = current_revision(engine)
    upgrade(engine)
    after = current_revision(engine)
    if before == after:
        console.print(f"Store {shown_url(settings)} is up to date (schema {after}).")
    else:
        console.print(f"Store {shown_url(settings)} migrated {before or 'from empty'} → {after}.")


@app.command()
def status(ctx: typer.Context) -> None:
    """Show where the store is, how many papers it holds per category, and the last imports."""
    settings = settings_of(ctx)
    engine = open_store(settings)
    with engine.connect() as conn:
        total = conn.scalar(select(func.count()).select_from(Paper)) or 0
        by_category = conn.execute(
            select(PaperCategory.category, func.count().label("n"))
            .group_by(PaperCategory.category)
            .order_by(func.count().desc(), PaperCategory.category)
            .limit(15)
        ).all()
    console.print(f"Store:  {shown_url(settings)} (schema {head_revision()})")
    console.print(f"Papers: {total:,}")
    if by_category:
        table = Table("category", "papers", title="Largest categories (cross-lists included)")
        for category, count in by_category:
            table.add_row(category, f"{count:,}")
        console.print(table)
    runs = recent_runs(engine)
    if runs:
        table = Table(
            "run",
            "source",
            "file",
            "status",
            "new",
            "updated",
            "unchanged",
            "bad",
            title="Last imports",
        )
        for run in runs:
            table.add_row(
                str(run.id), run.source, run.path.rsplit("/", 1)[-1], run.status,
                f"{run.new:,}", f"{run.updated:,}", f"{run.unchanged:,}", f"{run.bad:,}",
            )  # fmt: skip
        console.print(table)
