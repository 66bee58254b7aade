"""Following from the pages that show an author, a category or an organization, and from the
settings page; what is refused (unknown names, forged forms, redirects off the site)."""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from paperfeed.models import Follow, Organization, Paper
from tests.servers import Inbox
from tests.web.helpers import join, token


def test_follow_a_category_and_an_author_from_their_searches(
    site: TestClient, inbox: Inbox, engine: Engine
) -> None:
    anonymous = site.get("/search?cat=cs.HC")
    assert "Log in</a> to follow cs.HC" in anonymous.text
    join(site, inbox, "ada")
    page = site.get("/search?cat=cs.HC").text
    assert "Follow cs.HC" in page and 'aria-pressed="false"' in page
    done = site.post("/follow", data={"kind": "category", "target": "cs.HC", "back": "/search?cat=cs.HC",
                                      "csrf_token": token(site, "/search?cat=cs.HC")}, follow_redirects=False)  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == "/search?cat=cs.HC"
    assert "Following cs.HC ✓" in site.get("/search?cat=cs.HC").text

    paper = site.get("/papers/1812.06145").text  # author names link to their search
    link = re.search(r'href="(/search\?q=author[^"]+)">([^<]+)</a>', paper)
    assert link is not None
    author_page = site.get(link[1].replace("&amp;", "&")).text
    assert f"Follow {link[2]}" in author_page
    assert 'action="/follow"' not in site.get("/search?q=gesture").text  # words: nothing to follow
    leaving_out = site.get("/search", params={"q": "cat:cs.HC -author:nobody"}).text
    assert 'action="/follow"' not in leaving_out  # a follow cannot leave papers out
    site.post(
        "/follow",
        data={"kind": "author", "target": link[2], "csrf_token": token(site, "/settings")},
    )
    settings = site.get("/settings").text
    assert (
        f'aria-label="Unfollow {link[2]}"' in settings and 'aria-label="Unfollow cs.HC"' in settings
    )

    site.post(
        "/unfollow",
        data={"kind": "category", "target": "cs.HC", "csrf_token": token(site, "/settings")},
    )
    with engine.connect() as conn:
        assert list(conn.execute(select(Follow.kind, Follow.target))) == [("author", link[2])]


def test_follow_an_organization_from_its_page(
    site: TestClient, inbox: Inbox, engine: Engine
) -> None:
    with engine.connect() as conn:
        slug = conn.scalar(
            select(Organization.slug).join(Paper, Paper.organization_id == Organization.id).limit(1)
        )
    join(site, inbox, "ada")
    page = site.get(f"/orgs/{slug}").text
    assert 'action="/follow"' in page
    site.post("/follow", data={"kind": "organization", "target": slug, "back": f"/orgs/{slug}",
                               "csrf_token": token(site, f"/orgs/{slug}")})  # fmt: skip
    assert 'action="/unfollow"' in site.get(f"/orgs/{slug}").text


def test_unknown_names_forged_forms_and_foreign_redirects_are_refused(
    site: TestClient, inbox: Inbox, engine: Engine
) -> None:
    anonymous = site.post("/follow", data={"kind": "category", "target": "cs.HC", "csrf_token": token(site)},
                          follow_redirects=False)  # fmt: skip
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    join(site, inbox, "ada")
    forged = site.post(
        "/follow", data={"kind": "category", "target": "cs.HC", "csrf_token": "forged"}
    )
    assert forged.status_code == 403
    unknown = site.post(
        "/follow", data={"kind": "category", "target": "cs.NOPE", "csrf_token": token(site)}
    )
    assert unknown.status_code == 400 and "there is no category “cs.NOPE” here" in unknown.text
    odd = site.post("/follow", data={"kind": "planet", "target": "Mars", "csrf_token": token(site)})
    assert odd.status_code == 400
    away = site.post("/follow", data={"kind": "category", "target": "cs.HC", "back": "//evil.example/x",
                                      "csrf_token": token(site)}, follow_redirects=False)  # fmt: skip
    assert away.status_code == 303 and away.headers["location"] == "/"
    twice = site.post("/follow", data={"kind": "category", "target": "cs.HC", "csrf_token": token(site)},
                      follow_redirects=False)  # fmt: skip
    assert twice.status_code == 303
    with engine.connect() as conn:
        assert list(conn.scalars(select(Follow.target))) == ["cs.HC"]
    assert quote("cs.HC") in site.get("/settings").text
