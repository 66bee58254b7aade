"""What a subscription's next digest holds, and the mail that carries it.

Papers come from three places, in this order, each paper once: the trending papers of the
period (top N), papers new since the last digest that match the subscription's saved searches,
and papers new in its categories. Anything the address received in an earlier digest (the
ledger) is left out, so a digest never repeats a paper. Each paper says why it is there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import css_inline
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Connection, select

from paperfeed.models import DigestItem, Paper, Subscription
from paperfeed.search.hybrid import PaperSearch
from paperfeed.services.cards import Card, load_cards
from paperfeed.services.feeds import category_paper_ids, trending_page

PER_SOURCE = 10
SEARCH_DEPTH = 30  # hits looked at per saved search (a digest takes at most 10 of them)


class Candidates:
    """What many digests of one run share, computed once: the trending ranking, each
    category's newest papers, each distinct saved search's hits."""

    def __init__(self, conn: Connection, search: PaperSearch | None) -> None:
        self.conn, self.search = conn, search
        self._trending: list[str] | None = None
        self._categories: dict[str, list[str]] = {}
        self._searches: dict[str, list[str]] = {}

    def trending(self, count: int) -> list[str]:
        if self._trending is None:
            cards, _ = trending_page(self.conn, 0, 150)
            self._trending = [card.id for card in cards]
        return self._trending[: count * 3]

    def category(self, category: str) -> list[str]:
        if category not in self._categories:
            self._categories[category] = category_paper_ids(self.conn, category, 100)
        return self._categories[category]

    def matches(self, query: str) -> list[str]:
        if self.search is None:
            return []
        if query not in self._searches:
            hits = self.search.search(query, limit=SEARCH_DEPTH, snippets=False).hits
            self._searches[query] = [hit.id for hit in hits]
        return self._searches[query]


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


def choose(
    conn: Connection,
    sub: Any,
    today: dt.date,
    search: PaperSearch | None,
    since: dt.datetime,
    pool: Candidates | None = None,
) -> Digest:
    """The papers of ``sub``'s digest for the period containing ``today``."""
    pool = pool or Candidates(conn, search)
    digest = Digest(sub.id, sub.email, sub.cadence, period_key(sub.cadence, today))
    sent = set(
        conn.scalars(select(DigestItem.paper_id).where(DigestItem.subscription_id == sub.id))
    )
    chosen: dict[str, str] = {}

    def take(paper_ids: list[str], reason: str, limit: int) -> None:
        for paper_id in paper_ids:
            if limit <= 0:
                return
            if paper_id not in sent and paper_id not in chosen:
                chosen[paper_id] = reason
                limit -= 1

    if sub.trending:
        take(
            pool.trending(sub.trending),
            "trending this " + ("week" if sub.cadence == "weekly" else "day"),
            sub.trending,
        )
    for query in [q.strip() for q in (sub.searches or "").splitlines() if q.strip()][:10]:
        take(
            _added_since(conn, pool.matches(query), since),
            f"matches your search “{query}”",
            PER_SOURCE,
        )
    for category in (sub.categories or "").split()[:10]:
        take(_added_since(conn, pool.category(category), since), f"new in {category}", PER_SOURCE)
    by_id = {card.id: card for card in load_cards(conn, list(chosen))}
    digest.picks = [Pick(by_id[i], reason) for i, reason in chosen.items() if i in by_id]
    return digest


def _added_since(conn: Connection, paper_ids: list[str], since: dt.datetime) -> list[str]:
    """``paper_ids`` (in their order) that came into the store after ``since``."""
    if not paper_ids:
        return []
    added = {
        paper_id: when if when.tzinfo else when.replace(tzinfo=dt.UTC)
        for paper_id, when in conn.execute(
            select(Paper.id, Paper.created_at).where(Paper.id.in_(paper_ids))
        )
    }
    return [paper_id for paper_id in paper_ids if paper_id in added and added[paper_id] >= since]


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
    mail["Subject"] = f"{site_name}: {count} paper{'' if count == 1 else 's'} for {digest.period}"
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
