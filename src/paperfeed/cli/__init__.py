"""The ``paperfeed`` command: one Typer app, one module per group of commands."""

from __future__ import annotations

from paperfeed.cli import (  # noqa: F401  (registers the commands)
    admin,
    backup,
    demo,
    digest,
    ingest,
    mail,
    mcp,
    search,
    site,
    store,
    sync,
    vectors,
)
from paperfeed.cli.app import app

__all__ = ["app"]
