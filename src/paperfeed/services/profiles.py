"""Member profiles, organizations and author claims.

Organization membership is self-declared (anyone confirmed may join), which is what lets a
member link a paper to their organization; an admin can suspend abuse. Author claims need an
admin's confirmation before the member's profile lists the papers of that author name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Connection, exists, func, insert, or_, select, update

from paperfeed.models import (
    AuditEntry,
    Author,
    AuthorClaim,
    Comment,
    FeedEntry,
    Organization,
    OrganizationMember,
    Paper,
    PaperAuthor,
    Upvote,
    User,
    table_of,
)
from paperfeed.services.accounts import AccountError, Member
from paperfeed.services.moderation import NotAllowed, log_action
from paperfeed.store.papers import slugify

LISTED = 50
users, claims = table_of(User), table_of(AuthorClaim)
orgs, org_members = table_of(Organization), table_of(OrganizationMember)


@dataclass(slots=True)
class Profile:
    handle: str
    name: str
    joined: dt.datetime
    authored: list[str] = field(default_factory=list)  # paper ids, newest first
    submitted: list[str] = field(default_factory=list)
    upvoted: list[str] | None = None  # None: private
    comments: list[tuple[str, str, dt.datetime]] = field(default_factory=list)  # paper, html, when
    organizations: list[tuple[str, str]] = field(default_factory=list)  # slug, name
    pending_claims: list[str] = field(default_factory=list)  # author names


@dataclass(slots=True)
class OrgPage:
    slug: str
    name: str
    members: list[tuple[str, str]]  # handle, name
    papers: list[str]


@dataclass(frozen=True, slots=True)
class PendingClaim:
    id: int
    handle: str
    author: str
    paper_id: str


def profile(conn: Connection, handle: str, viewer: Member | None) -> Profile | None:
    row = conn.execute(
        select(users).where(users.c.handle == handle.lower(), users.c.suspended_at.is_(None))
    ).first()
    if row is None:
        return None
    found = Profile(row.handle, row.name, row.created_at)
    authors = select(claims.c.author_id).where(
        claims.c.user_id == row.id, claims.c.status == "confirmed"
    )
    found.authored = list(conn.scalars(
        select(PaperAuthor.paper_id).join(Paper, Paper.id == PaperAuthor.paper_id)
        .where(PaperAuthor.author_id.in_(authors), PaperAuthor.hidden.is_(False)).order_by(Paper.published.desc(), Paper.id.desc()).limit(LISTED)
    ))  # fmt: skip
    found.submitted = list(conn.scalars(
        select(FeedEntry.paper_id).where(FeedEntry.submitted_by == row.id).order_by(FeedEntry.day.desc()).limit(LISTED)
    ))  # fmt: skip
    if row.public_votes or (viewer is not None and viewer.id == row.id):
        found.upvoted = list(conn.scalars(
            select(Upvote.paper_id).where(Upvote.user_id == row.id).order_by(Upvote.created_at.desc()).limit(LISTED)
        ))  # fmt: skip
    found.comments = [tuple(r) for r in conn.execute(  # type: ignore[misc]
        select(Comment.paper_id, Comment.html, Comment.created_at)
        .where(Comment.user_id == row.id, Comment.deleted_at.is_(None)).order_by(Comment.id.desc()).limit(LISTED)
    )]  # fmt: skip
    found.organizations = [tuple(r) for r in conn.execute(
        select(orgs.c.slug, orgs.c.name).join(org_members, org_members.c.organization_id == orgs.c.id)
        .where(org_members.c.user_id == row.id).order_by(orgs.c.name)
    )]  # fmt: skip
    if viewer is not None and viewer.id == row.id:
        found.pending_claims = list(conn.scalars(
            select(Author.name).join(claims, claims.c.author_id == Author.id)
            .where(claims.c.user_id == row.id, claims.c.status == "pending")
        ))  # fmt: skip
    return found


def set_public_votes(conn: Connection, member: Member, public: bool) -> None:
    conn.execute(update(users).where(users.c.id == member.id).values(public_votes=public))


def organization(conn: Connection, slug: str) -> OrgPage | None:
    row = conn.execute(select(orgs).where(orgs.c.slug == slug)).first()
    if row is None:
        return None
    members = [tuple(r) for r in conn.execute(
        select(users.c.handle, users.c.name).join(org_members, org_members.c.user_id == users.c.id)
        .where(org_members.c.organization_id == row.id, users.c.suspended_at.is_(None)).order_by(users.c.name)
    )]  # fmt: skip
    papers = list(conn.scalars(
        select(Paper.id).where(Paper.organization_id == row.id).order_by(Paper.published.desc(), Paper.id.desc()).limit(LISTED)
    ))  # fmt: skip
    return OrgPage(row.slug, row.name, members, papers)


def join(conn: Connection, member: Member, slug: str, now: dt.datetime) -> bool:
    org_id = conn.scalar(select(orgs.c.id).where(orgs.c.slug == slug))
    if org_id is None:
        return False
    if (
        conn.scalar(
            select(org_members.c.user_id).where(
                org_members.c.organization_id == org_id, org_members.c.user_id == member.id
            )
        )
        is None
    ):
        conn.execute(
            insert(org_members).values(organization_id=org_id, user_id=member.id, joined_at=now)
        )
    return True


def link_paper(conn: Connection, member: Member, paper_id: str, name: str, now: dt.datetime) -> str:
    """Link ``paper_id`` to the organization called ``name`` (created, with the member in it,
    if it does not exist); only its members may link papers to an existing one. A link that
    is already there is changed only by those who know the paper (:func:`may_relink`), and
    every change goes into the audit log: a wrong affiliation misleads every reader."""
    clean = " ".join(name.split())[:200]
    if not clean:
        raise AccountError("name the organization")
    slug = slugify(clean)
    papers = table_of(Paper)
    # Locked (PostgreSQL; SQLite's write transaction holds the database): two changes at once
    # each log what they really replaced.
    current = conn.scalar(
        select(papers.c.organization_id).where(papers.c.id == paper_id).with_for_update()
    )
    org_id = conn.scalar(select(orgs.c.id).where(orgs.c.slug == slug))
    if org_id is not None and org_id == current:
        return slug
    if current is not None and not may_relink(conn, member, paper_id):
        raise NotAllowed(
            "this paper is already linked to an organization: only the member who submitted "
            "it, one of its confirmed authors or an admin may change that"
        )
    if org_id is None:
        org_id = conn.execute(insert(orgs).values(slug=slug, name=clean)).inserted_primary_key[0]  # type: ignore[index]
        conn.execute(
            insert(org_members).values(organization_id=org_id, user_id=member.id, joined_at=now)
        )
    elif not member.is_admin and not _in_organization(conn, member, org_id):
        raise NotAllowed(f"join {clean} first: only its members link papers to it")
    conn.execute(update(papers).where(papers.c.id == paper_id).values(organization_id=org_id))
    before = conn.scalar(select(orgs.c.slug).where(orgs.c.id == current)) if current else None
    log_action(conn, member, "linked organization" if before is None else "relinked organization",
               f"paper {paper_id}", now, f"{before or '(none)'} -> {slug}")  # fmt: skip
    return slug


def may_relink(conn: Connection, member: Member, paper_id: str) -> bool:
    """An admin, the member who put the paper on the feed before its current link was made,
    or one whose claim to be one of its authors an admin confirmed.

    "Before" matters: submitting a stored paper that is not on the feed yet makes anyone its
    submitter, and must not be a way to take over a link someone else made (or an import set,
    which leaves no audit row: then no submitter may change it)."""
    if member.is_admin:
        return True
    linked_at = (
        select(func.max(AuditEntry.at))
        .where(
            AuditEntry.target == f"paper {paper_id}",
            AuditEntry.action.in_(("linked organization", "relinked organization")),
        )
        .scalar_subquery()
    )
    submitted = select(FeedEntry.id).where(
        FeedEntry.paper_id == paper_id,
        FeedEntry.submitted_by == member.id,
        FeedEntry.submitted_at <= linked_at,
    )
    authored = select(claims.c.id).where(
        claims.c.user_id == member.id,
        claims.c.status == "confirmed",
        claims.c.author_id.in_(
            select(PaperAuthor.author_id).where(
                PaperAuthor.paper_id == paper_id, PaperAuthor.hidden.is_(False)
            )
        ),
    )
    return bool(conn.scalar(select(or_(exists(submitted), exists(authored)))))


def _in_organization(conn: Connection, member: Member, org_id: int) -> bool:
    return (
        conn.scalar(
            select(org_members.c.user_id).where(
                org_members.c.organization_id == org_id, org_members.c.user_id == member.id
            )
        )
        is not None
    )


def claim(conn: Connection, member: Member, paper_id: str, position: int, now: dt.datetime) -> str:
    author = conn.execute(
        select(PaperAuthor.author_id).where(
            PaperAuthor.paper_id == paper_id,
            PaperAuthor.position == position,
            PaperAuthor.hidden.is_(False),
        )
    ).first()
    if author is None:
        raise AccountError("that author is not on this paper")
    existing = conn.scalar(
        select(claims.c.status).where(
            claims.c.user_id == member.id, claims.c.author_id == author.author_id
        )
    )
    if existing is None:
        conn.execute(insert(claims).values(user_id=member.id, author_id=author.author_id, paper_id=paper_id,
                                           status="pending", created_at=now))  # fmt: skip
        return "pending"
    return str(existing)


def pending(conn: Connection) -> list[PendingClaim]:
    rows = conn.execute(
        select(claims.c.id, users.c.handle, Author.name, claims.c.paper_id)
        .join(users, users.c.id == claims.c.user_id).join(Author, Author.id == claims.c.author_id)
        .where(claims.c.status == "pending").order_by(claims.c.id)
    ).all()  # fmt: skip
    return [PendingClaim(*row) for row in rows]


def decide(
    conn: Connection, admin: Member | None, claim_id: int, confirm: bool, now: dt.datetime
) -> bool:
    if admin is None or not admin.is_admin:
        raise NotAllowed("only admins may do this")
    row = conn.execute(select(claims.c.status).where(claims.c.id == claim_id)).first()
    if row is None or row.status != "pending":
        return False
    status = "confirmed" if confirm else "rejected"
    conn.execute(
        update(claims).where(claims.c.id == claim_id).values(status=status, decided_at=now)
    )
    log_action(conn, admin, f"{status} author claim", f"claim {claim_id}", now)
    return True
