"""The "For you" tab: the new papers a member is most likely to want, each with its reason.

Signals: upvotes, saves and papers in the member's lists are positives; "not interested" marks
are negatives; follows (authors, organizations, categories) bring their new papers in. Only
signals since the member's last "reset my recommendations" count. With no positives and no
follows there is nothing to go on, and the page asks the member to pick categories or find a
few papers (never an empty page without a way forward).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, Label, delete, literal, select, union_all, update

from paperfeed.models import Dismissal, ListItem, ReadingList, SavedPaper, Upvote, User, table_of
from paperfeed.services.accounts import Member
from paperfeed.services.follows import following
from paperfeed.services.new_papers import NewPapers
from paperfeed.store.bulk import DO_NOTHING, insert_rows

dismissals = table_of(Dismissal)
MAX_SIGNALS = 500
FOLLOW_BONUS = 0.25  # a followed author's or category's paper ranks above a merely similar one
WHY_KIND = {"saved": "you saved", "upvoted": "you upvoted", "listed": "in your lists"}


@dataclass(frozen=True, slots=True)
class Suggestion:
    paper_id: str
    score: float
    reason: str  # "by X, whom you follow"; for a likeness, what the member did: "you saved"
    like: str | None = None  # the positive this one is most like ("like *X* you saved")


@dataclass(frozen=True, slots=True)
class Signals:
    positives: dict[str, str]  # paper id → "saved", "upvoted" or "listed"
    negatives: list[str]
    follows: dict[str, list[str]]

    @property
    def empty(self) -> bool:
        return not self.positives and not any(self.follows.values())


def signals(conn: Connection, user_id: int) -> Signals:
    since = conn.scalar(select(User.recommend_from).where(User.id == user_id))
    since = since or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    kinds = union_all(
        select(SavedPaper.paper_id, SavedPaper.created_at.label("at"), _label("saved")).where(
            SavedPaper.user_id == user_id, SavedPaper.created_at >= since
        ),
        select(Upvote.paper_id, Upvote.created_at.label("at"), _label("upvoted")).where(
            Upvote.user_id == user_id, Upvote.created_at >= since
        ),
        select(ListItem.paper_id, ListItem.added_at.label("at"), _label("listed"))
        .join(ReadingList, ReadingList.id == ListItem.list_id)
        .where(ReadingList.user_id == user_id, ListItem.added_at >= since),
    ).subquery()
    positives: dict[str, str] = {}
    for paper_id, kind in conn.execute(
        select(kinds.c.paper_id, kinds.c.kind).order_by(kinds.c.at.desc()).limit(MAX_SIGNALS)
    ):
        positives.setdefault(paper_id, kind)
    negatives = list(
        conn.scalars(
            select(dismissals.c.paper_id)
            .where(dismissals.c.user_id == user_id)
            .order_by(dismissals.c.created_at.desc())
            .limit(MAX_SIGNALS)
        )
    )
    return Signals(positives, negatives, following(conn, user_id))


def suggestions(recent: NewPapers, found: Signals, limit: int = 30) -> list[Suggestion]:
    """The best ``limit`` new papers for these signals, best first."""
    seen = set(found.positives) | set(found.negatives)
    best: dict[str, Suggestion] = {}
    for paper_id, score, like in recent.liked(list(found.positives), found.negatives, limit * 2):
        best[paper_id] = Suggestion(paper_id, score, WHY_KIND[found.positives[like]], like)
    followed = [
        (recent.by_author, "author", "by {}, whom you follow"),
        (recent.by_organization, "organization", "from {}, which you follow"),
        (recent.by_category, "category", "in {}, which you follow"),
    ]
    for index, kind, words in followed:
        for target in found.follows.get(kind, []):
            for rank, paper_id in enumerate(index.get(target, [])[:limit]):
                earlier = best.get(paper_id)
                if paper_id in seen or (earlier is not None and earlier.like is None):
                    continue  # seen, or already in through another follow
                # A follow explains a paper better than a likeness; it keeps the likeness's
                # score (or ranks by recency) plus a bonus.
                base = earlier.score if earlier is not None else 0.5 - rank / (10 * limit)
                best[paper_id] = Suggestion(paper_id, FOLLOW_BONUS + base, words.format(target))
    return sorted(best.values(), key=lambda s: -s.score)[:limit]


def not_interested(conn: Connection, member: Member, paper_id: str, now: dt.datetime) -> None:
    insert_rows(conn, dismissals, ("user_id", "paper_id", "created_at"),
                [(member.id, paper_id, now)], on_conflict=DO_NOTHING)  # fmt: skip


def reset(conn: Connection, member: Member, now: dt.datetime) -> None:
    """Start over: forget "not interested" marks, and let only signals from now on count (the
    saves, votes and lists themselves stay)."""
    conn.execute(delete(dismissals).where(dismissals.c.user_id == member.id))
    conn.execute(update(User).where(User.id == member.id).values(recommend_from=now))


def _label(kind: str) -> Label[str]:
    return literal(kind).label("kind")
