"""``paperfeed mcp``: the MCP server over stdio, for an agent that starts it as a subprocess
(Claude Desktop, Claude Code, any ``mcp.json``). Nothing but the protocol goes to stdout."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import anyio
import typer

from paperfeed.agents.mcp_server import build_server
from paperfeed.cli.app import app, fail, open_store, settings_of
from paperfeed.services import tokens


@app.command("mcp")
def mcp_stdio(
    ctx: typer.Context,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="PAPERFEED_TOKEN",
            help="A member's API token: enables the upvote and submit tools (read-only without).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve paperfeed to an AI agent over stdio (Model Context Protocol): search, papers as
    Markdown, the daily feed, trending, similar papers; upvote and submit with --token."""
    from paperfeed.web.app import configured_embedder  # (the model loader every node uses)
    from paperfeed.web.site import Site

    settings = settings_of(ctx)
    engine = open_store(settings)
    if token:
        with engine.connect() as conn:
            found = tokens.bearer(conn, token)
        if found is None:
            fail("--token / PAPERFEED_TOKEN is not a valid API token (revoked, or never issued)")
        tokens.mark_used(engine, found, dt.datetime.now(dt.UTC))
    site = Site(settings, engine, configured_embedder(settings))
    server = build_server(site, lambda _: token)
    try:
        anyio.run(server.run_stdio_async)
    finally:
        engine.dispose()
