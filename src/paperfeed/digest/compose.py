"""What a subscription's next digest holds, and the mail that carries it.

Papers come from these places, in this order, each paper once: the trending papers of the
period (top N); among the papers new since the address's last digest, those that match its
saved searches, those by the authors and organizations and in the categories the member
follows or the subscription names, and those like the papers the member upvoted or saved. Anything the
address received in an earlier digest (the ledger) is left out, so a digest never repeats a
paper. Each paper says why it is there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select, union_all

from paperfeed.models import DigestItem, SavedPaper, Subscription, Upvote
from paperfeed.search.hybrid import PaperSearch
from paperfeed.services.cards import Card, load_cards
from paperfeed.services.feeds import period_trending
from paperfeed.services.follows import KINDS, following_many
from paperfeed.services.new_papers import NewPapers

PER_SOURCE = 10
MAX_SEARCHES = 10
#: Feed days a digest's "trending" covers: a daily digest takes the newest day and the one
#: before (papers featured after yesterday's digest went out), a weekly one the week.
TRENDING_DAYS = {"daily": 2, "weekly": 7}


class Candidates:
    """What the digests of one run share, computed once: the trending ranking, the papers new
    since the earliest of the run's last digests (with searches among them), members' follows,
    and the cards of every paper picked."""

    def __init__(
        self, conn: Connection, search: PaperSearch | None, since: dt.datetime,
        subscriptions: Sequence[Any] = (), today: dt.date | None = None,
    ) -> None:  # fmt: skip
        self.conn, self.search = conn, search
        self.today = today or dt.datetime.now(dt.UTC).date()
        self.new = NewPapers(conn, search, since)
        members = sorted({sub.user_id for sub in subscriptions if sub.user_id is not None})
        self.follows = following_many(conn, members)
        self._trending: dict[str, tuple[list[str], dict[str, str]]] = {}
        self._cards: dict[str, Card] = {}
        self._matches: dict[str, list[str]] = {}

    def trending(self, cadence: str, count: int) -> tuple[list[str], dict[str, str]]:
        """The period's top papers (``count`` times three, for what the ledger removes) and
        each one's reason (the feed it trended on), made once a run."""
        if cadence not in self._trending:
            cards = period_trending(self.conn, self.today, TRENDING_DAYS[cadence], 150)
            reasons = {card.id: _trending_reason(card.day) for card in cards}
            self._trending[cadence] = ([card.id for card in cards], reasons)
            self._cards.update((card.id, card) for card in cards)
        ids, reasons = self._trending[cadence]
        return ids[: count * 3], reasons

    def matches(self, query: str) -> list[str]:
        if query not in self._matches:
            self._matches[query] = self.new.matches(query, PER_SOURCE * 3)
        return self._matches[query]

    def liked(self, user_id: int) -> list[str]:
        """The member's upvoted and saved papers, the latest first."""
        votes = select(Upvote.paper_id, Upvote.created_at).where(Upvote.user_id == user_id)
        saves = select(SavedPaper.paper_id, SavedPaper.created_at).where(
            SavedPaper.user_id == user_id
        )
        both = union_all(votes, saves).subquery()
        rows = self.conn.execute(
            select(both.c.paper_id).order_by(both.c.created_at.desc()).limit(200)
        )
        return list(dict.fromkeys(row[0] for row in rows))

    def cards(self, paper_ids: list[str]) -> dict[str, Card]:
        missing = [paper_id for paper_id in paper_ids if paper_id not in self._cards]
        self._cards.update((card.id, card) for card in load_cards(self.conn, missing))
        return {i: self._cards[i] for i in paper_ids if i in self._cards}


@dataclass(slots=True)
class Pick:
    card: Card
    reason: str


@dataclass(slots=True)
class Digest:
    subscription_id: int
    email: str
    cadence: str
    period: str
    picks: list[Pick] = field(default_factory=list)


def period_key(cadence: str, today: dt.date) -> str:
    if cadence == "weekly":
        year, week, _ = today.isocalendar()
        return f"{year}-W{week:02d}"
    return today.isoformat()


def saved_searches(sub: Any) -> list[str]:
    return [q.strip() for q in (sub.searches or "").splitlines() if q.strip()][:MAX_SEARCHES]


#: Paper ids (best first), why (one reason for all, or each paper's), how many at most.
Offer = tuple[list[str], str | dict[str, str], int]


