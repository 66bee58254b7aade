"""Members through the site, on SQLite and PostgreSQL: sign-up with the confirmation mail sent to
a real SMTP server on loopback, log-in, submissions fetched from a replayed arXiv API, votes,
comments, and the security around them."""

from __future__ import annotations

import datetime as dt
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from paperfeed.models import Comment, FeedEntry, Paper
from paperfeed.services import accounts, login_throttle, votes
from paperfeed.store.engine import write_transaction
from tests.servers import Inbox
from tests.web.helpers import PASSWORD, join, log_in, press_link, token


def test_sign_up_confirm_log_out_and_in(site: TestClient, inbox: Inbox) -> None:
    form = site.post("/signup", data={"email": "Ada@Lab.org", "handle": "ada", "name": "Ada L.",
                                      "password": PASSWORD, "csrf_token": token(site, "/signup")},
                     follow_redirects=False)  # fmt: skip
    assert form.status_code == 303
    assert "Check your inbox" in site.get(form.headers["location"]).text
    assert log_in(site, "ada@lab.org").status_code == 303  # before confirming: may log in
    assert "Confirm your e-mail address (ada@lab.org)" in site.get("/").text
    assert (
        site.post("/submit", data={"arxiv": "1707.08567", "csrf_token": token(site)}).status_code
        == 400
    )
    assert "Address confirmed" in press_link(site, inbox.link("ada@lab.org")).text
    assert (
        "Confirm your e-mail address" not in site.get("/").text and "Ada L." in site.get("/").text
    )

    short = site.post("/signup", data={"email": "b@lab.org", "handle": "bee", "password": "short",
                                       "csrf_token": token(site, "/signup")})  # fmt: skip
    assert short.status_code == 400 and "at least 10 characters" in short.text

    site.post("/logout", data={"csrf_token": token(site)})
    assert "Log in" in site.get("/").text
    wrong = site.post(
        "/login",
        data={
            "email": "ada@lab.org",
            "password": "nope nope nope",
            "csrf_token": token(site, "/login"),
        },
    )
    assert wrong.status_code == 400 and "wrong e-mail address or password" in wrong.text
    right = site.post("/login", data={"email": "ADA@lab.org", "password": PASSWORD, "next": "//evil.example/",
                                      "csrf_token": token(site, "/login")}, follow_redirects=False)  # fmt: skip
    assert right.status_code == 303 and right.headers["location"] == "/"  # never off-site
    assert "Ada L." in site.get("/").text
    assert site.get("/confirm/not-a-token").status_code == 200  # a page with a button, no more
    assert press_link(site, "/confirm/not-a-token").status_code == 400


def test_log_in_brings_a_searcher_back_to_the_same_search(site: TestClient, inbox: Inbox) -> None:
    """The top bar's "Log in" kept only the path: after logging in, /search without the words
    and filters (outside new-user run)."""
    join(site, inbox, "ada")
    site.post("/logout", data={"csrf_token": token(site)})
    page = site.get("/search", params={"q": "sparse coding", "cat": "cs.LG", "mode": "keyword"})
    link = re.search(r'<a href="(/login\?next=[^"]+)">Log in</a>', page.text)
    assert link is not None
    form = site.get(link.group(1).replace("&amp;", "&")).text
    back = re.search(r'name="next" value="([^"]*)"', form)
    assert back is not None
    target = back.group(1).replace("&amp;", "&")
    assert target == "/search?q=sparse+coding&cat=cs.LG&mode=keyword"
    done = site.post("/login", data={"email": "ada@lab.org", "password": PASSWORD, "next": target,
                                     "csrf_token": token(site, "/login")}, follow_redirects=False)  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == target


def test_log_in_is_throttled_and_sessions_are_renewed(site: TestClient, inbox: Inbox) -> None:
    join(site, inbox, "ada")
    stolen = site.cookies.get("paperfeed_session")  # a copy someone kept
    thief = TestClient(site.app, cookies={"paperfeed_session": stolen})
    assert "Ada" in thief.get("/settings").text
    site.post("/logout", data={"csrf_token": token(site)})
    assert thief.get("/settings", follow_redirects=False).status_code == 303  # logged out too

    attempts, _window = login_throttle.BUDGETS[0]
    for _ in range(attempts):
        assert log_in(site, "ada@lab.org", "guess guess 1").status_code == 400
    blocked = log_in(site, "ada@lab.org")
    assert blocked.status_code == 429 and "too many log-in attempts" in blocked.text
    assert int(blocked.headers["Retry-After"]) > 0
    elsewhere = TestClient(site.app, client=("198.51.100.7", 50000))  # Ada, on another network
    assert log_in(elsewhere, "ada@lab.org").status_code == 303


