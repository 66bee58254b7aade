"""``paperfeed embed`` (an embedding worker) and ``paperfeed vectors export|import|drop``."""

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
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import InterfaceError, OperationalError

from paperfeed.cli.app import app, console, fail, open_store, settings_of
from paperfeed.cli.search import configured_model, load_embedder
from paperfeed.models import Paper, utc
from paperfeed.search import workers as embedding
from paperfeed.store.engine import outage_reason, write_transaction
from paperfeed.store.search_nodes import (
    NodeStatus,
    model_status,
    models_in_store,
    node_status,
    nodes_serving,
)
from paperfeed.store.vector_files import ParquetRefused, export_vectors, import_vectors
from paperfeed.store.vectors import drop_model, papers_lacking, written_since
from paperfeed.wording import count

#: A node that has not reported for this long is taken to be stopped (a live one reports at
#: least every half minute after catching up).
NODE_GONE = dt.timedelta(minutes=10)
#: The workers' pace for the ETA of a switch of models: vectors written over this window.
RATE_WINDOW = dt.timedelta(minutes=5)

vectors_app = typer.Typer(
    help="Stored vectors: move them between installations (Parquet files), drop an old model's."
)
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
        except (OperationalError, InterfaceError) as error:
            fail(f"the store stopped answering for {embedding.STORE_PATIENCE.total_seconds() / 60:.0f} "
                 f"minutes ({outage_reason(error)}); the papers this worker held come free after their lease")  # fmt: skip
    if report.embedded == 0 and report.unchanged == 0:
        console.print(f"Every paper has a vector by {embedder.name}: nothing to embed.")
        return
    console.print(
        f"Embedded {count(report.embedded, 'paper')} in {report.seconds:.1f} s "
        f"({report.rate:,.1f} papers/s, {embedder.name}); "
        f"{report.unchanged:,} changed without a new text kept their vectors."
    )


@vectors_app.command("export")
def export(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The Parquet file to write.")],
) -> None:
    """Write the stored vectors of the configured model to a Parquet file."""
    settings = settings_of(ctx)
    model = configured_model(settings)
    engine = open_store(settings)
    try:
        written = export_vectors(engine, model, file)
    except ParquetRefused as error:
        fail(str(error))
    console.print(f"Wrote {written:,} vectors by {model.name} to {file}.")


@vectors_app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A Parquet file from `paperfeed vectors export`.")],
) -> None:
    """Store the vectors of a Parquet file (same model and size only) for the papers the store
    holds; papers whose text changed since are embedded again by the next worker."""
    settings = settings_of(ctx)
    model = configured_model(settings)
    engine = open_store(settings)
    try:
        done = import_vectors(engine, model, file)
    except ParquetRefused as error:
        fail(str(error))
    except OSError as error:  # a name too long, a folder not readable
        fail(f"cannot read {file}: {error.strerror or error}")
    skipped = f"; {count(done.unknown, 'paper')} not in this store skipped" if done.unknown else ""
    console.print(f"Imported {done.imported:,} vectors by {model.name}{skipped}.")


@vectors_app.command("drop")
def drop(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="The model whose vectors to delete.")],
) -> None:
    """Delete a model's stored vectors, after a switch of models: refused for the configured
    model, and while a node has reported searching its vectors in the last 10 minutes."""
    settings = settings_of(ctx)
    if model == settings.embedding_model:
        fail(f"{model} is the configured model (--model, PAPERFEED_EMBEDDING_MODEL): its "
             "vectors are the ones in use")  # fmt: skip
    engine = open_store(settings)
    since, dropped = dt.datetime.now(dt.UTC) - NODE_GONE, 0
    with write_transaction(engine) as conn:
        serving = nodes_serving(conn, model, since)
        if not serving:
            dropped = drop_model(conn, model)
    if serving:
        fail(f"{', '.join(serving)} searched {model}'s vectors in the last "
             f"{NODE_GONE.total_seconds() / 60:.0f} minutes: wait until they have switched "
             "(`paperfeed status`) or are stopped")  # fmt: skip
    if not dropped:
        console.print(f"The store holds no vectors by {model}: nothing to drop.")
        return
    console.print(f"Dropped {dropped:,} vectors by {model}.")


def show_vector_status(engine: Engine, configured: str) -> None:
    """Per model: papers with vectors, papers waiting, workers at work; a switch of models'
    progress; then each node's lag (for ``paperfeed status`` and ``paperfeed check``)."""
    now = dt.datetime.now(dt.UTC)
    with engine.connect() as conn:
        models = sorted({configured, *models_in_store(conn)})
        states = [model_status(conn, model, now) for model in models]
        nodes = node_status(conn)
        switch = switch_progress(conn, configured, nodes, now)
    table = Table("model", "papers with vectors", "waiting", "workers active", title="Vectors")
    for state in states:
        table.add_row(
            state.model, f"{state.with_vectors:,}", f"{state.waiting:,}", str(state.workers)
        )
    console.print(table)
    if switch:
        console.print(switch)
    if not nodes:
        console.print("No node has reported its search index yet.")
        return
    table = Table("node", "model", "keyword lag (papers)", "vector lag (vectors)", "reported",
                  title="Search nodes")  # fmt: skip
    for node in nodes:
        age = now - utc(node.reported_at)
        # A node reports at least every half minute: one silent for longer has stopped (or
        # lost the store), and its lags are as they were then.
        reported = f"{age.total_seconds():,.0f} s ago" + (", stopped?" if age > NODE_GONE else "")
        table.add_row(node.name, node.model or "", f"{node.keyword_lag:,}", f"{node.vector_lag:,}",
                      reported)  # fmt: skip
    console.print(table)


def switch_progress(
    conn: Connection, configured: str, nodes: list[NodeStatus], now: dt.datetime
) -> str | None:
    """How far the switch to the configured model is, when a node searches another model's
    vectors (None otherwise): papers with a vector by the new model, and the time left at the
    workers' pace of the last minutes."""
    old = sorted({node.model for node in nodes if node.model and node.model != configured})
    if not old:
        return None
    papers = int(conn.scalar(select(func.count()).select_from(Paper)) or 0)
    lacking = papers_lacking(conn, configured)
    head = (f"Switching models ({', '.join(old)} → {configured}): {papers - lacking:,} of "
            f"{papers:,} papers have a vector by {configured}")  # fmt: skip
    if not lacking:
        return f"{head}; nodes build their index from them at their next catch-up."
    rate = written_since(conn, configured, now - RATE_WINDOW) / RATE_WINDOW.total_seconds()
    if not rate:
        return (f"{head}; no worker has written one in the last "
                f"{RATE_WINDOW.total_seconds() / 60:.0f} minutes: run "
                f"`paperfeed --model {configured} embed`.")  # fmt: skip
    return f"{head}; about {_duration(lacking / rate)} left at {rate:,.1f} papers/s."


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
