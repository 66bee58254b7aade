"""The store's tables.

One schema serves SQLite and PostgreSQL. Every change to it is an Alembic migration in
``store/migrations/versions``; a test checks that the migrations and these models agree.
Constraint names follow a naming convention so that migrations can refer to them on both
databases.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Timestamp = DateTime(timezone=True)


def unlimited(sqlite_length: int) -> String:
    """Text of any length, declared ``VARCHAR(n)`` on SQLite as the first migrations made it.

    SQLite never enforces a VARCHAR length, so a value of any length is stored whole there;
    PostgreSQL does, so there the column is TEXT (migration 0015). Changing only the declared
    type on SQLite would copy the whole table for nothing.
    """
    return String(sqlite_length).with_variant(Text(), "postgresql")


def utc(stamp: dt.datetime) -> dt.datetime:
    """A stored :data:`Timestamp` as an aware datetime: SQLite gives them back naive (in UTC)."""
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Organization(Base):
    """A lab or company that papers are linked to (shown on cards, has its own page later)."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    #: A source's own short name for it (the Daily Papers site's ``caltech``), if one gave it.
    handle: Mapped[str | None] = mapped_column(String(200))


class Author(Base):
    """An author name as written on papers; claims by members come in a later migration."""

    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(unlimited(500), unique=True)


class Paper(Base):
    """One paper, under its canonical id (bare arXiv id, or ``source:id`` for other sources).

    ``updated_at`` changes only when an import actually changed the paper, so ``(updated_at, id)``
    is the change cursor the search indexer follows.
    """

    __tablename__ = "papers"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    version: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    abstract: Mapped[str] = mapped_column(Text, default="")
    primary_category: Mapped[str | None] = mapped_column(unlimited(40), index=True)
    published: Mapped[dt.date | None] = mapped_column(Date, index=True)
    updated: Mapped[dt.date | None] = mapped_column(Date)
    listed_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    doi: Mapped[str | None] = mapped_column(unlimited(300))
    journal_ref: Mapped[str | None] = mapped_column(Text)
    comments: Mapped[str | None] = mapped_column(Text)
    submitter: Mapped[str | None] = mapped_column(unlimited(500))
    abs_url: Mapped[str | None] = mapped_column(Text)
    pdf_url: Mapped[str | None] = mapped_column(Text)
    code_url: Mapped[str | None] = mapped_column(Text)
    project_url: Mapped[str | None] = mapped_column(Text)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    # Counters shown on every card; changed by votes and comments, never by imports of metadata,
    # so they do not move the change cursor (the search index does not hold them).
    upvotes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    num_comments: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: How many authors a source counted when it did not name them (the captured search page
    #: shows "4 authors" and no names); None when the names are the count.
    num_authors: Mapped[int | None] = mapped_column(Integer)
    #: A date as a source showed it when it is not a full date ("Apr 8", no year): kept as
    #: text rather than guessed into ``published``.
    date_shown: Mapped[str | None] = mapped_column(String(40))
    #: Digest of the normalised title (:func:`paperfeed.normalize.title_key`): a paper without
    #: an arXiv id and the arXiv paper with the same title are merged, whichever came first.
    title_key: Mapped[str | None] = mapped_column(String(32))

    organization: Mapped[Organization | None] = relationship()
    author_links: Mapped[list[PaperAuthor]] = relationship(
        order_by="PaperAuthor.position", cascade="all, delete-orphan", passive_deletes=True
    )
    category_links: Mapped[list[PaperCategory]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        Index("ix_papers_change_cursor", "updated_at", "id"),
        # Trending reads the votes of thousands of featured papers: from this index alone.
        Index("ix_papers_id_upvotes", "id", "upvotes"),
        # Digests look for the papers that came in since the last one.
        Index("ix_papers_created_at", "created_at"),
        # Only the few papers without an arXiv id have a key: a partial index stays tiny and
        # costs bulk imports of arXiv records nothing.
        Index(
            "ix_papers_title_key",
            "title_key",
            postgresql_where=text("title_key IS NOT NULL"),
            sqlite_where=text("title_key IS NOT NULL"),
        ),
    )

    @property
    def authors(self) -> list[str]:
        """Author names in the order the paper lists them."""
        return [link.author.name for link in self.author_links]

    @property
    def categories(self) -> list[str]:
        """Categories with the primary one first, as arXiv lists them."""
        rest = sorted(
            c.category for c in self.category_links if c.category != self.primary_category
        )
        return ([self.primary_category] if self.primary_category else []) + rest


class PaperAuthor(Base):
    """Authorship, keeping the order of the author list."""

    __tablename__ = "paper_authors"

    paper_id: Mapped[str] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"), index=True)
    affiliation: Mapped[str | None] = mapped_column(unlimited(500))  # as the source gave it
    #: Listed but hidden by the source: positions after the shown authors, kept only for the
    #: compatible API (which sends them with ``hidden: true``), never shown or searched.
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    author: Mapped[Author] = relationship(lazy="joined")

    # Small rows keyed by their primary key: without a rowid SQLite keeps one B-tree, not two.
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012


class PaperCategory(Base):
    """A paper's arXiv categories (primary and cross-lists), for per-category feeds and counts."""

    __tablename__ = "paper_categories"

    paper_id: Mapped[str] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[str] = mapped_column(unlimited(40), primary_key=True)

    __table_args__ = (
        Index("ix_paper_categories_category_paper", "category", "paper_id"),
        {"sqlite_with_rowid": False},
    )


class PaperKeyphrases(Base):
    """A paper's keyphrases (the public API's ``ai_keywords``), most relevant first, one a line.

    Derived like the vectors but kept in the store: computed once, where the paper is embedded
    (from the same model pass), and read by every node and page without the model."""

    __tablename__ = "paper_keyphrases"

    paper_id: Mapped[str] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True
    )
    phrases: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(100))  # the embedder that scored them
    computed_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class PaperSource(Base):
    """Which sources gave us a paper, and a digest of what each last said about it.

    Kept per source so that re-importing any one file is recognised as "unchanged" even when
    another source (say, a daily-papers list after the arXiv snapshot) added to the same paper.
    """

    __tablename__ = "paper_sources"

    paper_id: Mapped[str] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(40), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(32))
    seen_at: Mapped[dt.datetime] = mapped_column(Timestamp)

    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012


