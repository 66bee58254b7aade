"""``paperfeed serve`` and ``paperfeed feature``: run the site, and put papers on the feed."""

from __future__ import annotations

import datetime as dt
import os
from typing import Annotated

import typer

from paperfeed.arxiv_ids import canonical_paper_id
from paperfeed.cli.app import app, console, fail, open_store, settings_of
from paperfeed.config import Settings
from paperfeed.store.engine import write_transaction
from paperfeed.store.feed import PaperNotFound
from paperfeed.store.feed import feature as feature_paper


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
) -> None:
    """Serve the site, the JSON API and the feeds (Uvicorn)."""
    settings = settings_of(ctx)
    open_store(settings)  # a clear error now rather than a traceback in every worker
    run_server(settings, host, port, workers)


def run_server(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    os.environ["PAPERFEED_HOME"] = str(settings.home.resolve())
    if settings.db:
        os.environ["PAPERFEED_DB"] = settings.db
    if settings.base_url == "http://127.0.0.1:8000" and (host, port) != ("127.0.0.1", 8000):
        os.environ.setdefault("PAPERFEED_BASE_URL", f"http://{host}:{port}")
    console.print(f"Serving {settings.site_name} at http://{host}:{port} (Ctrl+C to stop)")
    uvicorn.run(
        "paperfeed.web.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        proxy_headers=True,
    )


@app.command()
def feature(
    ctx: typer.Context,
    paper_ids: Annotated[list[str], typer.Argument(help="arXiv ids (any form) or source:id.")],
    date: Annotated[
        str | None, typer.Option("--date", help="The day, YYYY-MM-DD (default: today, UTC).")
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Submitter name shown on the card.")
    ] = None,
) -> None:
    """Put papers on a day's feed."""
    try:
        day = dt.date.fromisoformat(date) if date else dt.datetime.now(dt.UTC).date()
    except ValueError:
        fail(f"--date must be written YYYY-MM-DD, not {date!r}")
    engine = open_store(settings_of(ctx))
    missing = []
    with write_transaction(engine) as conn:
        for raw in paper_ids:
            paper_id = canonical_paper_id(raw)
            try:
                done = feature_paper(conn, paper_id, day, dt.datetime.now(dt.UTC), by, by)
            except PaperNotFound:
                missing.append(paper_id)
                continue
            if done.outcome == "featured":
                console.print(f"{paper_id}: featured on {day}.")
            elif done.outcome == "already":
                console.print(f"{paper_id}: already featured on {day}.")
            else:
                console.print(f"{paper_id}: moved from {done.previous_day} to {day}.")
    if missing:
        fail(f"not in the store (import them first): {', '.join(missing)}")
