"""The ``paperfeed`` command: one Typer app, one module per group of commands."""

from __future__ import annotations

from paperfeed.cli import admin, backup, demo, digest, ingest, mail, mcp, search, site, store, sync  # noqa: F401  (registers the commands)
from paperfeed.cli.app import app

__all__ = ["app"]
