"""``paperfeed sync``: run the sources configured in ``<data dir>/paperfeed.toml`` once."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from paperfeed.cli.app import app, console, errors, fail, open_store, settings_of
from paperfeed.cli.ingest import merge_counts, print_kept_apart
from paperfeed.store.locks import job_lock
from paperfeed.sync.config import CONFIG_NAME, ConfigError, load_config
from paperfeed.sync.runner import SourceReport, run_sync
from paperfeed.sync.schedule import SYNC_LOCK


@app.command()
def sync(
    ctx: typer.Context,
    source: Annotated[
        list[str] | None, typer.Option("--source", help="Run only this source (repeatable).")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help=f"Default: <data dir>/{CONFIG_NAME}.")
    ] = None,
) -> None:
    """Fetch what is new from every configured source (arXiv OAI-PMH, API, RSS, Daily Papers)."""
    settings = settings_of(ctx)
    try:
        loaded = load_config(config or settings.home / CONFIG_NAME)
    except ConfigError as error:
        fail(str(error))
    unknown = sorted(set(source or ()) - {s.name for s in loaded.sources})
    if unknown:
        fail(f"no source named {', '.join(unknown)} in the configuration")
    if not loaded.sources:
        fail("the configuration names no sources ([[sync.sources]] tables)")
    engine = open_store(settings)
    logging.basicConfig(
        level=logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=errors, show_path=False)],
    )
    with job_lock(engine, SYNC_LOCK) as held:
        if not held:
            console.print("Another process is syncing this store; nothing done.")
            return
        with Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[what]}"), TimeElapsedColumn(),
            console=console, transient=True,
        ) as progress:  # fmt: skip
            tasks: dict[str, TaskID] = {}

            def show(name: str, done: int, total: int | None, what: str) -> None:
                if name not in tasks:
                    tasks[name] = progress.add_task(name, total=total, what=what)
                progress.update(tasks[name], completed=done, total=total, what=what)

            reports = run_sync(engine, loaded, source or (), on_progress=show)
    for report in reports:
        console.print(summary(report), highlight=False)
        print_kept_apart(report.kept_apart)
    if any(report.error for report in reports):
        raise typer.Exit(1)


def summary(report: SourceReport) -> str:
    counts = report.counts
    line = (
        f"{report.name} ({report.kind}): {counts.new:,} new, {counts.updated:,} updated, "
        f"{counts.unchanged:,} unchanged, {counts.bad:,} skipped"
        + merge_counts(report.merged, report.kept_apart)
        + (f", {counts.featured:,} featured" if counts.featured else "")
        + f" in {counts.requests:,} requests"
    )
    return line + (f" — FAILED: {report.error} (the next run resumes)" if report.error else "")
