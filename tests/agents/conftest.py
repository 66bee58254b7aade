"""A store an agent can talk to, on SQLite and on PostgreSQL: the 30 papers of the recorded Daily
Papers response (featured on 2026-06-12 with their upvotes), five of them also on 2026-06-09,
indexed with the real model (the one ``paperfeed mcp`` and ``paperfeed serve`` load), and
members with API tokens. Plus what a test needs to start the real servers on it."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.types import CallToolResult, TextContent
from sqlalchemy import Engine, select

from paperfeed.ingest_daily import ingest_daily_papers
from paperfeed.models import Paper
from paperfeed.search import indexer
from paperfeed.search.embedder import MiniLMEmbedder
from paperfeed.services import tokens
from paperfeed.services.accounts import confirm, confirmation_token, sign_up
from paperfeed.store.engine import write_transaction
from tests.sources.replay import Replay
from tests.sync.conftest import recorded
from tests.web.conftest import DAILY

SECRET = "the key of the agents' tests"
SUBMITTED = "1707.08567"  # in the recorded arXiv API answers, not in the store
SECOND = "astro-ph/0601001"  # another one
SUBMITTED_TITLE = "Proceedings of Workshop AEW10: Concepts in Information Theory and Communications"


@dataclass(frozen=True)
class AgentSite:
    home: Path
    db_url: str
    engine: Engine
    token: str  # a confirmed member's ("ada")
    unconfirmed_token: str  # a member who has not confirmed the address ("bob")
    arxiv_url: str

    def env(self, **more: str) -> dict[str, str]:
        """The environment of a ``paperfeed`` process on this store."""
        return {
            **os.environ, "PAPERFEED_HOME": str(self.home), "PAPERFEED_DB": self.db_url,
            "PAPERFEED_SECRET_KEY": SECRET, "PAPERFEED_ARXIV_API_URL": self.arxiv_url,
            **more,
        }  # fmt: skip

    def stdio(self, *options: str, **env: str) -> StdioServerParameters:
        """``python -m paperfeed mcp`` as an agent would start it."""
        return StdioServerParameters(
            command=sys.executable, args=["-m", "paperfeed", "mcp", *options], env=self.env(**env)
        )

    def upvotes(self, paper_id: str) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(select(Paper.upvotes).where(Paper.id == paper_id)) or 0)

    def title(self, paper_id: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.scalar(select(Paper.title).where(Paper.id == paper_id))


def member_token(engine: Engine, handle: str, confirmed: bool = True) -> str:
    now = dt.datetime.now(dt.UTC)
    with write_transaction(engine) as conn:
        member = sign_up(conn, f"{handle}@lab.org", handle, handle.title(), "a long enough password", now)  # fmt: skip
        if confirmed:
            member = confirm(conn, SECRET, confirmation_token(conn, SECRET, member.id), now)
        return tokens.create(conn, member, "agent", now)


@pytest.fixture
def arxiv() -> Iterator[Replay]:
    server = Replay()
    server.add("/api/query", {"id_list": SUBMITTED}, recorded("id_1707.08567_s0_m100_6a1afebfc6a3.json"))  # fmt: skip
    server.add("/api/query", {"id_list": SECOND}, recorded("id_astro-ph_0601001_s0_m100_3150dca9dc76.json"))  # fmt: skip
    with server.running():
        yield server


@pytest.fixture
def agent_site(
    engine: Engine,
    db_url: str,
    tmp_path: Path,
    model_dir: Path,
    minilm: MiniLMEmbedder,
    arxiv: Replay,
) -> AgentSite:
    home = tmp_path / "home"
    shutil.copytree(model_dir, home / "models")  # (spares the processes the model's ONNX export)
    ingest_daily_papers(engine, DAILY)
    indexer.update(engine, home, minilm)
    return AgentSite(
        home, db_url, engine, member_token(engine, "ada"),
        member_token(engine, "bob", confirmed=False), arxiv.url + "/api/query",
    )  # fmt: skip


def run_client(
    site: AgentSite, body: Callable[[Client], Awaitable[None]], *options: str, **env: str
) -> None:
    """``body`` with a client of ``paperfeed mcp`` (given these options and environment)."""

    async def main() -> None:
        async with Client(site.stdio(*options, **env)) as client:
            await body(client)

    anyio.run(main)


def answer(result: CallToolResult) -> dict[str, Any]:
    """The JSON a tool sent (its text), checked to be the structured content too."""
    assert not result.is_error, result.content
    block = result.content[0]
    assert isinstance(block, TextContent)
    data: dict[str, Any] = json.loads(block.text)
    assert data == result.structured_content
    return data


def error_text(result: CallToolResult) -> str:
    assert result.is_error
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text