def test_a_session_planted_before_log_in_is_worth_nothing_after(
    site: TestClient, inbox: Inbox
) -> None:
    join(site, inbox, "ada")
    site.post("/logout", data={"csrf_token": token(site)})
    victim = TestClient(site.app)
    victim.get("/login")
    planted = victim.cookies.get("paperfeed_session")  # whatever the attacker could have set
    victim.post(
        "/login",
        data={"email": "ada@lab.org", "password": PASSWORD, "csrf_token": token(victim, "/login")},
    )
    assert victim.cookies.get("paperfeed_session") != planted
    attacker = TestClient(site.app, cookies={"paperfeed_session": planted} if planted else {})
    assert attacker.get("/settings", follow_redirects=False).status_code == 303


def test_a_new_password_logs_out_every_other_browser(site: TestClient, inbox: Inbox) -> None:
    join(site, inbox, "ada")
    other = TestClient(
        site.app, cookies={"paperfeed_session": site.cookies.get("paperfeed_session")}
    )
    assert other.get("/settings").status_code == 200
    site.post("/reset", data={"email": "ada@lab.org", "csrf_token": token(site, "/reset")})
    link = inbox.link("ada@lab.org", kind="reset")
    site.post(link, data={"password": "another good password", "csrf_token": token(site, link)})
    assert other.get("/settings", follow_redirects=False).status_code == 303
    assert site.get("/settings").status_code == 200  # the browser that reset it is logged in


def test_forms_without_the_csrf_token_are_refused(site: TestClient, inbox: Inbox) -> None:
    join(site, inbox, "ada")
    for path, data in [
        ("/logout", {}), ("/submit", {"arxiv": "1707.08567"}), ("/papers/1904.11093/upvote", {}),
        ("/papers/1904.11093/comments", {"body": "hi"}), ("/login", {"email": "a@b.cd", "password": "x"}),
        ("/signup", {"email": "x@y.org", "handle": "xy", "password": PASSWORD}),
    ]:  # fmt: skip
        assert site.post(path, data={**data, "csrf_token": "forged"}).status_code == 403, path
    assert "Ada" in site.get("/").text  # still logged in: the forged log-out did nothing


def test_submitting_fetches_from_arxiv_features_today_and_votes(
    site: TestClient, inbox: Inbox, engine: Engine
) -> None:
    join(site, inbox, "ada")
    done = site.post("/submit", data={"arxiv": "https://arxiv.org/abs/1707.08567v1", "csrf_token": token(site)},
                     follow_redirects=False)  # fmt: skip
    assert (
        done.status_code == 303
        and done.headers["location"] == "/papers/1707.08567?submitted=featured"
    )
    page = site.get(done.headers["location"])
    assert (
        "Proceedings of Workshop AEW10" in page.text and "the paper is on today's feed" in page.text
    )
    today = dt.datetime.now(dt.UTC).date()
    with engine.connect() as conn:
        entry = conn.execute(
            select(FeedEntry.day, FeedEntry.submitter).where(FeedEntry.paper_id == "1707.08567")
        ).one()
        assert tuple(entry) == (today, "ada")
        assert conn.scalar(select(Paper.upvotes).where(Paper.id == "1707.08567")) == 1
    assert "Proceedings of Workshop AEW10" in site.get(f"/?date={today}").text

    site.post("/logout", data={"csrf_token": token(site)})
    join(site, inbox, "bob")
    again = site.post(
        "/submit",
        data={"arxiv": "arXiv:1707.08567", "csrf_token": token(site)},
        follow_redirects=False,
    )
    assert again.headers["location"] == "/papers/1707.08567?submitted=already"
    with engine.connect() as conn:
        assert conn.scalar(select(Paper.upvotes).where(Paper.id == "1707.08567")) == 2
    unknown = site.post("/submit", data={"arxiv": "2412.99999", "csrf_token": token(site)})
    assert unknown.status_code == 400 and "arXiv has no paper 2412.99999" in unknown.text
    offline = site.post("/submit", data={"arxiv": "2412.88888", "csrf_token": token(site)})
    assert (
        offline.status_code == 400 and "arXiv could not be asked about 2412.88888" in offline.text
    )
    junk = site.post(
        "/submit", data={"arxiv": "'; DROP TABLE papers; --", "csrf_token": token(site)}
    )
    assert junk.status_code == 400 and "paste an arXiv id or link" in junk.text
    site.post("/submit", data={"arxiv": "astro-ph/0601001", "csrf_token": token(site)})
    limit = site.post("/submit", data={"arxiv": "2102.05231", "csrf_token": token(site)})
    assert limit.status_code == 400 and "the most a member may" in limit.text


