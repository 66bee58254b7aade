"""Security headers on every answer, the API explorer's one inline script allowed by hash
only, and session cookies marked Secure when the site is served over HTTPS."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from fastapi.testclient import TestClient

from paperfeed.config import Settings
from paperfeed.search.embedder import HashingEmbedder
from paperfeed.web.app import create_app
from tests.servers import Inbox
from tests.web.helpers import PASSWORD, log_in, press_link, token


def test_every_page_forbids_inline_scripts_framing_and_sniffing(client: TestClient) -> None:
    for path in (
        "/",
        "/search?q=gesture",
        "/papers/1812.06145",
        "/api/daily_papers",
        "/feed.rss",
        "/nowhere",
    ):
        answer = client.get(path)
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "unsafe-inline" not in policy, path
        assert "frame-ancestors 'none'" in policy
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
    docs = client.get("/docs")
    [script] = re.findall(r"<script>(.*?)</script>", docs.text, re.S)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    scripts = re.search(r"script-src ([^;]+)", docs.headers["content-security-policy"])
    assert (
        scripts is not None
        and f"'sha256-{digest}'" in scripts[1]
        and "unsafe-inline" not in scripts[1]
    )
    assert not re.search(r"<script>|\son\w+=", client.get("/").text)  # no inline script on pages


def test_cookies_are_secure_over_https(site_home: Path, db_url: str, inbox: Inbox) -> None:
    settings = Settings(home=site_home, db=db_url, base_url="https://papers.example",
                        smtp_host="127.0.0.1", smtp_port=inbox.port, smtp_security="none")  # fmt: skip
    with TestClient(
        create_app(settings, HashingEmbedder), base_url="https://papers.example"
    ) as site:
        form = {"email": "ada@lab.org", "handle": "ada", "name": "Ada", "password": PASSWORD,
                "csrf_token": token(site, "/signup")}  # fmt: skip
        joined = site.post("/signup", data=form, follow_redirects=False)
        cookies = [v for k, v in joined.headers.multi_items() if k == "set-cookie"]
        confirmed = press_link(site, inbox.link("ada@lab.org", "https://papers.example"))
        assert confirmed.status_code == 200
        cookies += [
            v for k, v in log_in(site, "ada@lab.org").headers.multi_items() if k == "set-cookie"
        ]
        cookies += [v for k, v in site.get("/").headers.multi_items() if k == "set-cookie"]
        assert cookies and all("secure" in c.lower() for c in cookies)
