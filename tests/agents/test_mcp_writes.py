"""``upvote`` and ``submit`` over stdio with a member's API token (``PAPERFEED_TOKEN`` or
``--token``): the vote and the submission land in the store, through the same services and
limits as the write API; an unconfirmed member is refused."""

from __future__ import annotations

import datetime as dt

from mcp import Client
from sqlalchemy import select

from paperfeed.models import FeedEntry, Upvote, User
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