def test_votes_toggle_and_answer_json(site: TestClient, inbox: Inbox) -> None:
    anonymous = site.post(
        "/papers/1904.11093/upvote",
        data={"csrf_token": token(site)},
        headers={"Accept": "application/json"},
    )
    assert anonymous.status_code == 401 and anonymous.json()["login"].startswith("/login?next=")
    join(site, inbox, "ada")
    first = site.post(
        "/papers/1904.11093/upvote",
        data={"csrf_token": token(site)},
        headers={"Accept": "application/json"},
    )
    assert first.json() == {"voted": True, "upvotes": 1}
    assert 'aria-pressed="true"' in site.get("/papers/1904.11093").text
    second = site.post(
        "/papers/1904.11093/upvote",
        data={"csrf_token": token(site)},
        headers={"Accept": "application/json"},
    )
    assert second.json() == {"voted": False, "upvotes": 0}
    missing = site.post(
        "/papers/2412.99999/upvote",
        data={"csrf_token": token(site)},
        headers={"Accept": "application/json"},
    )
    assert missing.status_code == 404


def test_concurrent_votes_add_up_exactly(engine: Engine, site_home: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    with write_transaction(engine) as conn:
        members = [
            accounts.sign_up(conn, f"m{n}@lab.org", f"m{n}", "", PASSWORD, now) for n in range(24)
        ]

    def toggle(member_id: int) -> None:
        votes.toggle(engine, member_id, "1904.11093", now)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(toggle, [m.id for m in members]))
    with engine.connect() as conn:
        assert conn.scalar(select(Paper.upvotes).where(Paper.id == "1904.11093")) == 24
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(toggle, [m.id for m in members[:10]] * 1))
    with engine.connect() as conn:
        assert conn.scalar(select(Paper.upvotes).where(Paper.id == "1904.11093")) == 14
        assert len(votes.voted_for(conn, members[20].id, ["1904.11093"])) == 1


XSS = [
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    "<iframe src='https://evil.example'></iframe>",
    "[click](javascript:alert(1))",
    '<a href="#" onclick="alert(1)">hi</a>',
]


def test_comments_are_sanitised_threaded_and_only_their_author_changes_them(
    site: TestClient, inbox: Inbox, engine: Engine
) -> None:
    join(site, inbox, "mallory", name="<script>alert('name')</script>")
    for payload in [*XSS, "**bold** and [a link](https://example.org)"]:
        site.post("/papers/1904.11093/comments", data={"body": payload, "csrf_token": token(site)})
    page = site.get("/papers/1904.11093").text
    # Written HTML shows as text; no tag, event handler or javascript: link gets through.
    assert "<script>alert" not in page and "<iframe" not in page and "<img" not in page
    assert not re.search(r"<[^>]*\son(error|click)=", page)
    assert not re.search(r"href=[\"']?javascript:", page)
    assert "&lt;img src=x onerror=" in page  # shown, harmless
    assert "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;" in page  # the name, escaped
    assert (
        "<strong>bold</strong>" in page
        and 'href="https://example.org" rel="nofollow noopener ugc"' in page
    )
    assert "Comments (6)" in page
    with engine.connect() as conn:
        first = conn.scalar(select(Comment.id).order_by(Comment.id))
    reply = site.post("/papers/1904.11093/comments", data={"body": "a reply", "parent_id": str(first), "csrf_token": token(site)},
                      follow_redirects=False)  # fmt: skip
    assert reply.status_code == 303
    edited = site.post(
        f"/comments/{first}/edit", data={"body": "edited text", "csrf_token": token(site)}
    )
    assert edited.status_code == 200 and "edited text" in edited.text and "· edited" in edited.text
    assert ">edited text</textarea>" in edited.text  # the edit box holds the Markdown

    site.post("/logout", data={"csrf_token": token(site)})
    join(site, inbox, "bob")
    assert (
        site.post(
            f"/comments/{first}/edit", data={"body": "hijack", "csrf_token": token(site)}
        ).status_code
        == 403
    )
    assert (
        site.post(f"/comments/{first}/delete", data={"csrf_token": token(site)}).status_code == 403
    )

    site.post("/logout", data={"csrf_token": token(site)})
    site.post(
        "/login",
        data={
            "email": "mallory@lab.org",
            "password": PASSWORD,
            "csrf_token": token(site, "/login"),
        },
    )
    with write_transaction(engine) as conn:
        conn.execute(
            update(Comment)
            .where(Comment.id == first)
            .values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16))
        )
    late = site.post(
        f"/comments/{first}/edit", data={"body": "too late", "csrf_token": token(site)}
    )
    assert late.status_code == 400 and "15 minutes" in late.text
    assert (
        site.post(f"/comments/{first}/delete", data={"csrf_token": token(site)}).status_code == 200
    )
    assert "Comments (6)" in site.get("/papers/1904.11093").text  # 7 written, 1 deleted


