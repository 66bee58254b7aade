"""``paperfeed admin create``: the first admin (or make an existing member one)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from paperfeed.cli.app import app, console, fail, open_store, settings_of
from paperfeed.services.accounts import AccountError, create_admin
from paperfeed.store.engine import write_transaction

admin_app = typer.Typer(
    help="Administer members.", no_args_is_help=True, rich_markup_mode="markdown"
)
app.add_typer(admin_app, name="admin")


@admin_app.command("create")
def create(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The admin's e-mail address.")],
    handle: Annotated[
        str, typer.Option("--handle", help="User name (for a new account).")
    ] = "admin",
    name: Annotated[str, typer.Option("--name", help="Name shown on the site.")] = "",
) -> None:
    """Create a confirmed admin account (asks for its password), or make a member an admin."""
    engine = open_store(settings_of(ctx))
    password = typer.prompt(
        "Password (10 characters or more)", hide_input=True, confirmation_prompt=True
    )
    try:
        with write_transaction(engine) as conn:
            member = create_admin(conn, email, handle, name, password, dt.datetime.now(dt.UTC))
    except AccountError as error:
        fail(str(error))
    console.print(f"{member.email} ({member.handle}) is an admin.")
