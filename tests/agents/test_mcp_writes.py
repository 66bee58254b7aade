"""``upvote`` and ``submit`` over stdio with a member's API token (``PAPERFEED_TOKEN`` or
``--token``): the vote and the submission land in the store, through the same services and
limits as the write API; an unconfirmed member is refused."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from pathlib import Path

import anyio
from mcp import Client
from sqlalchemy import select

from paperfeed.ingest import ingest_file
from paperfeed.models import FeedEntry, Upvote, User
from paperfeed.normalize import normalise
from paperfeed.sources.record import PaperRecord
from paperfeed.store.engine import write_transaction
from paperfeed.store.papers import upsert_papers
from tests.agents.conftest import (
    SECOND,
    SUBMITTED,
    SUBMITTED_TITLE,
    AgentSite,
    answer,
    error_text,
    run_client,
)

PAPER = "2606.13392"  # MiniMax Sparse Attention: 103 upvotes in the recorded feed


def voters(site: AgentSite, paper_id: str) -> list[str]:
    with site.engine.connect() as conn:
        return list(
            conn.scalars(
                select(User.handle)
                .join(Upvote, Upvote.user_id == User.id)
                .where(Upvote.paper_id == paper_id)
            )
        )


def test_upvote_with_a_token_counts_once_and_can_be_taken_back(agent_site: AgentSite) -> None:
    async def body(client: Client) -> None:
        voted = answer(await client.call_tool("upvote", {"id": f"arXiv:{PAPER}"}))
        assert voted == {"id": PAPER, "voted": True, "upvotes": 104}
        assert agent_site.upvotes(PAPER) == 104 and voters(agent_site, PAPER) == ["ada"]
        again = answer(await client.call_tool("upvote", {"id": PAPER}))
        assert again["upvotes"] == 104 == agent_site.upvotes(PAPER)
        removed = answer(await client.call_tool("upvote", {"id": PAPER, "remove": True}))
        assert removed == {"id": PAPER, "voted": False, "upvotes": 103}
        assert agent_site.upvotes(PAPER) == 103 and voters(agent_site, PAPER) == []
        missing = await client.call_tool("upvote", {"id": "2401.99999"})
        assert "no paper '2401.99999' here" in error_text(missing)

    run_client(agent_site, body, PAPERFEED_TOKEN=agent_site.token)


def test_submit_features_the_paper_today_within_the_daily_limit(agent_site: AgentSite) -> None:
    today = dt.datetime.now(dt.UTC).date().isoformat()

    async def body(client: Client) -> None:
        done = answer(await client.call_tool("submit", {"arxiv": f"https://arxiv.org/abs/{SUBMITTED}"}))  # fmt: skip
        assert (done["id"], done["outcome"], done["featured_on"], done["fetched"]) == (
            SUBMITTED, "featured", today, True,
        )  # fmt: skip
        assert done["url"].endswith(f"/papers/{SUBMITTED}")
        over = await client.call_tool("submit", {"arxiv": SECOND})
        assert "the most a member may" in error_text(over)
        featured = answer(await client.call_tool("submit", {"arxiv": PAPER}))
        assert (
            featured["outcome"] == "already"
        )  # the limit is on new papers: this one gets the vote

    # (--token, with the limit of one new paper a day)
    run_client(agent_site, body, "--token", agent_site.token, PAPERFEED_SUBMISSIONS_PER_DAY="1")
    assert agent_site.title(SUBMITTED) == SUBMITTED_TITLE
    assert agent_site.upvotes(SUBMITTED) == 1 and voters(agent_site, SUBMITTED) == ["ada"]
    assert agent_site.title(SECOND) is None
    assert agent_site.upvotes(PAPER) == 104
    with agent_site.engine.connect() as conn:
        day = conn.scalar(select(FeedEntry.day).where(FeedEntry.paper_id == SUBMITTED))
    assert day is not None and day.isoformat() == today


def test_a_member_who_has_not_confirmed_is_refused(agent_site: AgentSite) -> None:
    async def body(client: Client) -> None:
        for tool, arguments in [("upvote", {"id": PAPER}), ("submit", {"arxiv": SUBMITTED})]:
            refused = await client.call_tool(tool, arguments)
            assert "confirm your e-mail address first" in error_text(refused)

    run_client(agent_site, body, PAPERFEED_TOKEN=agent_site.unconfirmed_token)
    assert agent_site.upvotes(PAPER) == 103 and agent_site.title(SUBMITTED) is None


def test_an_upvote_sent_while_a_merge_runs_lands_on_the_arxiv_paper(
    agent_site: AgentSite, tmp_path: Path
) -> None:
    """The agent upvotes a captured paper while the import that merges it into its arXiv
    record holds its transaction open: the vote lands on the arXiv paper (it failed on the
    old paper's foreign key)."""
    old, new = "capture:quartz", "2501.00001"
    title = "Quartz lattice resonators under cryogenic strain"
    (tmp_path / "capture.jsonl").write_text(
        json.dumps({"id": old, "title": title, "date_shown": "Jan 20"}) + "\n"
    )
    ingest_file(agent_site.engine, "jsonl", tmp_path / "capture.jsonl")
    ready, merging = threading.Event(), threading.Event()
    answers: list[dict[str, object]] = []

    async def body(client: Client) -> None:
        ready.set()
        await anyio.to_thread.run_sync(merging.wait)
        answers.append(answer(await client.call_tool("upvote", {"id": old})))

    agent = threading.Thread(
        target=run_client, args=(agent_site, body), kwargs={"PAPERFEED_TOKEN": agent_site.token}
    )
    agent.start()
    assert ready.wait(120)
    record = normalise(PaperRecord(id=new, title=title, abstract="The arXiv record."))
    with write_transaction(agent_site.engine) as conn:
        upsert_papers(conn, [record], "jsonl", dt.datetime.now(dt.UTC))  # merges; holds locks
        merging.set()
        time.sleep(2)  # the vote is waiting on the merge by now
    agent.join(120)

    assert answers == [{"id": new, "voted": True, "upvotes": 1}]
    assert voters(agent_site, new) == ["ada"] and agent_site.upvotes(new) == 1
