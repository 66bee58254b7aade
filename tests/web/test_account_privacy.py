"""What a member leaves behind and what a page lets through, on SQLite and PostgreSQL: a deleted
account gets no more digests, a suspended member's lists are gone, a form token is worth
nothing in another session, a new API token is never cached, and a 500 carries the security
headers."""

from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from paperfeed.models import Subscription, User
from paperfeed.store.engine import write_transaction
from paperfeed.web.csrf import COOKIE
from tests.servers import Inbox
from tests.web.helpers import PASSWORD, join, token


def test_deleting_an_account_stops_its_digest(
    site: TestClient, inbox: Inbox, engine: Engine
) -> None:
    join(site, inbox, "ada")
    site.post("/settings/digest", data={"cadence": "daily", "csrf_token": token(site, "/settings")})
    with engine.connect() as conn:
        assert conn.scalar(select(Subscription.status)) == "active"
    gone = site.post(
        "/settings/delete",
        data={"password": PASSWORD, "keep": "keep", "csrf_token": token(site, "/settings")},
    )
    assert gone.status_code == 200 and "Account deleted" in gone.text
    with engine.connect() as conn:
        assert conn.execute(select(Subscription.email, Subscription.status)).all() == [
            ("ada@lab.org", "unsubscribed")
        ]


def test_a_form_token_is_bound_to_the_session(site: TestClient, inbox: Inbox) -> None:
    """Someone who knows (or planted) a member's CSRF cookie takes a token for it on their own
    visit: it must not pass for the member's session."""
    join(site, inbox, "ada")
    cookie = site.cookies.get(COOKIE)
    assert cookie
    attacker = TestClient(site.app, cookies={COOKIE: cookie})
    forged = token(attacker, "/")
    refused = site.post("/settings/tokens", data={"name": "planted", "csrf_token": forged})
    assert refused.status_code == 403
    assert "planted" not in site.get("/settings").text
    made = site.post("/settings/tokens", data={"name": "mine", "csrf_token": token(site, "/")})
    assert made.status_code == 200 and "mine" in made.text


def test_a_page_showing_a_new_api_token_is_never_cached(site: TestClient, inbox: Inbox) -> None:
    join(site, inbox, "ada")
    made = site.post(
        "/settings/tokens", data={"name": "bot", "csrf_token": token(site, "/settings")}
    )
    assert re.search(r'<code class="token">pf_', made.text)
    assert made.headers["cache-control"] == "no-store"


def test_a_500_page_carries_the_security_headers(client: TestClient) -> None:
    def broken() -> None:
        raise RuntimeError("a bug, for this test")

    client.app.add_api_route("/test-only/broken", broken)  # type: ignore[attr-defined]
    answer = TestClient(client.app, raise_server_exceptions=False).get("/test-only/broken")
    assert answer.status_code == 500
    assert "script-src 'self';" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "a bug, for this test" not in answer.text
    assert "Something went wrong" in answer.text and answer.headers["content-type"].startswith(
        "text/html"
    )


def test_an_api_500_answers_the_documented_json_shape(client: TestClient) -> None:
    """docs/api.md: every API error has a JSON body with ``detail`` and ``error``; an unhandled
    one (a bug, a damaged store) answered plain text 'Internal Server Error' (outside check)."""

    def broken() -> None:
        raise RuntimeError("a bug, for this test")

    client.app.add_api_route("/api/test-only/broken", broken)  # type: ignore[attr-defined]
    answer = TestClient(client.app, raise_server_exceptions=False).get("/api/test-only/broken")
    assert answer.status_code == 500
    body = answer.json()
    assert set(body) == {"detail", "error"} and body["detail"] == body["error"]
    assert "a bug, for this test" not in answer.text
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_a_suspended_members_public_lists_are_not_shown(
    site: TestClient, inbox: Inbox, engine: Engine
) -> None:
    join(site, inbox, "ada")
    made = site.post(
        "/lists",
        data={"name": "Good reads", "visibility": "public", "csrf_token": token(site, "/lists")},
        follow_redirects=False,
    )
    path = made.headers["location"]
    list_token = path.rsplit("/", 1)[-1]
    visitor = TestClient(site.app)
    shown = [path, f"{path}.rss", f"/api/v1/lists/{list_token}", f"{path}/export.bib"]
    assert [visitor.get(p).status_code for p in shown] == [200] * len(shown)
    with write_transaction(engine) as conn:
        conn.execute(
            update(User).where(User.handle == "ada").values(suspended_at=dt.datetime.now(dt.UTC))
        )
    assert [visitor.get(p).status_code for p in shown] == [404] * len(shown)
