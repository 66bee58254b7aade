"""Rate limits: per IP (searches from one address) and per member (comments from two
addresses with one session), 429 with Retry-After, JSON for the API, and off when configured."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from paperfeed.config import Settings
from paperfeed.search.embedder import HashingEmbedder
from paperfeed.web.app import create_app
from paperfeed.web.rate_limits import LIMITS
from tests.servers import Inbox
from tests.web.helpers import join, outbox_drained, token
from tests.web.test_write_api import new_token


def test_searches_per_address(client: TestClient) -> None:
    allowed = LIMITS["search"].amount
    for _ in range(allowed):
        assert client.get("/api/v1/search?q=gesture").status_code == 200
    over = client.get("/api/v1/search?q=gesture")
    assert over.status_code == 429 and int(over.headers["retry-after"]) >= 1
    assert "Too many search requests" in over.json()["detail"]
    page = client.get("/search?q=gesture")
    assert page.status_code == 429 and "Slow down" in page.text
    elsewhere = TestClient(client.app, client=("192.0.2.7", 1234))
    assert elsewhere.get("/search?q=gesture").status_code == 200  # another address: its own count
    assert client.get("/").status_code == 200  # pages without a limit are not affected


def test_comments_per_member_across_addresses(site: TestClient, inbox: Inbox) -> None:
    join(site, inbox, "ada")
    other = TestClient(site.app, client=("192.0.2.8", 4321), cookies=dict(site.cookies))
    allowed = LIMITS["comment"].amount
    for n in range(allowed):
        client = site if n % 2 else other
        done = client.post("/papers/1812.06145/comments",
                           data={"body": f"note {n}", "csrf_token": token(client, "/papers/1812.06145")},
                           follow_redirects=False)  # fmt: skip
        assert done.status_code == 303, done.text
    over = other.post("/papers/1812.06145/comments",
                      data={"body": "one more", "csrf_token": token(other, "/papers/1812.06145")})  # fmt: skip
    assert over.status_code == 429  # the member's count, though this address did only half


def test_limits_can_be_switched_off(site_home: Path, db_url: str) -> None:
    settings = Settings(home=site_home, db=db_url, base_url="http://testserver", rate_limits=False)
    with TestClient(create_app(settings, HashingEmbedder)) as client:
        for _ in range(LIMITS["search"].amount + 5):
            assert client.get("/api/v1/search?q=gesture").status_code == 200


def test_the_subscribe_box_cannot_flood_an_inbox(site: TestClient, inbox: Inbox) -> None:
    """Three confirmation mails a day to one address, however many addresses ask; each IP may
    ask ten times an hour. Every asker sees the same answer, so nobody learns who subscribed."""
    for n in range(5):
        asker = TestClient(site.app, client=(f"192.0.2.{20 + n}", 1000))
        done = asker.post(
            "/subscribe", data={"email": "victim@lab.org", "csrf_token": token(asker)}
        )
        assert done.status_code == 200 and "confirmation link is on its way" in done.text
    site.post("/subscribe", data={"email": "other@lab.org", "csrf_token": token(site)})
    outbox_drained(site)
    assert sum(m["To"] == "victim@lab.org" for m in inbox.messages) == 3
    assert sum(m["To"] == "other@lab.org" for m in inbox.messages) == 1
    answers = [
        site.post(
            "/subscribe", data={"email": f"x{n}@lab.org", "csrf_token": token(site)}
        ).status_code
        for n in range(LIMITS["subscribe"].amount)
    ]
    assert answers.count(429) == 1  # this address asked once before: the tenth is refused


def test_finding_5_search_exports_count_against_the_search_limit(client: TestClient) -> None:
    allowed = LIMITS["search"].amount
    for _ in range(allowed):
        assert client.get("/api/v1/search?q=gesture").status_code == 200
    for kind in ("bib", "ris", "json"):
        over = client.get(f"/search/export.{kind}?q=gesture")
        assert over.status_code == 429 and "Too many search requests" in over.text


def test_finding_5_two_tokens_of_one_member_share_one_budget(
    site: TestClient, inbox: Inbox
) -> None:
    join(site, inbox, "ada")
    secrets = [new_token(site), new_token(site)]
    speakers = [
        TestClient(site.app, client=(f"192.0.2.{30 + n}", 1000),
                   headers={"Authorization": f"Bearer {secret}"})
        for n, secret in enumerate(secrets)
    ]  # fmt: skip
    allowed = LIMITS["comment"].amount
    for n in range(allowed):
        said = speakers[n % 2].post("/api/v1/papers/1812.06145/comments", json={"body": f"n{n}"})
        assert said.status_code == 201, said.text
    over = speakers[0].post("/api/v1/papers/1812.06145/comments", json={"body": "one more"})
    assert over.status_code == 429  # each token and each address did only half
    browser = TestClient(site.app, client=("192.0.2.40", 1000), cookies=dict(site.cookies))
    page = browser.post("/papers/1812.06145/comments",
                        data={"body": "and here", "csrf_token": token(browser, "/papers/1812.06145")})  # fmt: skip
    assert page.status_code == 429  # the member's session shares the tokens' budget