class PaperDeletion(Base):
    """A tombstone: the paper was deleted from the store at ``deleted_at``.

    The search indexes follow changes by cursor; a deleted row leaves nothing to follow, so
    deletions are recorded here and the indexer drops the papers on its next run.
    """

    __tablename__ = "paper_deletions"

    paper_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    deleted_at: Mapped[dt.datetime] = mapped_column(Timestamp, index=True)


class PaperRedirect(Base):
    """A paper merged into another (a captured paper into its arXiv record): its old address
    answers with a permanent redirect to the paper that took its place."""

    __tablename__ = "paper_redirects"

    old_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    new_id: Mapped[str] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), index=True)
    merged_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class PaperVector(Base):
    """A paper's embedding by one model, computed once by a worker and read by every node.

    ``vector`` is little-endian float16 (``dimensions`` of them): half the bytes of float32,
    and what the nodes' indexes store anyway. ``text_hash`` is the hash of the text that was
    embedded, so a paper whose import changed only its authors keeps its vector;
    ``paper_updated_at`` is the paper's change stamp when the vector was last checked against
    it. ``(model, created_at, paper_id)`` is the cursor nodes follow to fill their indexes.
    """

    __tablename__ = "paper_vectors"

    paper_id: Mapped[str] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(100), primary_key=True)
    dimensions: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    text_hash: Mapped[str] = mapped_column(String(32))
    paper_updated_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)

    __table_args__ = (Index("ix_paper_vectors_model_cursor", "model", "created_at", "paper_id"),)


class VectorJob(Base):
    """A paper waiting for its vector by ``model``: the store is the embedding workers' queue.

    A worker claims jobs by setting ``worker`` and ``lease_until``; it deletes them in the
    transaction that writes their vectors. A job whose lease has passed (its worker died) is
    claimed again by another worker.
    """

    __tablename__ = "vector_jobs"

    paper_id: Mapped[str] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(100), primary_key=True)
    worker: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[dt.datetime | None] = mapped_column(Timestamp)

    __table_args__ = (Index("ix_vector_jobs_model_lease", "model", "lease_until"),)


