"""``paperfeed init``, ``status`` and ``delete``: create or upgrade the store, look inside it,
take papers out of it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import func, select

from paperfeed.arxiv_ids import canonical_paper_id
from paperfeed.cli.app import app, console, errors, open_store, settings_of, shown_url
from paperfeed.cli.vectors import show_vector_status
from paperfeed.models import Paper, PaperCategory
from paperfeed.store.engine import write_transaction
from paperfeed.store.ingest_runs import recent_runs
from paperfeed.store.migrate import current_revision, head_revision, upgrade
from paperfeed.store.papers import delete_papers
from paperfeed.store.sync_state import recent_runs as recent_syncs
from paperfeed.wording import count


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
    """Show where the store is, how many papers it holds per category, the last imports and syncs."""
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
    show_vector_status(engine, settings.embedding_model)
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
    syncs = recent_syncs(engine)
    if syncs:
        table = Table(
            "run", "source", "kind", "status", "started", "new", "updated", "skipped",
            "featured", "error", title="Last syncs",
        )  # fmt: skip
        for sync_run in syncs:
            table.add_row(
                str(sync_run.id), sync_run.source, sync_run.kind, sync_run.status,
                f"{sync_run.started_at:%Y-%m-%d %H:%M}", f"{sync_run.new:,}",
                f"{sync_run.updated:,}", f"{sync_run.bad:,}", f"{sync_run.featured:,}",
                (sync_run.error or "")[:60],
            )  # fmt: skip
        console.print(table)


@app.command()
def delete(
    ctx: typer.Context,
    paper_ids: Annotated[list[str], typer.Argument(help="Paper ids (arXiv ids or source:id).")],
) -> None:
    """Delete papers from the store; the next `paperfeed index` drops them from search too."""
    settings = settings_of(ctx)
    engine = open_store(settings)
    wanted = [canonical_paper_id(text) for text in paper_ids]
    with write_transaction(engine) as conn:
        deleted = delete_papers(conn, wanted, dt.datetime.now(dt.UTC))
    missing = [paper_id for paper_id in wanted if paper_id not in set(deleted)]
    if missing:
        errors.print(f"Not in the store: {', '.join(missing)}", highlight=False)
    if not deleted:
        errors.print("Nothing was deleted.", highlight=False)
        raise typer.Exit(1)
    console.print(
        f"Deleted {count(len(deleted), 'paper')}. Run `paperfeed index` to remove "
        f"{'it' if len(deleted) == 1 else 'them'} from search."
    )
