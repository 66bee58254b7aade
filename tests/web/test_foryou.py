"""The "For you" tab on SQLite and PostgreSQL: the cold start, follows and saves bringing papers
in with their reasons, "not interested", and "reset my recommendations"."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.servers import Inbox
from tests.web.helpers import join, token

SAVED = ["1812.06145", "1904.11093", "1907.00326"]


def shown(page: str) -> list[str]:
    return re.findall(r'<article class="card" data-paper="([^"]+)"', page)


def reasons(page: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", why).strip()
        for why in re.findall(r'<p class="why">(.*?)</p>', page, re.S)
    ]


def test_cold_start_follows_saves_not_interested_and_reset(site: TestClient, inbox: Inbox) -> None:
    assert (
        site.get("/for-you", follow_redirects=False).headers["location"] == "/login?next=/for-you"
    )
    join(site, inbox, "ada")
    cold = site.get("/for-you").text
    assert "Nothing to go on yet" in cold and "Follow cs.HC" in cold and not shown(cold)

    site.post("/follow", data={"kind": "category", "target": "cs.HC", "back": "/for-you",
                               "csrf_token": token(site, "/for-you")})  # fmt: skip
    followed = site.get("/for-you").text
    assert shown(followed) and set(reasons(followed)) == {"in cs.HC, which you follow"}

    for paper in SAVED:
        site.post(f"/papers/{paper}/save", data={"csrf_token": token(site)})
    page = site.get("/for-you").text
    liked = [why for why in reasons(page) if why.startswith("like ")]
    titles = re.findall(
        r'<h3 class="title"><a href="/papers/[^"]+">([^<]+)</a>', site.get("/saved").text
    )
    assert liked and all(why in {f"like {title} you saved" for title in titles} for why in liked), (
        liked
    )
    assert not set(SAVED) & set(shown(page))  # never what the member saved
    first = shown(page)[0]

    gone = site.post(f"/papers/{first}/not-interested", data={"csrf_token": token(site, "/for-you")},
                     follow_redirects=False)  # fmt: skip
    assert gone.status_code == 303 and first not in shown(site.get("/for-you").text)  # at once

    site.post("/for-you/reset", data={"csrf_token": token(site, "/for-you")})
    after = site.get("/for-you").text
    assert not [
        why for why in reasons(after) if why.startswith("like ")
    ]  # the saves before it no longer count
    assert "1812.06145" in site.get("/saved").text  # (they stay saved)
    assert shown(after)  # the follow still brings papers in
    assert site.get("/for-you?days=1").status_code == 200
    assert site.get("/for-you?days=99").status_code == 422
