"""``paperfeed embed`` (an embedding worker) and ``paperfeed vectors export|import``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy import Engine

from paperfeed.cli.app import app, console, fail, open_store, settings_of
from paperfeed.cli.search import load_embedder
from paperfeed.models import utc
from paperfeed.search import workers as embedding
from paperfeed.search.embedder import BUNDLED
from paperfeed.store.search_nodes import model_status, models_in_store, node_status
from paperfeed.store.vector_files import ParquetRefused, export_vectors, import_vectors

vectors_app = typer.Typer(help="Move stored vectors between installations (Parquet files).")
app.add_typer(vectors_app, name="vectors")


@app.command()
def embed(
    ctx: typer.Context,
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="Papers per claim.")] = 256,
    lease: Annotated[
        float,
        typer.Option(min=0.01, help="Minutes after which a dead worker's claim is taken over."),
    ] = 10.0,
) -> None:
    """Embed the papers that lack a vector by the current model and store the vectors: one
    worker (on PostgreSQL run as many as you like, on any machines; on SQLite one at a time)."""
    settings = settings_of(ctx)
    engine = open_store(settings)
    embedder = load_embedder(settings)
    with Progress(
        TextColumn("[bold]embedding"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(),
        console=console, transient=not console.is_terminal,
    ) as progress:  # fmt: skip
        task = progress.add_task("embedding", total=None, rate="")
        first: list[int] = []

        def show(done: int, waiting: int) -> None:
            # The bar is the whole backlog (every worker's share), so its ETA is the backlog's.
            if not first:
                first.append(waiting + done)
            total = max(first[0], done + waiting)
            elapsed = progress.tasks[task].elapsed or 0.0
            rate = f"{done / elapsed:,.1f} papers/s (this worker)" if elapsed else ""
            progress.update(task, completed=total - waiting, total=total, rate=rate)

        try:
            report = embedding.embed_backlog(
                engine, embedder, batch=batch, lease=dt.timedelta(minutes=lease), on_progress=show
            )
        except KeyboardInterrupt:
            fail("stopped; the papers this worker held are free for others again", 130)
    if report.embedded == 0 and report.unchanged == 0:
        console.print(f"Every paper has a vector by {embedder.name}: nothing to embed.")
        return
    console.print(
        f"Embedded {report.embedded:,} papers in {report.seconds:.1f} s "
        f"({report.rate:,.1f} papers/s, {embedder.name}); "
        f"{report.unchanged:,} changed without a new text kept their vectors."
    )


@vectors_app.command("export")
def export(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The Parquet file to write.")],
) -> None:
    """Write the stored vectors of the current model to a Parquet file."""
    engine = open_store(settings_of(ctx))
    count = export_vectors(engine, BUNDLED, file)
    console.print(f"Wrote {count:,} vectors by {BUNDLED.name} to {file}.")


@vectors_app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A Parquet file from `paperfeed vectors export`.")],
) -> None:
    """Store the vectors of a Parquet file (same model and size only) for the papers the store
    holds; papers whose text changed since are embedded again by the next worker."""
    engine = open_store(settings_of(ctx))
    if not file.is_file():
        fail(f"{file}: no such file")
    try:
        done = import_vectors(engine, BUNDLED, file)
    except ParquetRefused as error:
        fail(str(error))
    console.print(
        f"Imported {done.imported:,} vectors by {BUNDLED.name}; "
        f"{done.unknown:,} of papers not in this store skipped."
    )


def show_vector_status(engine: Engine) -> None:
    """Per model: papers with vectors, papers waiting, workers at work; then each node's lag
    (for ``paperfeed status`` and ``paperfeed check``)."""
    now = dt.datetime.now(dt.UTC)
    with engine.connect() as conn:
        models = sorted({BUNDLED.name, *models_in_store(conn)})
        states = [model_status(conn, model, now) for model in models]
        nodes = node_status(conn)
    table = Table("model", "papers with vectors", "waiting", "workers active", title="Vectors")
    for state in states:
        table.add_row(
            state.model, f"{state.with_vectors:,}", f"{state.waiting:,}", str(state.workers)
        )
    console.print(table)
    if not nodes:
        console.print("No node has reported its search index yet.")
        return
    table = Table("node", "model", "keyword lag (papers)", "vector lag (vectors)", "reported",
                  title="Search nodes")  # fmt: skip
    for node in nodes:
        age = (now - utc(node.reported_at)).total_seconds()
        table.add_row(node.name, node.model or "", f"{node.keyword_lag:,}", f"{node.vector_lag:,}",
                      f"{age:,.0f} s ago")  # fmt: skip
    console.print(table)
