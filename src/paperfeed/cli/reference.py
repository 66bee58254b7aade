"""The CLI as a Click command, for the docs site's generated reference (mkdocs-click reads
``paperfeed.cli.reference:command``), so the reference is built from the code and cannot drift."""

from __future__ import annotations

import typer

from paperfeed.cli import app

command = typer.main.get_command(app)
