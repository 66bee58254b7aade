"""What a subscription's next digest holds, and the mail that carries it.

Papers come from these places, in this order, each paper once: the trending papers of the
period (top N); among the papers new since the address's last digest, those that match its
saved searches, those by the authors and organizations and in the categories the member
follows or the subscription names, and those like the papers the member upvoted. Anything the
address received in an earlier digest (the ledger) is left out, so a digest never repeats a
paper. Each paper says why it is there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import css_inline
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Connection, select

from paperfeed.digest.new_papers import NewPapers
from paperfeed.models import DigestItem, Subscription, Upvote
from paperfeed.search.hybrid import PaperSearch
from paperfeed.services.cards import Card, load_cards
from paperfeed.services.feeds import trending_page
from paperfeed.services.follows import KINDS, following_many

PER_SOURCE = 10
MAX_SEARCHES = 10


class Candidates:
    """What the digests of one run share, computed once: the trending ranking, the papers new
    since the earliest of the run's last digests (with searches among them), members' follows,
    and the cards of every paper picked."""

    def __init__(
        self, conn: Connection, search: PaperSearch | None, since: dt.datetime,
        subscriptions: Sequence[Any] = (),
    ) -> None:  # fmt: skip
        self.conn, self.search = conn, search
        self.new = NewPapers(conn, search, since)
        self.new.prepare(q for sub in subscriptions for q in saved_searches(sub))
        members = sorted({sub.user_id for sub in subscriptions if sub.user_id is not None})
        self.follows = following_many(conn, members)
        self._trending: list[str] | None = None
        self._cards: dict[str, Card] = {}
        self._matches: dict[str, list[str]] = {}

    def trending(self, count: int) -> list[str]:
        if self._trending is None:
            cards, _ = trending_page(self.conn, 0, 150)
            self._trending = [card.id for card in cards]
            self._cards.update((card.id, card) for card in cards)
        return self._trending[: count * 3]

    def matches(self, query: str) -> list[str]:
        if query not in self._matches:
            self._matches[query] = self.new.matches(query, PER_SOURCE * 3)
        return self._matches[query]

    def upvoted(self, user_id: int) -> list[str]:
        return list(
            self.conn.scalars(
                select(Upvote.paper_id)
                .where(Upvote.user_id == user_id)
                .order_by(Upvote.created_at.desc())
                .limit(200)
            )
        )

    def cards(self, paper_ids: list[str]) -> dict[str, Card]:
        missing = [paper_id for paper_id in paper_ids if paper_id not in self._cards]
        self._cards.update((card.id, card) for card in load_cards(self.conn, missing))
        return {i: self._cards[i] for i in paper_ids if i in self._cards}


_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


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


def choose(
    conn: Connection, sub: Any, today: dt.date, since: dt.datetime, pool: Candidates
) -> Digest:
    """The papers of ``sub``'s digest for the period containing ``today``: those new since
    ``since`` (and the period's trending ones) that the address has not been sent before."""
    sources: list[tuple[list[str], str, int]] = []
    if sub.trending:
        period = "week" if sub.cadence == "weekly" else "day"
        sources.append((pool.trending(sub.trending), f"trending this {period}", sub.trending))
    new = pool.new
    for query in saved_searches(sub):
        sources.append((new.since(pool.matches(query), since), f"matches your search “{query}”",
                        PER_SOURCE))  # fmt: skip
    follows = pool.follows.get(sub.user_id, {kind: [] for kind in KINDS}) if sub.follows else {}
    for name in follows.get("author", []):
        sources.append((new.since(new.by_author.get(name, []), since), f"by {name}, whom you follow",
                        PER_SOURCE))  # fmt: skip
    for slug in follows.get("organization", []):
        sources.append((new.since(new.by_organization.get(slug, []), since),
                        f"from {slug}, which you follow", PER_SOURCE))  # fmt: skip
    categories = dict.fromkeys([*(sub.categories or "").split()[:10], *follows.get("category", [])])
    for category in categories:
        sources.append((new.since(new.by_category.get(category, []), since), f"new in {category}",
                        PER_SOURCE))  # fmt: skip
    if sub.similar and sub.user_id is not None:
        liked = pool.upvoted(sub.user_id)
        sources.append((new.since(new.like(liked, sub.similar * 3), since),
                        "like papers you upvoted", sub.similar))  # fmt: skip
    offered = list(dict.fromkeys(i for ids, _, _ in sources for i in ids))
    sent = _already_sent(conn, sub.id, offered)
    chosen: dict[str, str] = {}
    for paper_ids, reason, limit in sources:
        for paper_id in paper_ids:
            if limit <= 0:
                break
            if paper_id not in sent and paper_id not in chosen:
                chosen[paper_id] = reason
                limit -= 1
    cards = pool.cards(list(chosen))
    picks = [Pick(cards[i], reason) for i, reason in chosen.items() if i in cards]
    return Digest(sub.id, sub.email, sub.cadence, period_key(sub.cadence, today), picks)


def _already_sent(conn: Connection, subscription_id: int, paper_ids: list[str]) -> set[str]:
    """Which of ``paper_ids`` the ledger says this subscription was sent before."""
    sent: set[str] = set()
    for start in range(0, len(paper_ids), 500):
        sent.update(
            conn.scalars(
                select(DigestItem.paper_id).where(
                    DigestItem.subscription_id == subscription_id,
                    DigestItem.paper_id.in_(paper_ids[start : start + 500]),
                )
            )
        )
    return sent


def render_mail(digest: Digest, *, site_name: str, base_url: str, sender: str, unsubscribe_url: str,
                message_id: str, now: dt.datetime) -> EmailMessage:  # fmt: skip
    """A multipart/alternative mail (plain text and HTML with inlined CSS), with a Message-ID,
    a Date, and RFC 8058 one-click unsubscribe headers."""
    context = {
        "digest": digest,
        "site_name": site_name,
        "base_url": base_url,
        "unsubscribe_url": unsubscribe_url,
    }
    text = _env.get_template("digest.txt").render(**context)
    html = css_inline.inline(_env.get_template("digest.html").render(**context))
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = digest.email
    count = len(digest.picks)
    what = f"{count} paper{'' if count == 1 else 's'}" if count else "nothing new"
    mail["Subject"] = f"{site_name}: {what} for {digest.period}"
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = message_id
    mail["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail.set_content(text)
    mail.add_alternative(html, subtype="html")
    return mail


def active_subscriptions(conn: Connection, cadence: str, only: str | None = None) -> list[Any]:
    query = select(Subscription).where(
        Subscription.status == "active", Subscription.cadence == cadence
    )
    if only:
        query = query.where(Subscription.email == only.strip().lower())
    return list(conn.execute(query.order_by(Subscription.id)).all())
