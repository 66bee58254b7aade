"""``paperfeed serve`` and ``paperfeed feature``: run the site, and put papers on the feed."""

from __future__ import annotations

import datetime as dt
import os
from typing import Annotated

import typer

from paperfeed.arxiv_ids import canonical_paper_id
from paperfeed.cli.app import app, console, fail, open_store, settings_of
from paperfeed.cli.search import configured_model, load_embedder
from paperfeed.config import Settings
from paperfeed.digest.schedule import parse_time
from paperfeed.search import indexer
from paperfeed.store.engine import write_transaction
from paperfeed.store.feed import PaperNotFound, listed_paper_ids
from paperfeed.store.feed import feature as feature_paper
from paperfeed.sync.config import CONFIG_NAME, ConfigError, load_config
from paperfeed.sync.schedule import parse_duration
from paperfeed.wording import count


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    sync_every: Annotated[
        str | None,
        typer.Option("--sync-every", help="Also run `paperfeed sync` this often (e.g. 1h)."),
    ] = None,
    index_every: Annotated[
        str,
        typer.Option("--index-every", help="Index new and changed papers this often (0: never)."),
    ] = "10s",
    digest_at: Annotated[
        str | None,
        typer.Option("--digest-at", help="Send the digests each day after HH:MM (UTC)."),
    ] = None,
    embed: Annotated[
        bool | None,
        typer.Option(
            "--embed/--no-embed",
            help="Also embed new papers into the store (default: no, read the vectors "
            "`paperfeed embed` workers store; PAPERFEED_EMBED).",
        ),
    ] = None,
) -> None:
    """Serve the site, the JSON API and the feeds (Uvicorn)."""
    settings = settings_of(ctx)
    if embed is not None:
        os.environ["PAPERFEED_EMBED"] = "1" if embed else "0"
        settings = settings.model_copy(update={"embed": embed})
    configured_model(settings)  # an unknown model name is said now, once
    open_store(settings)  # a clear error now rather than a traceback in every worker
    if sync_every:
        try:
            parse_duration(sync_every)
        except ValueError as error:
            fail(str(error))
        try:
            load_config(settings.home / CONFIG_NAME)
        except ConfigError as error:
            fail(f"--sync-every: {error}")
        os.environ["PAPERFEED_SYNC_EVERY"] = sync_every
    if index_every not in ("0", "off"):
        try:
            parse_duration(index_every)
        except ValueError as error:
            fail(str(error))
    os.environ["PAPERFEED_INDEX_EVERY"] = index_every
    _repair_index(settings)
    if digest_at:
        try:
            parse_time(digest_at)
        except ValueError as error:
            fail(str(error))
        os.environ["PAPERFEED_DIGEST_AT"] = digest_at
    run_server(settings, host, port, workers)


def run_server(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    os.environ["PAPERFEED_HOME"] = str(settings.home.resolve())
    os.environ["PAPERFEED_EMBEDDING_MODEL"] = settings.embedding_model
    os.environ.setdefault("PAPERFEED_INDEX_EVERY", "10s")  # new papers searchable within seconds
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
    paper_ids: Annotated[
        list[str] | None, typer.Argument(help="arXiv ids (any form) or source:id.")
    ] = None,
    date: Annotated[
        str | None, typer.Option("--date", help="The day, YYYY-MM-DD (default: today, UTC).")
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Submitter name shown on the card.")
    ] = None,
    listed_on: Annotated[
        str | None,
        typer.Option("--listed-on", help="Also feature the papers arXiv listed on this day…"),
    ] = None,
    category: Annotated[
        list[str] | None, typer.Option("--category", help="…in this category (repeatable)…")
    ] = None,
    with_code: Annotated[
        bool, typer.Option("--with-code", help="…that link a code repository.")
    ] = False,
    move: Annotated[
        bool,
        typer.Option(
            "--move", help="Move named papers already featured on another day to this day."
        ),
    ] = False,
) -> None:
    """Put papers on a day's feed: by id, or by an auto-feature rule (--listed-on, --category).

    A paper already featured on another day stays there unless --move is given; moving it keeps
    its submitter unless --by names a new one.
    """
    day = _day(date, "--date") or dt.datetime.now(dt.UTC).date()
    listed = _day(listed_on, "--listed-on")
    if listed is not None and not category:
        fail("--listed-on needs at least one --category (e.g. --category cs.CL)")
    if not paper_ids and listed is None:
        fail("name papers to feature, or a rule: --listed-on DAY --category CAT")
    engine = open_store(settings_of(ctx))
    missing, counts = [], {"featured": 0, "already": 0, "moved": 0}
    with write_transaction(engine) as conn:
        named = [canonical_paper_id(raw) for raw in paper_ids or []]
        by_rule = listed_paper_ids(conn, listed, category or [], with_code) if listed else []
        now = dt.datetime.now(dt.UTC)
        for paper_id in dict.fromkeys(named + by_rule):
            try:
                # Only named papers, and only with --move, leave the day they were featured on.
                done = feature_paper(
                    conn, paper_id, day, now, by, by, move=move and paper_id in named
                )
            except PaperNotFound:
                missing.append(paper_id)
                continue
            counts[done.outcome] += 1
            if done.outcome == "moved":
                console.print(f"{paper_id}: moved from {done.previous_day} to {day}.")
            elif done.outcome == "already" and done.day != day and paper_id in named:
                console.print(
                    f"{paper_id}: stays on {done.day}, where it is featured (--move moves it)."
                )
    console.print(
        f"{day}: {count(counts['featured'], 'paper')} featured, {counts['already']:,} already "
        f"featured, {counts['moved']:,} moved."
    )
    if missing:
        fail(f"not in the store (import them first): {', '.join(missing)}")


def _day(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"{option} must be written YYYY-MM-DD, not {text!r}")


def _repair_index(settings: Settings) -> None:
    """A search index that cannot be opened (a crash mid-write, a damaged disk) is found at
    start and rebuilt from the store before serving, rather than failing every search."""
    problem = indexer.damage(settings.home, configured_model(settings).dimensions)
    if problem is None:
        return
    console.print(
        f"The search index in {indexer.current_generation(settings.home)} cannot be opened "
        f"({problem}): rebuilding it from the store…"
    )
    model = load_embedder(settings) if settings.embed else configured_model(settings)
    report = indexer.rebuild(open_store(settings), settings.home, model, embed=settings.embed)
    console.print(
        f"Rebuilt: {count(report.keyword_papers, 'paper')} for keyword search, "
        f"{report.vector_papers:,} stored vectors."
    )