class SearchNode(Base):
    """A serving node's report of how far its search index has followed the store, for
    ``paperfeed status`` (each node writes its own row after each catch-up)."""

    __tablename__ = "search_nodes"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    model: Mapped[str | None] = mapped_column(String(100))
    keyword_cursor_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    vector_cursor_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    vectors: Mapped[int] = mapped_column(Integer, default=0)
    reported_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class FeedEntry(Base):
    """A paper featured on a day's feed: by whom, when. A paper is featured on one day at most."""

    __tablename__ = "feed_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paper_id: Mapped[str] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), unique=True)
    day: Mapped[dt.date] = mapped_column(Date)
    submitter: Mapped[str | None] = mapped_column(String(200))  # handle, as on the public site
    submitter_name: Mapped[str | None] = mapped_column(String(500))
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (Index("ix_feed_entries_day", "day", "id"),)


class Subscription(Base):
    """An address that asked for digests: ``pending`` until it clicks the confirmation link
    (double opt-in: nothing else is sent before), then ``active`` until it unsubscribes."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    status: Mapped[str] = mapped_column(
        String(20), default="pending"
    )  # pending, active, unsubscribed
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cadence: Mapped[str] = mapped_column(String(10), default="daily", server_default="daily")
    trending: Mapped[int] = mapped_column(
        Integer, default=10, server_default="10"
    )  # top N, 0: none
    searches: Mapped[str] = mapped_column(Text, default="", server_default="")  # one query a line
    categories: Mapped[str] = mapped_column(Text, default="", server_default="")  # space-separated
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    # A member's follows (authors, organizations, categories) go in unless this is off.
    follows: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # How many "papers like the ones you upvoted" (nearest neighbours of their vectors).
    similar: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Send a short "nothing new" mail when a period has no papers, rather than nothing.
    send_empty: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class DigestItem(Base):
    """The ledger: this subscription was sent this paper once; it never gets it again."""

    __tablename__ = "digest_items"

    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), primary_key=True
    )
    paper_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))

    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012


class Delivery(Base):
    """One digest for one address and period. Written (with its papers) before the mail is
    sent, marked sent after: a restart sends exactly the ones not marked."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    cadence: Mapped[str] = mapped_column(String(10))
    period: Mapped[str] = mapped_column(String(20))  # 2026-11-25 or 2026-W48
    status: Mapped[str] = mapped_column(String(20))  # pending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[str] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    sent_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)

    __table_args__ = (UniqueConstraint("subscription_id", "cadence", "period"),)


