"""A member submits a paper: by any form of arXiv id or URL, fetched from the arXiv API when the
store does not have it, featured on today's feed with the member's name and vote."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Engine, select

from paperfeed.arxiv_ids import parse_arxiv_id
from paperfeed.models import Paper
from paperfeed.normalize import InvalidRecord, normalise
from paperfeed.services.accounts import AccountError, Member
from paperfeed.services.votes import vote
from paperfeed.sources import arxiv_api
from paperfeed.sources.http import FetchError, PoliteClient, Politeness
from paperfeed.sources.record import PaperRecord
from paperfeed.store.counters import take, used
from paperfeed.store.engine import write_transaction
from paperfeed.store.feed import feature
from paperfeed.store.papers import upsert_papers

Fetch = Callable[[str], PaperRecord | None]


@dataclass(frozen=True, slots=True)
class Submitted:
    paper_id: str
    outcome: Literal["featured", "already"]
    day: dt.date
    fetched: bool  # the paper was new to the store and came from the arXiv API


DAY = dt.timedelta(days=1)


class DailyLimitReached(AccountError):
    """The member has put as many papers on the feed today (UTC) as a member may."""


def _limit_key(member: Member) -> str:
    return f"submit:{member.id}"


def _limit_reached(per_day: int) -> DailyLimitReached:
    return DailyLimitReached(
        f"you have submitted {per_day} papers today, the most a member may; try tomorrow (UTC)"
    )


class ArxivFetcher:
    """Papers by id from the arXiv API, for submissions and list imports: one client per site,
    shared by every request, so the node as a whole keeps arXiv's one request per 3 s (the
    spacing of the sources' polite client), however many members submit or import at once."""

    def __init__(self, api_url: str, politeness: Politeness | None = None) -> None:
        self.api_url = api_url
        self._client = PoliteClient(
            politeness or Politeness(delay=3.0, retries=2, backoff=2, timeout=20)
        )
        self._lock = threading.Lock()

    def __call__(self, paper_id: str) -> PaperRecord | None:
        """One paper (None if arXiv does not know it)."""
        return self.many([paper_id]).get(paper_id)

    def many(self, paper_ids: Sequence[str]) -> dict[str, PaperRecord]:
        """The papers arXiv knows among ``paper_ids``, one request each, 3 s apart.

        (One id a request rather than arXiv's lists of ids: an answer then means the same
        whatever else was asked, and a member's daily budget of look-ups bounds the wait.)"""
        found: dict[str, PaperRecord] = {}
        for paper_id in paper_ids:
            with self._lock:
                items = list(arxiv_api.fetch_ids(self._client, [paper_id], self.api_url))
            found |= {i.id: i for i in items if isinstance(i, PaperRecord) and i.id == paper_id}
        return found

    @property
    def requests(self) -> int:
        """Requests sent so far (each one spaced from the last)."""
        return self._client.requests

    def close(self) -> None:
        self._client.close()


def arxiv_fetcher(api_url: str) -> ArxivFetcher:
    return ArxivFetcher(api_url)


def fetched_record(paper_id: str, fetch: Fetch) -> PaperRecord:
    """The normalised record of a paper the store does not have, from arXiv."""
    try:
        record = fetch(paper_id)
    except (FetchError, arxiv_api.ArxivApiError) as error:
        raise AccountError(
            f"arXiv could not be asked about {paper_id} just now ({error}); try again later"
        ) from None
    if record is None:
        raise AccountError(f"arXiv has no paper {paper_id}")
    try:
        return normalise(record)
    except InvalidRecord as error:
        raise AccountError(f"arXiv's record of {paper_id} cannot be stored: {error}") from None


def submit(
    engine: Engine, member: Member, pasted: str, now: dt.datetime, fetch: Fetch, per_day: int
) -> Submitted:
    if not member.can_write:
        raise AccountError("confirm your e-mail address first (see the link we sent)")
    try:
        paper_id = parse_arxiv_id(pasted).id
    except ValueError:
        raise AccountError(
            "paste an arXiv id or link, such as 2306.00001 or https://arxiv.org/abs/2306.00001"
        ) from None
    today = now.date()
    with engine.connect() as conn:
        known = conn.scalar(select(Paper.id).where(Paper.id == paper_id)) is not None
        spent = used(conn, _limit_key(member), DAY, now)
    if not known and spent >= per_day:  # (no arXiv request for a paper that cannot go on)
        raise _limit_reached(per_day)
    record = None if known else fetched_record(paper_id, fetch)
    with write_transaction(engine) as conn:
        if record is not None:
            upsert_papers(conn, [record], arxiv_api.NAME, now)
        placed = feature(
            conn,
            paper_id,
            today,
            now,
            member.handle,
            member.name,
            move=False,
            submitted_by=member.id,
        )
        # The limit is on papers put on the feed; one already there only gets the member's
        # vote. Taken in this transaction: over the limit, the featuring is rolled back.
        if placed.outcome == "featured" and not take(conn, _limit_key(member), per_day, DAY, now):
            raise _limit_reached(per_day)
        vote(conn, member.id, paper_id, now)
    outcome: Literal["featured", "already"] = (
        "featured" if placed.outcome == "featured" else "already"
    )
    return Submitted(paper_id, outcome, placed.day, record is not None)
