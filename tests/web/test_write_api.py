"""The write API with personal tokens, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update

from paperfeed.ingest import ingest_file
from paperfeed.models import ApiToken, Comment, FeedEntry, Paper, Upvote, User, utc
from paperfeed.normalize import normalise
from paperfeed.services import accounts, tokens, votes
from paperfeed.sources.record import PaperRecord
from paperfeed.store.engine import make_engine, write_transaction
from paperfeed.store.papers import upsert_papers
from tests.servers import Inbox
from tests.web.helpers import join, log_in, token


def new_token(client: TestClient) -> str:
    page = client.post(
        "/settings/tokens", data={"name": "bot", "csrf_token": token(client, "/settings")}
    )
    found = re.search(r'<code class="token">(pf_[^<]+)</code>', page.text)
    assert found is not None
    return found[1]


def test_tokens_vote_submit_comment_and_can_be_revoked(site: TestClient, inbox: Inbox) -> None:
    join(site, inbox, "ada")
    secret = new_token(site)
    auth = {"Authorization": f"Bearer {secret}"}
    api = TestClient(site.app)  # no cookies: only the token speaks

    assert api.post("/api/v1/papers/1904.11093/upvote").status_code == 401
    assert (
        api.post(
            "/api/v1/papers/1904.11093/upvote", headers={"Authorization": "Bearer pf_nope"}
        ).status_code
        == 401
    )
    voted = api.post("/api/v1/papers/1904.11093/upvote", headers=auth)
    assert voted.status_code == 200 and voted.json() == {
        "id": "1904.11093",
        "voted": True,
        "upvotes": 1,
    }
    assert api.post("/api/v1/papers/1904.11093/upvote", headers=auth).json()["upvotes"] == 1  # once
    assert api.delete("/api/v1/papers/1904.11093/upvote", headers=auth).json()["upvotes"] == 0
    assert api.post("/api/v1/papers/2412.99998/upvote", headers=auth).status_code == 404

    made = api.post("/api/v1/submit", json={"arxiv": "arXiv:1707.08567v1"}, headers=auth)
    assert made.status_code == 201 and made.json()["id"] == "1707.08567" and made.json()["fetched"]
    again = api.post("/api/v1/submit", json={"arxiv": "1904.11093"}, headers=auth)
    assert again.status_code == 409 and "your upvote is added" in again.json()["detail"]
    limited = api.post("/api/v1/submit", json={"arxiv": "2102.05231"}, headers=auth)
    assert limited.status_code == 429
    assert api.post("/api/v1/submit", json={"arxiv": "not an id"}, headers=auth).status_code == 422
    assert api.post("/api/v1/submit", json={}, headers=auth).status_code == 422

    said = api.post(
        "/api/v1/papers/1904.11093/comments", json={"body": "<script>x</script> *hi*"}, headers=auth
    )
    assert said.status_code == 201
    page = site.get("/papers/1904.11093").text
    assert "<em>hi</em>" in page and "<script>x" not in page

    settings = site.get("/settings").text
    token_id = re.search(r"/settings/tokens/(\d+)/revoke", settings)
    assert token_id is not None and secret not in settings  # shown once, never again
    site.post(
        f"/settings/tokens/{token_id[1]}/revoke", data={"csrf_token": token(site, "/settings")}
    )
    assert api.post("/api/v1/papers/1904.11093/upvote", headers=auth).status_code == 401


def test_an_unconfirmed_member_cannot_write(site: TestClient) -> None:
    site.post("/signup", data={"email": "new@lab.org", "handle": "newbie", "password": "a long password",
                               "csrf_token": token(site, "/signup")})  # fmt: skip
    log_in(site, "new@lab.org", "a long password")
    secret = new_token(site)
    refused = TestClient(site.app).post(
        "/api/v1/papers/1904.11093/upvote", headers={"Authorization": f"Bearer {secret}"}
    )
    assert refused.status_code == 403 and "confirm" in refused.json()["detail"]


def test_parallel_vote_requests_count_exactly(site: TestClient, engine: Engine) -> None:
    now = dt.datetime.now(dt.UTC)
    secrets = []
    with write_transaction(engine) as conn:
        for n in range(16):
            member = accounts.sign_up(
                conn, f"v{n}@lab.org", f"voter{n}", "", "a long enough password", now
            )
            conn.execute(update(User).where(User.id == member.id).values(email_confirmed_at=now))
            confirmed = accounts.member_by_id(conn, member.id)
            assert confirmed is not None
            secrets.append(tokens.create(conn, confirmed, "bench", now))

    def vote(secret: str, method: str = "post") -> int:
        client = TestClient(site.app)  # one HTTP client per voter, all at once (no lifespan:
        try:  # the app's engine stays open for the others)
            return getattr(client, method)(
                "/api/v1/papers/1904.11093/upvote", headers={"Authorization": f"Bearer {secret}"}
            ).status_code
        finally:
            client.close()

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(vote, secrets * 2)) == {200}  # each votes twice: counted once
    with engine.connect() as conn:
        assert conn.scalar(select(Paper.upvotes).where(Paper.id == "1904.11093")) == 16
    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(lambda s: vote(s, "delete"), secrets[:6])) == {200}
    with engine.connect() as conn:
        assert conn.scalar(select(Paper.upvotes).where(Paper.id == "1904.11093")) == 10


def test_a_token_notes_its_last_use_at_most_once_a_minute(
    site: TestClient, inbox: Inbox, engine: Engine
) -> None:
    join(site, inbox, "ada")
    secret = new_token(site)
    api = TestClient(site.app)
    auth = {"Authorization": f"Bearer {secret}"}

    def last_used() -> dt.datetime | None:
        with engine.connect() as conn:
            return conn.scalar(select(ApiToken.last_used_at))

    assert last_used() is None
    api.post("/api/v1/papers/1904.11093/upvote", headers=auth)
    first = last_used()
    assert first is not None
    api.delete("/api/v1/papers/1904.11093/upvote", headers=auth)
    assert last_used() == first  # used again within the minute: no write
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    with write_transaction(engine) as conn:
        conn.execute(update(ApiToken).values(last_used_at=long_ago))
    api.post("/api/v1/papers/1904.11093/upvote", headers=auth)
    again = last_used()
    assert again is not None and utc(again) > long_ago + dt.timedelta(minutes=4)
    assert f"<td>{again:%Y-%m-%d %H:%M}</td>" in site.get("/settings").text


def test_a_suspended_members_token_is_refused(
    site: TestClient, inbox: Inbox, engine: Engine
) -> None:
    join(site, inbox, "ada")
    auth = {"Authorization": f"Bearer {new_token(site)}"}
    api = TestClient(site.app)
    assert api.post("/api/v1/papers/1904.11093/upvote", headers=auth).status_code == 200
    with write_transaction(engine) as conn:
        conn.execute(update(User).values(suspended_at=dt.datetime.now(dt.UTC)))

    refused = api.post("/api/v1/papers/1904.11093/upvote", headers=auth)

    assert refused.status_code == 401


def test_noting_a_tokens_use_with_the_database_gone_logs_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """It runs after the answer: nobody is left to see an exception but the log."""
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gone = make_engine(f"postgresql://nobody@127.0.0.1:{port}/none")
    member = accounts.Member(1, "a@lab.org", "ada", "Ada", True, False)

    tokens.mark_used(gone, tokens.Bearer(member, 7, None), dt.datetime.now(dt.UTC))

    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "token 7: last use not noted" in caplog.text and "Traceback" not in caplog.text


def confirmed_member_token(engine: Engine, handle: str) -> str:
    """A confirmed member and a personal token of theirs, made in the store."""
    now = dt.datetime.now(dt.UTC)
    with write_transaction(engine) as conn:
        member = accounts.sign_up(
            conn, f"{handle}@lab.org", handle, "", "a long enough password", now
        )
        conn.execute(update(User).where(User.id == member.id).values(email_confirmed_at=now))
        confirmed = accounts.member_by_id(conn, member.id)
        assert confirmed is not None
        return tokens.create(conn, confirmed, "bot", now)


def test_finding_3_parallel_submissions_feature_exactly_the_daily_limit(
    client: TestClient, engine: Engine
) -> None:
    """16 parallel POST /api/v1/submit with one token, a limit of 10 a day: 10 featured."""
    auth = {"Authorization": f"Bearer {confirmed_member_token(engine, 'flood')}"}
    with engine.connect() as conn:
        unfeatured = list(
            conn.scalars(
                select(Paper.id)
                .where(~Paper.id.in_(select(FeedEntry.paper_id)))
                .order_by(Paper.id)
                .limit(16)
            )
        )
    assert len(unfeatured) == 16
    start = threading.Barrier(16)

    def submit(paper_id: str) -> int:
        api = TestClient(client.app)
        try:
            start.wait()
            return api.post("/api/v1/submit", json={"arxiv": paper_id}, headers=auth).status_code
        finally:
            api.close()

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(submit, unfeatured))

    assert sorted(statuses) == [201] * 10 + [429] * 6
    with engine.connect() as conn:
        featured = conn.scalar(
            select(func.count()).select_from(FeedEntry).where(FeedEntry.paper_id.in_(unfeatured))
        )
    assert featured == 10


def test_votes_sent_while_a_merge_runs_land_on_the_arxiv_paper(
    site: TestClient, engine: Engine, tmp_path: Path
) -> None:
    """12 members vote on a captured paper (4 had voted on it before) through the write API,
    4 more through the site's vote button, and 2 comment on it, while the import that merges it into its arXiv
    record holds its transaction open: no request fails (on PostgreSQL each failed on the
    old paper's foreign key, a 500), every member's vote is on the arXiv paper once, and the
    counter adds up."""
    old, new = "capture:quartz", "2501.00001"
    title = "Quartz lattice resonators under cryogenic strain"
    (tmp_path / "capture.jsonl").write_text(json.dumps({"id": old, "title": title, "date_shown": "Jan 20", "upvotes": 2}) + "\n")  # fmt: skip
    ingest_file(engine, "jsonl", tmp_path / "capture.jsonl")
    now = dt.datetime.now(dt.UTC)
    members, secrets = [], []
    with write_transaction(engine) as conn:
        for n in range(16):
            member = accounts.sign_up(conn, f"m{n}@lab.org", f"m{n}", "", "a long enough password", now)  # fmt: skip
            conn.execute(update(User).where(User.id == member.id).values(email_confirmed_at=now))
            confirmed = accounts.member_by_id(conn, member.id)
            assert confirmed is not None
            members.append(confirmed)
            secrets.append(tokens.create(conn, confirmed, "bot", now))
        for member in members[:4]:
            votes.vote(conn, member.id, old, now)

    def api_vote(secret: str) -> int:
        client = TestClient(site.app)
        try:
            answer = client.post(f"/api/v1/papers/{old}/upvote", headers={"Authorization": f"Bearer {secret}"})  # fmt: skip
            return answer.status_code
        finally:
            client.close()

    def api_comment(secret: str) -> int:
        client = TestClient(site.app)
        try:
            answer = client.post(
                f"/api/v1/papers/{old}/comments", json={"body": "Read it."},
                headers={"Authorization": f"Bearer {secret}"},
            )  # fmt: skip
            return answer.status_code
        finally:
            client.close()

    def button_vote(member_id: int) -> bool:
        return votes.toggle(engine, member_id, old, dt.datetime.now(dt.UTC))[0]

    record = normalise(PaperRecord(id=new, title=title, abstract="The arXiv record."))
    with ThreadPoolExecutor(16) as pool:
        with write_transaction(engine) as conn:
            upsert_papers(conn, [record], "jsonl", now)  # merges, and holds the locks until commit
            api_calls = [pool.submit(api_vote, secret) for secret in secrets[:12]]
            button_calls = [pool.submit(button_vote, m.id) for m in members[12:]]
            comment_calls = [pool.submit(api_comment, secret) for secret in secrets[14:]]
            time.sleep(1.5)  # every request is waiting on the merge by now
        assert [call.result() for call in api_calls] == [200] * 12
        assert [call.result() for call in button_calls] == [True] * 4
        assert [call.result() for call in comment_calls] == [201] * 2

    with engine.connect() as conn:
        assert conn.scalar(select(Paper.id).where(Paper.id == old)) is None
        voters = conn.scalars(select(Upvote.user_id).where(Upvote.paper_id == new)).all()
        assert sorted(voters) == sorted(m.id for m in members)
        assert conn.scalar(select(Paper.upvotes).where(Paper.id == new)) == 2 + 16
        assert conn.scalars(select(Comment.paper_id)).all() == [new, new]
        assert conn.scalar(select(Paper.num_comments).where(Paper.id == new)) == 2
