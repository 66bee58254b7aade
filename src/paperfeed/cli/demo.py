"""``paperfeed demo``: a working site from nothing, on the bundled sample corpus."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from paperfeed.cli.app import app, console, settings_of, shown_url
from paperfeed.cli.ingest import import_daily, run_import
from paperfeed.cli.search import index
from paperfeed.cli.site import feature, run_server
from paperfeed.cli.store import init
from paperfeed.data import SAMPLE_DAILY_PAPERS, SAMPLE_FILES, SAMPLE_LISTING_DAYS


@app.command()
def demo(
    ctx: typer.Context,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the site when ready.")
    ] = True,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Initialise the store, import and feature the bundled sample, index it, serve the site.

    Re-running changes nothing it has already done.
    """
    settings = settings_of(ctx)
    init(ctx)
    for source, path in SAMPLE_FILES:
        run_import(settings, source, path, resume=True)
    import_daily(settings, SAMPLE_DAILY_PAPERS)
    for day in SAMPLE_LISTING_DAYS:
        feature(
            ctx,
            None,
            date=day,
            by="auto-feature",
            listed_on=day,
            category=["cs.CL"],
            with_code=True,
        )
    index(ctx, rebuild=False)
    console.print(f"Demo store ready: {shown_url(settings)}")
    if serve:
        os.environ.setdefault("PAPERFEED_EMBED", "1")  # one machine: the node is the worker
        run_server(settings, host, port)
