"""``paperfeed mail``: send the mail outbox (once, or as a loop beside the web nodes) and look
at what waits in it."""

from __future__ import annotations

import datetime as dt
import time
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import Engine, Row, select

from paperfeed.cli.app import app, console, errors, open_store, settings_of
from paperfeed.config import Settings
from paperfeed.services.mail import mailer_for
from paperfeed.services.outbox import OutboxReport, deliver_due, status_line
from paperfeed.store import outbox

mail_app = typer.Typer(help="The mail outbox.", no_args_is_help=True)
app.add_typer(mail_app, name="mail")


@mail_app.command("send-outbox")
def send_outbox(
    ctx: typer.Context,
    loop: Annotated[
        bool, typer.Option("--loop", help="Keep sending as mail comes in (until Ctrl+C).")
    ] = False,
    every: Annotated[
        float, typer.Option("--every", min=0.1, help="Seconds between looks, with --loop.")
    ] = 5.0,
) -> None:
    """Send the mails that are due (one process at a time across nodes), with retries."""
    settings = settings_of(ctx)
    engine = open_store(settings)
    try:
        if not loop:
            report = _run_once(engine, settings)
            if report.errors and not report.sent:  # exit 1: the SMTP server needs looking at
                raise typer.Exit(1)
            return
        while True:
            _run_once(engine, settings, quiet=True)
            time.sleep(every)
    except KeyboardInterrupt:
        console.print("mail outbox: stopped.")
    finally:
        engine.dispose()


def _run_once(engine: Engine, settings: Settings, quiet: bool = False) -> OutboxReport:
    """One run and its status line (with ``quiet``, only when something happened)."""
    report = deliver_due(engine, mailer_for(settings))
    with engine.connect() as conn:
        backlog = outbox.backlog(conn)
    nothing = not (report.sent or report.failed or report.resent or report.errors)
    if not (quiet and nothing):
        line = status_line(report, backlog)
        (errors if report.errors else console).print(line, highlight=False, markup=False)
    return report


@mail_app.command("outbox")
def show_outbox(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Rows to show.")] = 20,
) -> None:
    """The mails that wait or failed, newest first (sent ones are only counted)."""
    engine = open_store(settings_of(ctx))
    rows = _unsent(engine, limit)
    with engine.connect() as conn:
        backlog = outbox.backlog(conn)
    engine.dispose()
    table = Table("id", "kind", "to", "status", "tries", "queued", "next try", "last error")
    for row in rows:
        table.add_row(
            str(row.id), row.kind, row.recipient, row.status, str(row.attempts),
            _when(row.created_at), _when(row.next_attempt_at), (row.last_error or "")[:80],
        )  # fmt: skip
    if rows:
        console.print(table)
    console.print(
        f"mail outbox: {backlog.pending} waiting, {backlog.failed} failed"
        + (f", oldest queued {_when(backlog.oldest_pending)}" if backlog.oldest_pending else "")
        + "."
    )


def _unsent(engine: Engine, limit: int) -> list[Row[Any]]:
    table = outbox.outbox
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(table)
                .where(table.c.status != "sent")
                .order_by(table.c.id.desc())
                .limit(limit)
            ).all()
        )


def _when(stamp: dt.datetime | None) -> str:
    return f"{stamp:%Y-%m-%d %H:%M:%S}" if stamp else ""
