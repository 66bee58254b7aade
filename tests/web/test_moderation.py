"""Admins: created from the command line, they hide papers, delete comments and suspend members,
and every action is in the audit log; nobody else can do any of it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from tests.servers import Inbox
from tests.web.helpers import PASSWORD, join, token


def make_admin(home: Path, db_url: str, email: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PAPERFEED_HOME": str(home), "PAPERFEED_DB": db_url}
    return subprocess.run(
        [sys.executable, "-m", "paperfeed", "admin", "create", email, "--handle", "boss", "--name", "The Boss"],
        input=f"{PASSWORD}\n{PASSWORD}\n", capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip


def log_in(client: TestClient, email: str) -> None:
    done = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token(client, "/login")},
                       follow_redirects=False)  # fmt: skip
    assert done.status_code == 303, done.text


def test_admins_moderate_and_the_log_remembers(
    site: TestClient, inbox: Inbox, site_home: Path, db_url: str
) -> None:
    join(site, inbox, "mallory")
    site.post("/papers/1904.11093/comments", data={"body": "spam spam", "csrf_token": token(site)})
    for path in (
        "/admin/papers/1904.11093/hide",
        "/admin/members/mallory/suspend",
        "/admin/comments/1/delete",
    ):
        assert site.post(path, data={"csrf_token": token(site)}).status_code == 403, path
    assert site.get("/admin").status_code == 403
    site.post("/logout", data={"csrf_token": token(site)})

    created = make_admin(site_home, db_url, "boss@lab.org")
    assert created.returncode == 0, created.stderr
    assert "boss@lab.org (boss) is an admin." in created.stdout
    log_in(site, "boss@lab.org")

    assert "Deep Sparse Representation-based Classification" in site.get("/?date=2026-06-09").text
    site.post("/admin/papers/1904.11093/hide", data={"csrf_token": token(site)})
    assert (
        "Deep Sparse Representation-based Classification" not in site.get("/?date=2026-06-09").text
    )
    page = site.get("/papers/1904.11093").text
    assert "A moderator took this paper off the feed" in page
    site.post("/admin/comments/1/delete", data={"csrf_token": token(site), "reason": "spam"})
    assert "spam spam" not in site.get("/papers/1904.11093").text
    site.post("/admin/members/mallory/suspend", data={"csrf_token": token(site), "reason": "spam"})
    assert (
        site.post("/admin/members/boss/suspend", data={"csrf_token": token(site)}).status_code
        == 403
    )

    log = site.get("/admin").text
    for line in (
        "hide paper",
        "delete comment",
        "suspend member",
        "comment 1 on 1904.11093",
        "mallory",
    ):
        assert line in log, line

    other = TestClient(site.app)
    refused = other.post(
        "/login",
        data={
            "email": "mallory@lab.org",
            "password": PASSWORD,
            "csrf_token": token(other, "/login"),
        },
    )
    assert refused.status_code == 400 and "suspended" in refused.text