class OutboxMail(Base):
    """A mail a request (sign-up, password reset, digest confirmation) asked for, written in the
    same transaction as the change that caused it and sent later by the outbox worker
    (``services/outbox.py``): a request never waits on the SMTP server, and nothing is lost
    while it is down. ``pending`` until sent or given up; ``sending`` while a worker holds it."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # confirm-account, reset-password, ...
    recipient: Mapped[str] = mapped_column(String(320), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)  # emptied once sent: it may hold a one-time link
    message_id: Mapped[str] = mapped_column(String(200))  # the same on every attempt
    status: Mapped[str] = mapped_column(String(20))  # pending, sending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    sent_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)


class SyncRun(Base):
    """One run of one configured source by ``paperfeed sync``: when, what it did, what failed."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(
        String(200), index=True
    )  # the source's name in paperfeed.toml
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))  # running, done, failed
    started_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    finished_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    bad: Mapped[int] = mapped_column(Integer, default=0)
    featured: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class SourceState(Base):
    """Where a source's harvest stands, kept between runs: the date to harvest from next time,
    and the resumption token of a harvest under way (so a killed one resumes, not restarts)."""

    __tablename__ = "source_states"

    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    harvested_until: Mapped[dt.date | None] = mapped_column(Date)
    resumption_token: Mapped[str | None] = mapped_column(Text)
    harvest_started: Mapped[dt.date | None] = mapped_column(Date)  # responseDate of its first page
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class SourceFailure(Base):
    """A record a source could not import; the next run tries it again."""

    __tablename__ = "source_failures"

    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    item: Mapped[str] = mapped_column(String(300), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    last_tried: Mapped[dt.datetime] = mapped_column(Timestamp)


class User(Base):
    """A member. ``email_confirmed_at`` is set by the signed link mailed at sign-up."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    handle: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    email_confirmed_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    suspended_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    public_votes: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # "Reset my recommendations": signals older than this no longer shape "For you".
    recommend_from: Mapped[dt.datetime | None] = mapped_column(Timestamp)


class MemberSession(Base):
    """A logged-in browser. The cookie holds only this random id (signed); deleting the row
    logs that browser out, even if someone kept a copy of its cookie."""

    __tablename__ = "member_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class ApiToken(Base):
    """A personal token for the write API. Only a SHA-256 of it is stored: a stolen database
    reveals no usable token."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    shown: Mapped[str] = mapped_column(String(16))  # the first characters, to recognise it
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


class AuditEntry(Base):
    """What an admin did, to whom, when: hidden papers, deleted comments, suspended members."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(300))
    detail: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(Timestamp, index=True)


class OrganizationMember(Base):
    """A member who says they belong to an organization (they may then link its papers)."""

    __tablename__ = "organization_members"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    joined_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class AuthorClaim(Base):
    """A member's claim to be one of the authors: pending until an admin decides."""

    __tablename__ = "author_claims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id", ondelete="CASCADE"), index=True)
    paper_id: Mapped[str] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE")
    )  # where it was claimed
    status: Mapped[str] = mapped_column(String(20))  # pending, confirmed, rejected
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    decided_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)

    __table_args__ = (UniqueConstraint("user_id", "author_id"),)


class Follow(Base):
    """A member follows an author (by name as written on papers), an organization (by slug)
    or a category: their new papers go into the member's digest and "For you"."""

    __tablename__ = "follows"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(
        String(20), primary_key=True
    )  # author, organization, category
    target: Mapped[str] = mapped_column(unlimited(500), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)

    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012


class SavedPaper(Base):
    """A paper a member saved for later (the "Saved" page; a positive for "For you")."""

    __tablename__ = "saved_papers"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    paper_id: Mapped[str] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)

    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012


class Dismissal(Base):
    """ "Not interested": the paper leaves "For you" and pushes its like away."""

    __tablename__ = "dismissals"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    paper_id: Mapped[str] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)

    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012


class ReadingList(Base):
    """A member's named list of papers. ``visibility``: private (the owner only), unlisted
    (anyone with the link, which holds the unguessable ``token``) or public (also on the
    owner's profile)."""

    __tablename__ = "reading_lists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(40), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    visibility: Mapped[str] = mapped_column(String(10), default="private", server_default="private")
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class ListItem(Base):
    """A paper in a reading list, at a position, with the owner's note."""

    __tablename__ = "list_items"

    list_id: Mapped[int] = mapped_column(
        ForeignKey("reading_lists.id", ondelete="CASCADE"), primary_key=True
    )
    paper_id: Mapped[str] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    added_at: Mapped[dt.datetime] = mapped_column(Timestamp)

    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012


class Upvote(Base):
    """One member's vote for one paper (the counter on papers is kept in the same transaction)."""

    __tablename__ = "upvotes"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    paper_id: Mapped[str] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class Comment(Base):
    """A comment on a paper, or a reply to one (one level). Markdown as written, and the
    sanitised HTML made from it once, when written."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paper_id: Mapped[str] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    edited_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


class IngestRun(Base):
    """One import of one file: what it did, and how far it got, so a killed run can resume."""

    __tablename__ = "ingest_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    path: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    finished_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    lines_done: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    bad: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_ingest_runs_source_path", "source", "path"),)


class BudgetCounter(Base):
    """How much of a limit's budget one key (a member, an address, a route) has used in the
    current fixed window; ``store/counters.py`` takes from it atomically."""

    __tablename__ = "budget_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_end: Mapped[dt.datetime] = mapped_column(Timestamp, index=True)
    used: Mapped[int] = mapped_column(Integer)


def table_of(model: type[Base]) -> Table:
    """The Core table of a model, typed as one, for bulk statements."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
