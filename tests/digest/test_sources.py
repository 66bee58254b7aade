"""Where a member's digest papers come from besides trending: follows (authors, organizations,
categories) and papers like their upvotes, only among papers new since the last digest; and the
"nothing new" mail, on SQLite and PostgreSQL, through a real SMTP server on loopback."""

from __future__ import annotations

import datetime as dt
import re
from email.message import Message
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from paperfeed.digest.send import Sender, send_digests
from paperfeed.models import Author, Organization, Paper, PaperAuthor, PaperCategory
from paperfeed.search.embedder import HashingEmbedder
from paperfeed.search.hybrid import PaperSearch
from paperfeed.services.new_papers import NewPapers
from tests.servers import Inbox
from tests.web.helpers import join, token

DAY = dt.date(2026, 6, 12)


def settings_form(site: TestClient, **fields: str) -> None:
    data = {"cadence": "daily", "trending": "0", "similar": "0", "follows": "yes", **fields}
    saved = site.post("/settings/digest", data={**data, "csrf_token": token(site, "/settings")},
                      follow_redirects=False)  # fmt: skip
    assert saved.status_code == 303, saved.text


def follow(site: TestClient, kind: str, target: str) -> None:
    done = site.post("/follow", data={"kind": kind, "target": target, "csrf_token": token(site, "/settings")},
                     follow_redirects=False)  # fmt: skip
    assert done.status_code == 303, done.text


def only_new(engine: Engine, paper_ids: list[str]) -> None:
    """Every paper came in a month ago except ``paper_ids``, an hour ago."""
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        conn.execute(update(Paper).values(created_at=now - dt.timedelta(days=30)))
        conn.execute(
            update(Paper)
            .where(Paper.id.in_(paper_ids))
            .values(created_at=now - dt.timedelta(hours=1))
        )


def send(site: TestClient, engine: Engine, home: Path, day: dt.date = DAY):  # type: ignore[no-untyped-def]
    settings = site.app.state.site.settings
    search = PaperSearch(home, HashingEmbedder())
    return send_digests(
        engine, settings, search, "daily", day, sender=Sender(settings, lambda _: None)
    )


def reasons(mail: Message) -> dict[str, str]:
    """Paper id → why it is in the digest, from the plain-text part."""
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    found = re.findall(
        r"http://testserver/papers/(\S+)\n(?:.*\n)*?\s+▲ \d+ · (.+)\n", text.replace("\r\n", "\n")
    )
    return dict(found)


def test_follows_bring_new_papers_of_authors_organizations_and_categories(
    site: TestClient, inbox: Inbox, engine: Engine, site_home: Path
) -> None:
    with engine.connect() as conn:
        slug, org_paper = conn.execute(
            select(Organization.slug, Paper.id)
            .join(Paper, Paper.organization_id == Organization.id)
            .limit(1)
        ).one()
        name, author_paper = conn.execute(
            select(Author.name, PaperAuthor.paper_id).join(PaperAuthor).where(PaperAuthor.paper_id != org_paper)
            .order_by(PaperAuthor.paper_id).limit(1)
        ).one()  # fmt: skip
        category = conn.scalar(
            select(PaperCategory.category).where(PaperCategory.category == "cs.HC")
        )
        old_by_author = list(conn.scalars(
            select(PaperAuthor.paper_id).join(Author).where(Author.name == name, PaperAuthor.paper_id != author_paper)
        ))  # fmt: skip
        in_category = list(
            conn.scalars(select(PaperCategory.paper_id).where(PaperCategory.category == "cs.HC"))
        )
    new_in_category = [i for i in in_category if i not in (org_paper, author_paper)][:2]
    only_new(engine, [org_paper, author_paper, *new_in_category])
    join(site, inbox, "ada")
    settings_form(site)
    for kind, target in (("organization", slug), ("author", name), ("category", category)):
        follow(site, kind, target)
    page = site.get("/settings").text
    assert slug in page and name in page and "cs.HC" in page

    report = send(site, engine, site_home)
    assert report.sent == 1
    [mail] = [m for m in inbox.messages if m["To"] == "ada@lab.org" and m["List-Unsubscribe"]]
    why = reasons(mail)
    assert why[org_paper] == f"from {slug}, which you follow"
    assert why[author_paper] == f"by {name}, whom you follow"
    assert all(why[i] == "new in cs.HC" for i in new_in_category)
    assert not set(old_by_author) & set(why)  # only what came in since the last digest
    assert len(why) == 2 + len(new_in_category)

    site.post(
        "/unfollow",
        data={"kind": "category", "target": "cs.HC", "csrf_token": token(site, "/settings")},
    )
    settings_form(site, follows="")  # follows off: the digest has nothing in it now
    assert send(site, engine, site_home, DAY + dt.timedelta(days=1)).empty == 1


def test_papers_like_the_ones_upvoted_and_nothing_new_mails(
    site: TestClient, inbox: Inbox, engine: Engine, site_home: Path
) -> None:
    with engine.connect() as conn:
        upvoted = conn.scalar(
            select(Paper.id).where(Paper.title.ilike("%gesture%")).order_by(Paper.id)
        )
    assert upvoted is not None
    search = PaperSearch(site_home, HashingEmbedder())
    with engine.connect() as conn:
        pool = NewPapers(conn, search, dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
        near = pool.like([upvoted], 3)
    assert near and upvoted not in near
    only_new(engine, near)
    join(site, inbox, "ada")
    vote = site.post(f"/papers/{upvoted}/upvote", data={"csrf_token": token(site, f"/papers/{upvoted}")},
                     follow_redirects=False)  # fmt: skip
    assert vote.status_code in (200, 303)
    settings_form(site, similar="3", follows="")
    send(site, engine, site_home)
    [mail] = [m for m in inbox.messages if m["To"] == "ada@lab.org" and m["List-Unsubscribe"]]
    why = reasons(mail)
    assert set(why) == set(near) and set(why.values()) == {"like papers you upvoted or saved"}

    # The next day nothing is new: no mail, unless the member asked for "nothing new" mails.
    assert send(site, engine, site_home, DAY + dt.timedelta(days=1)).empty == 1
    settings_form(site, similar="3", follows="", send_empty="yes")
    assert send(site, engine, site_home, DAY + dt.timedelta(days=2)).sent == 1
    mails = [m for m in inbox.messages if m["To"] == "ada@lab.org" and m["List-Unsubscribe"]]
    assert len(mails) == 2 and mails[-1]["Subject"] == "paperfeed: nothing new for 2026-06-14"
    assert "Nothing new for you this day" in mails[-1].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert not reasons(mails[-1])
