"""The Typer app and the options every command shares (where the data lives, which database)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from paperfeed.config import Settings, load_settings
from paperfeed.store.engine import make_engine, outage_reason
from paperfeed.store.migrate import StoreNotReady, ensure_current

app = typer.Typer(
    name="paperfeed",
    help="A self-hostable research-papers platform: daily feed, trending, search, digests.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Markdown joins a docstring's wrapped lines into one paragraph: with the default ("rich"),
    # every source line break showed in --help, mid-sentence.
    rich_markup_mode="markdown",
)
#: Width of output that goes to a pipe or a file. Rich assumes 80 columns there, which cut the
#: tables of ``status`` and ``check`` ("…") in logs and in ``| less``; tables only take the
#: width they need, so a wide limit costs nothing.
PIPE_WIDTH = 240


def _console(stderr: bool = False) -> Console:
    """A console whose summaries stay one line in logs and pipes, and whose tables are not cut
    when nobody reads them on a terminal (COLUMNS, if set, still wins)."""
    stream = sys.stderr if stderr else sys.stdout
    wide = not stream.isatty() and "COLUMNS" not in os.environ
    return Console(stderr=stderr, soft_wrap=True, width=PIPE_WIDTH if wide else None)


console = _console()
errors = _console(stderr=True)


@app.callback()
def main(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir", envvar="PAPERFEED_HOME", help="Data directory (default: ./.paperfeed)."
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="PAPERFEED_DB",
            help="SQLAlchemy URL of the store (default: SQLite in the data directory).",
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            envvar="PAPERFEED_EMBEDDING_MODEL",
            help="Embedding model (default: all-MiniLM-L6-v2-int8; see docs/deploy.md on "
            "switching models).",
        ),
    ] = None,
) -> None:
    if model is not None:
        _check_model(model)
    ctx.obj = load_settings(home=data_dir, db=db, embedding_model=model)


def _check_model(name: str) -> None:
    """Refuse an unknown model before any command runs (``status`` would otherwise list it as
    if a switch to it were under way). Imported here: the search package loads ONNX Runtime,
    which commands without ``--model`` need not wait for."""
    from paperfeed.search.embedder import UnknownModel, model_named

    try:
        model_named(name)
    except UnknownModel as error:
        fail(f"--model: {error}")


def settings_of(ctx: typer.Context) -> Settings:
    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings


def fail(message: str, code: int = 1) -> NoReturn:
    """Stop with one line on stderr that says what went wrong and what to do."""
    errors.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def open_store(settings: Settings, *, require_current: bool = True) -> Engine:
    """An engine on the configured store, or a clear error if it cannot be reached or is not ready."""
    url = make_url(settings.database_url)
    file = url.database if url.get_backend_name() == "sqlite" else None
    if require_current and file not in (None, "", ":memory:") and not Path(str(file)).exists():
        fail(f"there is no store at {file}: run `paperfeed init` first")  # (not an empty one)
    try:
        engine = make_engine(settings.database_url)
        if require_current:
            ensure_current(engine)
        else:
            with engine.connect():
                pass
    except StoreNotReady as error:
        fail(f"{error} (store: {shown_url(settings)})")
    except OperationalError as error:
        fail(f"cannot open the store at {shown_url(settings)}: {outage_reason(error)}")
    except ValueError as error:
        fail(str(error))
    return engine


def shown_url(settings: Settings) -> str:
    """The database URL with any password hidden, for messages."""
    return make_url(settings.database_url).render_as_string(hide_password=True)