def choose(
    conn: Connection, wanted: Sequence[tuple[Any, dt.datetime]], today: dt.date, pool: Candidates
) -> list[Digest]:
    """The digests of many subscriptions for the period containing ``today``: for each
    ``(subscription, since)``, the papers new since then (and the period's trending ones) that
    the address has not been sent before. One ledger query and one card query for them all."""
    # The batch's saved searches embedded together (while the courier sends the last batch).
    pool.new.prepare(q for sub, _ in wanted for q in saved_searches(sub))
    offers = [(sub, _offers(sub, since, pool)) for sub, since in wanted]
    offered = {i for _, subs_offers in offers for ids, _, _ in subs_offers for i in ids}
    sent = _already_sent(conn, [sub.id for sub, _ in wanted], sorted(offered))
    chosen_by_sub = [
        (sub, _pick(sub_offers, sent.get(sub.id, set()))) for sub, sub_offers in offers
    ]
    cards = pool.cards(sorted({i for _, chosen in chosen_by_sub for i in chosen}))
    return [
        Digest(sub.id, sub.email, sub.cadence, period_key(sub.cadence, today),
               [Pick(cards[i], reason) for i, reason in chosen.items() if i in cards])
        for sub, chosen in chosen_by_sub
    ]  # fmt: skip


def _offers(sub: Any, since: dt.datetime, pool: Candidates) -> list[Offer]:
    """Each source's papers for ``sub``, in the digest's order of sources."""
    offers: list[Offer] = []
    if sub.trending:
        offers.append((*pool.trending(sub.cadence, sub.trending), sub.trending))
    new = pool.new
    for query in saved_searches(sub):
        offers.append((new.since(pool.matches(query), since), f"matches your search “{query}”",
                       PER_SOURCE))  # fmt: skip
    follows = pool.follows.get(sub.user_id, {kind: [] for kind in KINDS}) if sub.follows else {}
    for name in follows.get("author", []):
        offers.append((new.since(new.by_author.get(name, []), since), f"by {name}, whom you follow",
                       PER_SOURCE))  # fmt: skip
    for slug in follows.get("organization", []):
        offers.append((new.since(new.by_organization.get(slug, []), since),
                       f"from {slug}, which you follow", PER_SOURCE))  # fmt: skip
    categories = dict.fromkeys([*(sub.categories or "").split()[:10], *follows.get("category", [])])
    for category in categories:
        offers.append((new.since(new.by_category.get(category, []), since), f"new in {category}",
                       PER_SOURCE))  # fmt: skip
    if sub.similar and sub.user_id is not None:
        liked = pool.liked(sub.user_id)
        offers.append((new.since(new.like(liked, sub.similar * 3), since),
                       "like papers you upvoted or saved", sub.similar))  # fmt: skip
    return offers


def _trending_reason(day: dt.date | None) -> str:
    return f"trending on the feed of {day.day} {day:%B %Y}" if day else "trending"


def _pick(offers: list[Offer], sent: set[str]) -> dict[str, str]:
    """Paper id → reason: each source's first papers not sent before, each paper once."""
    chosen: dict[str, str] = {}
    for paper_ids, reason, limit in offers:
        for paper_id in paper_ids:
            if limit <= 0:
                break
            if paper_id not in sent and paper_id not in chosen:
                chosen[paper_id] = reason if isinstance(reason, str) else reason[paper_id]
                limit -= 1
    return chosen


def _already_sent(
    conn: Connection, subscription_ids: list[int], paper_ids: list[str]
) -> dict[int, set[str]]:
    """Which of ``paper_ids`` the ledger says each subscription was sent before."""
    sent: dict[int, set[str]] = {}
    for start in range(0, len(paper_ids), 1000):
        rows = conn.execute(
            select(DigestItem.subscription_id, DigestItem.paper_id).where(
                DigestItem.subscription_id.in_(subscription_ids),
                DigestItem.paper_id.in_(paper_ids[start : start + 1000]),
            )
        )
        for subscription_id, paper_id in rows:
            sent.setdefault(subscription_id, set()).add(paper_id)
    return sent


def active_subscriptions(conn: Connection, cadence: str, only: str | None = None) -> list[Any]:
    query = select(Subscription).where(
        Subscription.status == "active", Subscription.cadence == cadence
    )
    if only:
        query = query.where(Subscription.email == only.strip().lower())
    return list(conn.execute(query.order_by(Subscription.id)).all())
