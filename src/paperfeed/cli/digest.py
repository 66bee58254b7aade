"""``paperfeed digest send``: compose and send the period's digests (exactly once each)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from paperfeed.cli.app import app, console, errors, fail, open_store, settings_of
from paperfeed.digest.schedule import DIGEST_LOCK
from paperfeed.digest.send import send_digests
from paperfeed.search.embedder import UnknownModel, load_model
from paperfeed.search.hybrid import IndexMissing, PaperSearch
from paperfeed.search.indexer import serving_model_name
from paperfeed.search.model_files import ModelMissing
from paperfeed.services import subscriptions
from paperfeed.store.locks import job_lock

digest_app = typer.Typer(help="E-mail digests.", no_args_is_help=True, rich_markup_mode="markdown")
app.add_typer(digest_app, name="digest")


@digest_app.command("send")
def send(
    ctx: typer.Context,
    cadence: Annotated[str, typer.Option("--cadence", help="daily or weekly.")] = "daily",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the digests; send and record nothing.")
    ] = False,
    to: Annotated[str | None, typer.Option("--to", help="Only this subscribed address.")] = None,
    date: Annotated[
        str | None, typer.Option("--date", help="The day whose period to send (default today).")
    ] = None,
) -> None:
    """Send each active subscription of the cadence its digest for this period (once)."""
    if cadence not in ("daily", "weekly"):
        fail("--cadence is daily or weekly")
    try:
        today = dt.date.fromisoformat(date) if date else dt.datetime.now(dt.UTC).date()
    except ValueError:
        fail(f"--date must be written YYYY-MM-DD, not {date!r}")
    settings = settings_of(ctx)
    engine = open_store(settings)
    search = None
    try:
        name = serving_model_name(settings.home) or settings.embedding_model
        search = PaperSearch(settings.home, load_model(name, settings.home / "models"))
    except (IndexMissing, ModelMissing, UnknownModel) as error:
        errors.print(f"saved searches are skipped: {error}", highlight=False)
    if to:
        with engine.connect() as conn:
            why = subscriptions.why_not_sent(conn, to, cadence)
        if why:
            fail(why)
    with job_lock(engine, DIGEST_LOCK) as held:
        if not held:
            console.print("Another process is sending digests; nothing done.")
            return
        report = send_digests(engine, settings, search, cadence, today, dry_run=dry_run, only=to)
    for preview in report.previews:
        console.print(preview, highlight=False, markup=False)
        console.print("-" * 72, highlight=False)
    for address, reason in report.failed:
        errors.print(f"not sent to {address}: {reason}", highlight=False)
    verb = "would send" if dry_run else "sent"
    console.print(
        f"{cadence} digests: {verb} {len(report.previews) if dry_run else report.sent}, "
        f"{report.already} already sent this period, {report.empty} with nothing new, "
        f"{len(report.failed)} failed."
    )
    if report.failed and not report.sent:
        raise typer.Exit(1)
