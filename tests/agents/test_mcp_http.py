"""The MCP server at ``/mcp`` of a live ``paperfeed serve``, through the SDK's real client over
streamable HTTP: the tools answer from the store, a member's token in ``Authorization: Bearer``
enables the write tools (parallel votes counted exactly), and the calls count towards the same
rate limit as the API's searches."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager

import anyio
import httpx
import httpx2
import pytest
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client
from mcp.types import TextContent, TextResourceContents

from paperfeed.web.rate_limits import LIMITS
from tests.agents.conftest import AgentSite, answer, error_text, member_token
from tests.servers import free_port
from tests.web.test_nodes import wait_for

PAPER = "2606.13392"  # MiniMax Sparse Attention: 103 upvotes in the recorded feed
TOP = "2606.13681"  # the most upvoted (118)
VOTERS = 6


@contextmanager
def serving(site: AgentSite) -> Iterator[str]:
    """``paperfeed serve`` on a free port; its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "paperfeed", "serve", "--port", str(port), "--index-every", "0"]  # fmt: skip
    with (site.home / "node.log").open("wb") as log:  # (read it when this test fails)
        process = subprocess.Popen(
            command, env=site.env(PAPERFEED_BASE_URL=base), stdout=log, stderr=subprocess.STDOUT
        )
    try:
        wait_for(
            lambda: httpx.get(base + "/", timeout=2).status_code == 200, 60, "the node answers"
        )
        yield base
    finally:
        process.terminate()
        process.wait(20)


def client(
    stack: AsyncExitStack, base: str, token: str | None = None, mode: str = "auto"
) -> Client:
    """An MCP client of ``base``/mcp sending ``token`` as a bearer token (not yet entered);
    ``mode="legacy"`` speaks the handshake-era protocol that desktop agents use today."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    http = httpx2.AsyncClient(headers=headers, timeout=30)
    stack.push_async_callback(http.aclose)
    return Client(streamable_http_client(base + "/mcp", http_client=http), mode=mode)


def test_tools_over_streamable_http(agent_site: AgentSite) -> None:
    tokens = [agent_site.token] + [member_token(agent_site.engine, f"m{n}") for n in range(VOTERS)]

    async def main(base: str) -> None:
        async with AsyncExitStack() as stack:
            reader = await stack.enter_async_context(client(stack, base))
            names = {tool.name for tool in (await reader.list_tools()).tools}
            assert names == {"search_papers", "get_paper", "daily_papers", "trending", "similar_papers", "upvote", "submit"}  # fmt: skip
            found = answer(await reader.call_tool("search_papers", {"query": "MiniMax sparse attention", "limit": 3}))  # fmt: skip
            assert (found["papers"][0]["id"], found["papers"][0]["upvotes"]) == (PAPER, 103)
            day = answer(await reader.call_tool("daily_papers", {"date": "2026-06-12", "sort": "upvotes", "limit": 1}))  # fmt: skip
            assert [(p["id"], p["upvotes"]) for p in day["papers"]] == [(TOP, 118)]
            hot = answer(await reader.call_tool("trending", {"limit": 1}))
            assert hot["total"] == 30
            near = answer(await reader.call_tool("similar_papers", {"id": PAPER, "limit": 3}))
            assert len(near["papers"]) == 3 and PAPER not in [p["id"] for p in near["papers"]]
            paper = await reader.call_tool("get_paper", {"id": PAPER})
            assert isinstance(paper.content[0], TextContent)
            assert paper.content[0].text.startswith("# MiniMax Sparse Attention")
            read = (await reader.read_resource(f"paper://{PAPER}")).contents[0]
            assert isinstance(read, TextResourceContents) and read.text == paper.content[0].text

            legacy = await stack.enter_async_context(client(stack, base, mode="legacy"))
            assert {tool.name for tool in (await legacy.list_tools()).tools} == names
            assert answer(await legacy.call_tool("trending", {"limit": 1})) == hot

            refused = await reader.call_tool("upvote", {"id": PAPER})
            assert "Authorization: Bearer" in error_text(refused)
            forged = await stack.enter_async_context(client(stack, base, "pf_" + "x" * 43))
            assert "not valid" in error_text(await forged.call_tool("upvote", {"id": PAPER}))
            assert agent_site.upvotes(PAPER) == 103

            # Every member at once, and one member many times at once: each vote counted once.
            members = [await stack.enter_async_context(client(stack, base, t)) for t in tokens]
            async with anyio.create_task_group() as group:
                for member in members + [members[0]] * (VOTERS - 1):
                    group.start_soon(member.call_tool, "upvote", {"id": PAPER})
            assert agent_site.upvotes(PAPER) == 103 + len(tokens)
            again = answer(await members[0].call_tool("upvote", {"id": PAPER}))
            assert again == {"id": PAPER, "voted": True, "upvotes": 103 + len(tokens)}

    with serving(agent_site) as base:
        anyio.run(main, base)
        assert httpx.get(base + "/mcp", timeout=10).status_code == 405  # no stream held open


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # (the limits live in the node)
def test_tool_calls_share_the_search_rate_limit(agent_site: AgentSite) -> None:
    budget = LIMITS["search"].amount
    answered = 0

    async def main(base: str) -> None:
        nonlocal answered
        async with AsyncExitStack() as stack:
            agent = await stack.enter_async_context(client(stack, base))
            # (the node's message, not the SDK's "Server returned an error response")
            with pytest.raises(MCPError, match=r"Too many search requests: try again in \d+ s"):
                for _ in range(budget + 1):
                    result = await agent.call_tool("trending", {"limit": 1})
                    assert not result.is_error
                    answered += 1

    with serving(agent_site) as base:
        anyio.run(main, base)
        assert 0 < answered < budget  # (connecting took a request or more of it too)
        search = httpx.get(base + "/api/v1/search", params={"q": "attention"}, timeout=10)
        assert search.status_code == 429, search.text  # the API's searches share the budget
        assert httpx.get(base + "/api/v1/papers/" + PAPER, timeout=10).status_code == 200
