"""The MCP server's read tools and resource, through the SDK's real client over stdio: a
``python -m paperfeed mcp`` process on the test's store (SQLite and PostgreSQL), called as a
desktop agent calls it. Every answer is checked against the store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import anyio
import pytest
from mcp import Client, MCPError
from mcp.types import TextContent, TextResourceContents
from sqlalchemy import select

from paperfeed.agents.mcp_server import build_server
from paperfeed.config import Settings
from paperfeed.ingest_daily import ingest_daily_papers
from paperfeed.models import FeedEntry, Paper
from paperfeed.search.embedder import HashingEmbedder
from paperfeed.services.feeds import trending_page
from paperfeed.store.engine import make_engine
from paperfeed.store.migrate import upgrade
from paperfeed.web.site import Site
from tests.agents.conftest import AgentSite, answer, error_text, run_client
from tests.postgres_server import own_postgres
from tests.web.conftest import DAILY

DAY = "2026-06-12"  # the recorded response's papers are featured on this day
TOP = "2606.13681"  # the day's most upvoted paper
READ_TOOLS = {"search_papers", "get_paper", "daily_papers", "trending", "similar_papers"}


def featured_by_upvotes(site: AgentSite) -> list[tuple[str, int]]:
    with site.engine.connect() as conn:
        rows = conn.execute(
            select(Paper.id, Paper.upvotes)
            .join(FeedEntry, FeedEntry.paper_id == Paper.id)
            .where(FeedEntry.day == dt.date.fromisoformat(DAY))
            .order_by(Paper.upvotes.desc(), Paper.id)
        ).all()
    return [(row.id, row.upvotes) for row in rows]


def test_lists_every_tool_with_a_description_and_the_paper_resource(agent_site: AgentSite) -> None:
    async def body(client: Client) -> None:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert set(tools) == READ_TOOLS | {"upvote", "submit"}
        for name, tool in tools.items():
            assert tool.description and len(tool.description) > 80, name
            assert tool.annotations is not None
            assert tool.annotations.read_only_hint is (name in READ_TOOLS), name
        assert set(tools["search_papers"].input_schema["properties"]) == {
            "query", "mode", "categories", "year_from", "year_to", "has_code", "limit", "offset",
        }  # fmt: skip
        templates = (await client.list_resource_templates()).resource_templates
        assert [(t.uri_template, t.mime_type) for t in templates] == [
            ("paper://{+id}", "text/markdown")
        ]

    run_client(agent_site, body)


def test_read_tools_answer_from_the_store(agent_site: AgentSite) -> None:
    by_upvotes = featured_by_upvotes(agent_site)
    title = agent_site.title(TOP)
    assert title is not None and by_upvotes[0] == (TOP, 118)

    async def body(client: Client) -> None:
        day = answer(await client.call_tool("daily_papers", {"date": DAY, "sort": "upvotes", "limit": 5}))  # fmt: skip
        assert (day["period"], day["kind"], day["total"]) == (DAY, "day", len(by_upvotes))
        assert [(p["id"], p["upvotes"]) for p in day["papers"]] == by_upvotes[:5]
        first = day["papers"][0]
        assert first["title"] == title and first["featured_on"] == DAY
        assert first["author_count"] == 14 and len(first["authors"]) == 3
        assert first["summary"].startswith("Large language model (LLM) agents")
        assert len(first["summary"]) <= 201

        latest = answer(await client.call_tool("daily_papers", {"limit": 50}))
        assert latest["period"] == DAY and len(latest["papers"]) == len(by_upvotes)
        week = answer(await client.call_tool("daily_papers", {"week": "2026-W24", "offset": 28}))
        assert (week["period"], week["kind"], week["total"]) == ("2026-W24", "week", 30)
        assert len(week["papers"]) == 2
        month = answer(await client.call_tool("daily_papers", {"month": "2026-05"}))
        assert (month["total"], month["papers"], month["later"]) == (0, [], DAY)

        hot = answer(await client.call_tool("trending", {"limit": 3}))
        with agent_site.engine.connect() as conn:
            cards, total = trending_page(conn, 0, 3)
        assert hot["total"] == total == 30
        assert [(p["id"], p["upvotes"]) for p in hot["papers"]] == [
            (c.id, c.upvotes) for c in cards
        ]

        found = answer(await client.call_tool("search_papers", {"query": "EvoArena memory evolution agents", "limit": 3}))  # fmt: skip
        assert found["mode"] == "hybrid" and found["papers"][0]["id"] == TOP
        assert found["papers"][0]["upvotes"] == 118
        exact = answer(await client.call_tool("search_papers", {"query": "MiniMax Sparse Attention", "mode": "keyword", "limit": 1}))  # fmt: skip
        assert [p["title"] for p in exact["papers"]] == ["MiniMax Sparse Attention"]
        coded = answer(await client.call_tool("search_papers", {"query": "models", "has_code": True, "limit": 50}))  # fmt: skip
        assert coded["papers"] and all("code" in p for p in coded["papers"])

        near = answer(await client.call_tool("similar_papers", {"id": TOP, "limit": 5}))
        assert (near["id"], near["title"]) == (TOP, title) and len(near["papers"]) == 5
        assert TOP not in [p["id"] for p in near["papers"]]
        for paper in near["papers"]:
            assert agent_site.title(paper["id"]) == paper["title"]

        text = await client.call_tool("get_paper", {"id": f"https://arxiv.org/abs/{TOP}v2"})
        assert not text.is_error and isinstance(text.content[0], TextContent)
        markdown = text.content[0].text
        assert markdown.startswith(f"# {title}") and "Jundong Xu" in markdown
        assert "118" in markdown

        read = await client.read_resource(f"paper://{TOP}")
        content = read.contents[0]
        assert isinstance(content, TextResourceContents)
        assert content.mime_type == "text/markdown" and content.text == markdown

    run_client(agent_site, body)


def test_mistakes_are_tool_errors_that_say_what_to_do(agent_site: AgentSite) -> None:
    async def body(client: Client) -> None:
        for tool, arguments, expected in [
            ("get_paper", {"id": "2401.99999"}, "no paper '2401.99999' here"),
            ("similar_papers", {"id": "nowhere:1"}, "no paper 'nowhere:1' here"),
            ("daily_papers", {"date": "yesterday"}, "date must be written YYYY-MM-DD"),
            ("daily_papers", {"date": DAY, "month": "2026-06"}, "give only one of"),
            ("search_papers", {"query": "x", "limit": 500}, "limit"),
            ("search_papers", {"query": ""}, "query"),
            ("search_papers", {"query": "title:*", "mode": "keyword"}, "is not a search"),
            ("upvote", {"id": TOP}, "needs their personal API token"),
            ("submit", {"arxiv": "1707.08567"}, "PAPERFEED_TOKEN"),
        ]:
            assert expected in error_text(await client.call_tool(tool, arguments)), tool
        with pytest.raises(MCPError, match="no paper"):
            await client.read_resource("paper://2401.99999")

    run_client(agent_site, body)
    assert agent_site.upvotes(TOP) == 118  # the refused upvote changed nothing


def test_a_stopped_database_is_a_tool_error_then_the_tools_recover(tmp_path: Path) -> None:
    """(In process: the transports are the other tests' business.)"""
    with own_postgres() as postgres:
        engine = make_engine(postgres.url)
        upgrade(engine)
        ingest_daily_papers(engine, DAILY)
        site = Site(Settings(home=tmp_path, db=postgres.url), engine, HashingEmbedder)
        server = build_server(site, lambda _: None)

        async def main() -> None:
            async with Client(server) as client:
                assert answer(await client.call_tool("trending", {"limit": 1}))["total"] == 30
                postgres.stop()
                for tool, arguments in [
                    ("trending", {}), ("daily_papers", {}), ("get_paper", {"id": TOP}),
                    ("similar_papers", {"id": TOP}),
                ]:  # fmt: skip
                    down = error_text(await client.call_tool(tool, arguments))
                    assert "database is not answering" in down and "Traceback" not in down, tool
                postgres.start()
                assert answer(await client.call_tool("trending", {"limit": 1}))["total"] == 30

        try:
            anyio.run(main)
        finally:
            engine.dispose()


def test_a_search_that_found_nothing_on_purpose_says_why() -> None:
    from paperfeed.agents.mcp_server import search_verdict
    from paperfeed.search.hybrid import SearchResults
    from paperfeed.search.query import SearchQuery

    assert search_verdict(SearchResults(SearchQuery("x"), "hybrid")) == []
    empty = SearchResults(SearchQuery(""), "hybrid", empty=True)
    assert "the query is empty" in search_verdict(empty)[0]
    floored = SearchResults(SearchQuery("zzqqxx"), "hybrid", no_match=True)
    assert "try a broader query" in search_verdict(floored)[0]
