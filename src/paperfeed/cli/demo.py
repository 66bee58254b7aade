"""``paperfeed demo``: a working installation from nothing, on the bundled sample corpus."""

from __future__ import annotations

import typer

from paperfeed.cli.app import app, console, settings_of, shown_url
from paperfeed.cli.ingest import run_import
from paperfeed.cli.search import index
from paperfeed.cli.store import init
from paperfeed.data import SAMPLE_FILES


@app.command()
def demo(ctx: typer.Context) -> None:
    """Initialise the store, import the bundled sample corpus and index it (re-running changes nothing)."""
    settings = settings_of(ctx)
    init(ctx)
    for source, path in SAMPLE_FILES:
        run_import(settings, source, path, resume=True)
    index(ctx, rebuild=False)
    console.print(f"Demo store ready: {shown_url(settings)}")
