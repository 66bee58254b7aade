"""Odd input (finding 9 of issue 17): dates at the ends of the calendar, queries the keyword
engine refuses, ids beyond 64 bits and NUL characters each get a 4xx that says what is wrong,
never a 500, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.servers import Inbox
from tests.web.helpers import join, token
from tests.web.test_library import make_list
from tests.web.test_write_api import new_token

HUGE = 2**63  # one past the largest integer the store holds


def test_finding_9_calendar_ends_and_refused_queries_are_4xx(client: TestClient) -> None:
    for url in ["/?date=9999-12-31", "/?date=0001-01-01", "/?week=9999-W52", "/?month=0001-01",
                "/feed.atom?month=9999-12", "/api/daily_papers?week=9999-W52"]:  # fmt: skip
        answer = client.get(url)
        assert answer.status_code in (400, 422), url
        assert "outside the range of the feeds" in answer.text, url
    for url in ["/search?q=title:*", "/search?q=abstract:*", "/api/v1/search?q=x:*",
                "/api/v1/search?q=id:*", "/search.rss?q=title:*"]:  # fmt: skip
        answer = client.get(url)
        assert answer.status_code == 400, url
        assert "a field with * alone (title:*) is not a search" in answer.text, url
    assert client.get("/search?q=title:gesture").status_code == 200


def test_finding_9_ids_beyond_64_bits_are_4xx(site: TestClient, inbox: Inbox) -> None:
    join(site, inbox, "ada")
    csrf = token(site)
    for path in [f"/comments/{HUGE}/edit", f"/comments/{HUGE}/delete",
                 f"/settings/tokens/{HUGE}/revoke", f"/admin/claims/{HUGE}/confirm",
                 f"/admin/comments/{HUGE}/delete"]:  # fmt: skip
        answer = site.post(path, data={"body": "x", "csrf_token": csrf})
        assert answer.status_code == 422 and "less than or equal to" in answer.text, path
    reply = site.post("/papers/1904.11093/comments",
                      data={"body": "a reply", "parent_id": str(HUGE), "csrf_token": csrf})  # fmt: skip
    assert reply.status_code == 422 and "parent_id" in reply.text
    api = TestClient(site.app, headers={"Authorization": f"Bearer {new_token(site)}"})
    answer = api.post("/api/v1/papers/1904.11093/comments", json={"body": "x", "parent_id": HUGE})
    assert answer.status_code == 422 and "less than or equal to" in answer.json()["detail"]


@pytest.mark.parametrize(
    "where", ["query", "form", "json", "json-suffix", "json-untyped", "multipart", "path"]
)
def test_finding_9_nul_characters_are_refused(site: TestClient, inbox: Inbox, where: str) -> None:
    join(site, inbox, "ada")
    csrf = token(site)
    if where == "query":
        answer = site.get("/search", params={"q": "gesture\x00"})
    elif where == "form":
        answer = site.post(
            "/papers/1904.11093/comments", data={"body": "a\x00b", "csrf_token": csrf}
        )
    elif where == "json":
        api = TestClient(site.app, headers={"Authorization": f"Bearer {new_token(site)}"})
        answer = api.post("/api/v1/papers/1904.11093/comments", json={"body": "a\x00b"})
    elif where.startswith("json-"):  # types FastAPI also reads as JSON (an attack used the first)
        api = TestClient(site.app, headers={"Authorization": f"Bearer {new_token(site)}"})
        kind = {"json-suffix": "application/vnd.x+json", "json-untyped": ""}[where]
        answer = api.post("/api/v1/papers/1904.11093/comments", content=b'{"body": "a\\u0000b"}',
                          headers={"Content-Type": kind})  # fmt: skip
    elif where == "multipart":
        list_token = make_list(site)
        answer = site.post(f"/lists/{list_token}/import", data={"ids": "1904.11093\x00", "csrf_token": csrf},
                           files={"file": ("refs.bib", b"", "text/x-bibtex")})  # fmt: skip
    else:
        answer = site.get("/papers/1904.11093%00")
    assert answer.status_code == 400, answer.text
    assert "NUL characters are not allowed" in answer.text


def test_a_file_may_hold_nul_bytes(site: TestClient, inbox: Inbox) -> None:
    """Files are the route's to judge: a BibTeX file with a NUL in it is imported."""
    join(site, inbox, "ada")
    list_token = make_list(site)
    bibtex = b"@misc{a, title={Ges\x00tures}, eprint={1904.11093}, archivePrefix={arXiv}}\n"
    done = site.post(f"/lists/{list_token}/import", data={"ids": "", "csrf_token": token(site)},
                     files={"file": ("refs.bib", bibtex, "text/x-bibtex")})  # fmt: skip
    assert done.status_code == 200 and "1 added" in done.text
