"""Profiles, organizations and author claims, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, insert, select, update

from paperfeed.models import (
    AuditEntry,
    AuthorClaim,
    FeedEntry,
    Organization,
    Paper,
    PaperAuthor,
    User,
)
from paperfeed.store.engine import write_transaction
from tests.servers import Inbox
from tests.web.helpers import PASSWORD, join, token
from tests.web.test_moderation import make_admin


def test_organizations_claims_and_profiles(
    site: TestClient, inbox: Inbox, site_home: Path, db_url: str
) -> None:
    join(site, inbox, "ada", name="Ada L.")
    linked = site.post("/papers/1904.11093/organization", data={"name": "NAVER AI Lab", "csrf_token": token(site)},
                       follow_redirects=False)  # fmt: skip
    assert linked.status_code == 303
    card = site.get("/?date=2026-06-09").text
    assert '<a class="org" href="/orgs/naver-ai-lab"' in card and "NAVER AI Lab" in card
    org = site.get("/orgs/naver-ai-lab").text
    assert "Deep Sparse Representation-based Classification" in org and "Ada L." in org

    paper = site.get("/papers/1904.11093").text
    authors = re.findall(r'<option value="(\d+)">([^<]+)</option>', paper)
    assert authors
    claimed = site.post("/papers/1904.11093/claim", data={"position": authors[0][0], "csrf_token": token(site)},
                        follow_redirects=False)  # fmt: skip
    assert claimed.headers["location"] == "/papers/1904.11093?claim=pending"
    assert "Author claims waiting for an admin" in site.get("/u/ada").text
    assert "Papers</h2>" not in site.get("/u/ada").text
    site.post("/papers/1904.11093/upvote", data={"csrf_token": token(site)})
    site.post(
        "/papers/1904.11093/comments", data={"body": "a *fine* paper", "csrf_token": token(site)}
    )
    site.post("/logout", data={"csrf_token": token(site)})

    join(site, inbox, "bob")
    refused = site.post(
        "/papers/2008.03186/organization", data={"name": "NAVER AI Lab", "csrf_token": token(site)}
    )
    assert refused.status_code == 403 and "join NAVER AI Lab first" in refused.text
    site.post("/orgs/naver-ai-lab/join", data={"csrf_token": token(site)})
    assert site.post("/papers/2008.03186/organization", data={"name": "NAVER AI Lab", "csrf_token": token(site)},
                     follow_redirects=False).status_code == 303  # fmt: skip
    public = site.get("/u/ada").text
    assert "Upvoted</h2>" not in public and "Submitted" not in public and "<em>fine</em>" in public
    site.post("/logout", data={"csrf_token": token(site)})

    assert make_admin(site_home, db_url, "boss@lab.org").returncode == 0
    site.post(
        "/login",
        data={"email": "boss@lab.org", "password": PASSWORD, "csrf_token": token(site, "/login")},
    )
    admin = site.get("/admin").text
    claim_id = re.search(r"/admin/claims/(\d+)/confirm", admin)
    assert claim_id is not None and authors[0][1] in admin
    site.post(f"/admin/claims/{claim_id[1]}/confirm", data={"csrf_token": token(site, "/admin")})
    assert "confirmed author claim" in site.get("/admin").text
    site.post("/logout", data={"csrf_token": token(site)})

    site.post(
        "/login",
        data={"email": "ada@lab.org", "password": PASSWORD, "csrf_token": token(site, "/login")},
    )
    site.post("/settings/votes", data={"public": "yes", "csrf_token": token(site, "/settings")})
    mine = TestClient(site.app).get("/u/ada").text  # as anyone sees it
    assert "Papers</h2>" in mine and "Deep Sparse Representation-based Classification" in mine
    assert "Upvoted</h2>" in mine
    assert site.get("/u/nobody").status_code == 404 and site.get("/orgs/nothing").status_code == 404


def test_hostile_and_over_long_input_in_every_member_field(site: TestClient, inbox: Inbox) -> None:
    join(site, inbox, "eve", name='<img src=x onerror="alert(1)">Eve')
    site.post(
        "/papers/1904.11093/organization",
        data={"name": "<script>alert('org')</script> Lab", "csrf_token": token(site)},
    )
    for path in (
        "/?date=2026-06-09",
        "/papers/1904.11093",
        "/u/eve",
        "/orgs/script-alert-org-script-lab",
    ):
        page = site.get(path)
        assert page.status_code == 200, path
        assert "<script>alert" not in page.text and "<img src=x" not in page.text, path
    assert (
        "&lt;script&gt;alert(&#39;org&#39;)&lt;/script&gt; Lab"
        in site.get("/orgs/script-alert-org-script-lab").text
    )

    huge = "x" * 30_000
    for path, data in [
        ("/papers/1904.11093/comments", {"body": huge}),
        ("/papers/1904.11093/organization", {"name": huge}),
        ("/submit", {"arxiv": huge}),
        ("/settings/tokens", {"name": huge}),
    ]:  # fmt: skip
        answer = site.post(path, data={**data, "csrf_token": token(site)})
        assert answer.status_code == 422, path
        assert "at most" in answer.text or "characters" in answer.text, path
    signup = TestClient(site.app)
    long_name = signup.post("/signup", data={"email": "x@lab.org", "handle": "xx", "name": huge, "password": PASSWORD,
                                             "csrf_token": token(signup, "/signup")})  # fmt: skip
    assert long_name.status_code == 422


def test_finding_6_only_submitter_claimed_author_or_admin_relink_and_all_is_logged(
    site: TestClient, inbox: Inbox, engine: Engine
) -> None:
    members = {}
    for handle in ("ada", "bob", "carol", "dave", "erin"):
        members[handle] = TestClient(site.app)
        join(members[handle], inbox, handle)

    def link(handle: str, paper: str, name: str) -> Response:
        client = members[handle]
        return client.post(f"/papers/{paper}/organization", data={"name": name, "csrf_token": token(client)},
                           follow_redirects=False)  # fmt: skip

    def linked_to() -> str | None:
        with engine.connect() as conn:
            return conn.scalar(
                select(Organization.slug)
                .join(Paper, Paper.organization_id == Organization.id)
                .where(Paper.id == "1904.11093")
            )

    assert link("ada", "1904.11093", "Lab A").status_code == 303  # a first link: any member
    assert link("bob", "2008.03186", "Lab B").status_code == 303
    for handle in ("bob", "ada"):  # neither submitted the paper nor is one of its authors
        refused = link(handle, "1904.11093", "Lab B")
        assert refused.status_code == 403 and "only the member who submitted" in refused.text
        assert linked_to() == "lab-a"

    with write_transaction(engine) as conn:
        ids = {row.handle: row.id for row in conn.execute(select(User.handle, User.id))}
        conn.execute(
            update(FeedEntry)
            .where(FeedEntry.paper_id == "1904.11093")
            .values(submitted_by=ids["carol"])
        )
        author = conn.scalar(
            select(PaperAuthor.author_id).where(PaperAuthor.paper_id == "1904.11093")
        )
        conn.execute(insert(AuthorClaim).values(
            user_id=ids["dave"], author_id=author, paper_id="1904.11093", status="confirmed",
            created_at=dt.datetime.now(dt.UTC)))  # fmt: skip
        conn.execute(update(User).where(User.id == ids["erin"]).values(is_admin=True))
    assert link("carol", "1904.11093", "Lab C").status_code == 303  # the submitter
    assert link("dave", "1904.11093", "Lab D").status_code == 303  # a confirmed author
    assert link("erin", "1904.11093", "Lab B").status_code == 303  # an admin
    assert linked_to() == "lab-b"

    with engine.connect() as conn:
        logged = conn.execute(
            select(User.handle, AuditEntry.action, AuditEntry.target, AuditEntry.detail)
            .join(User, User.id == AuditEntry.actor_id)
            .where(AuditEntry.action.like("%organization"))
            .order_by(AuditEntry.id)
        ).all()
    assert [tuple(row) for row in logged] == [
        ("ada", "linked organization", "paper 1904.11093", "(none) -> lab-a"),
        ("bob", "linked organization", "paper 2008.03186", "(none) -> lab-b"),
        ("carol", "relinked organization", "paper 1904.11093", "lab-a -> lab-c"),
        ("dave", "relinked organization", "paper 1904.11093", "lab-c -> lab-d"),
        ("erin", "relinked organization", "paper 1904.11093", "lab-d -> lab-b"),
    ]


def test_submitting_a_linked_paper_gives_no_right_to_relink_it(
    site: TestClient, inbox: Inbox, engine: Engine
) -> None:
    """The way round finding 6 an attack found: a stored paper not on the feed yet is linked
    by one member; another submits it (becoming its submitter) and then relinks it."""
    paper = "2102.05231"  # stored, never featured
    ada, bob = TestClient(site.app), TestClient(site.app)
    join(ada, inbox, "ada")
    join(bob, inbox, "bob")

    def link(client: TestClient, name: str) -> Response:
        return client.post(f"/papers/{paper}/organization", data={"name": name, "csrf_token": token(client)},
                           follow_redirects=False)  # fmt: skip

    assert link(ada, "Lab A").status_code == 303
    submitted = bob.post("/submit", data={"arxiv": paper, "csrf_token": token(bob, "/submit")},
                         follow_redirects=False)  # fmt: skip
    assert submitted.status_code == 303
    with engine.connect() as conn:
        assert conn.scalar(select(User.handle).join(FeedEntry, FeedEntry.submitted_by == User.id)
                           .where(FeedEntry.paper_id == paper)) == "bob"  # fmt: skip
    refused = link(bob, "Bob Lab")
    assert refused.status_code == 403 and "only the member who submitted" in refused.text
    with engine.connect() as conn:
        assert (
            conn.scalar(
                select(Organization.slug)
                .join(Paper, Paper.organization_id == Organization.id)
                .where(Paper.id == paper)
            )
            == "lab-a"
        )