def test_hostile_query_parameters_are_harmless(site: TestClient) -> None:
    for url in ["/search?q=' OR 1=1 --", "/papers/' OR '1'='1", "/?date=2026-06-12' OR 1=1", "/api/papers/1%27%3B--",
                "/api/daily_papers?submitter=' OR 1=1 --", "/search?q=" + "x" * 9000, "/?sort=%00%01"]:  # fmt: skip
        assert site.get(url).status_code in (200, 400, 404, 422), url


def test_a_forgotten_password_is_reset_by_a_link_that_works_once(
    site: TestClient, inbox: Inbox
) -> None:
    join(site, inbox, "ada")
    site.post("/logout", data={"csrf_token": token(site)})
    asked = site.post("/reset", data={"email": "ada@lab.org", "csrf_token": token(site, "/reset")})
    unknown = site.post(
        "/reset", data={"email": "nobody@lab.org", "csrf_token": token(site, "/reset")}
    )
    assert "a link to set a new password is on its way" in asked.text
    assert unknown.text.count("on its way") == asked.text.count("on its way")  # nothing to learn
    link = inbox.link("ada@lab.org", kind="reset")
    assert link.startswith("/reset/")
    changed = site.post(
        link, data={"password": "a brand new password", "csrf_token": token(site, link)}
    )
    assert changed.status_code == 200 and "Password changed" in changed.text
    again = site.post(
        link, data={"password": "another new password", "csrf_token": token(site, link)}
    )
    assert again.status_code == 400 and "used already" in again.text
    site.post("/logout", data={"csrf_token": token(site)})
    old = site.post(
        "/login",
        data={"email": "ada@lab.org", "password": PASSWORD, "csrf_token": token(site, "/login")},
    )
    assert old.status_code == 400
    new = site.post("/login", data={"email": "ada@lab.org", "password": "a brand new password",
                                    "csrf_token": token(site, "/login")}, follow_redirects=False)  # fmt: skip
    assert new.status_code == 303


@pytest.mark.parametrize("choice", ["keep", "remove"])
def test_deleting_an_account_keeps_or_removes_votes_and_comments(
    site: TestClient, inbox: Inbox, engine: Engine, choice: str
) -> None:
    join(site, inbox, "ada")
    site.post("/papers/1904.11093/upvote", data={"csrf_token": token(site)})
    site.post(
        "/papers/1904.11093/comments", data={"body": "my two cents", "csrf_token": token(site)}
    )
    wrong = site.post(
        "/settings/delete",
        data={"password": "not it at all", "keep": choice, "csrf_token": token(site, "/settings")},
    )
    assert wrong.status_code == 400 and "wrong password" in wrong.text
    gone = site.post(
        "/settings/delete",
        data={"password": PASSWORD, "keep": choice, "csrf_token": token(site, "/settings")},
    )
    assert gone.status_code == 200 and "Account deleted" in gone.text
    page = site.get("/papers/1904.11093").text
    with engine.connect() as conn:
        counts = conn.execute(
            select(Paper.upvotes, Paper.num_comments).where(Paper.id == "1904.11093")
        ).one()
    if choice == "keep":
        assert "my two cents" in page and "a former member" in page and tuple(counts) == (1, 1)
    else:
        assert "my two cents" not in page and tuple(counts) == (0, 0)
    assert (
        site.post(
            "/login",
            data={
                "email": "ada@lab.org",
                "password": PASSWORD,
                "csrf_token": token(site, "/login"),
            },
        ).status_code
        == 400
    )
