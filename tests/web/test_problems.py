"""Every JSON error says what went wrong in ``detail``, in ``error`` and in the
``X-Error-Message`` header, whichever part raised it: a route, validation, the router, the
rate limiter or a form route asked for JSON."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient

from paperfeed.web.problems import header_text
from paperfeed.web.rate_limits import LIMITS


def said(answer: httpx.Response, status: int, words: str) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["detail"] == body["error"], body
    assert words in body["error"]
    assert answer.headers["x-error-message"] == header_text(body["error"])


def test_route_validation_router_and_form_errors(client: TestClient) -> None:
    said(client.get("/api/papers/2999.99999"), 404, "no paper '2999.99999' here")
    said(client.get("/api/v1/papers/hep-th/9901001"), 404, "hep-th/9901001")
    said(client.get("/api/daily_papers", params={"date": "2026-13-45"}), 422, "2026-13-45")
    said(client.get("/api/daily_papers", params={"limit": 0}), 422, "limit")
    said(client.get("/api/nothing-here"), 404, "Not Found")
    said(client.post("/api/daily_papers"), 405, "Method Not Allowed")
    said(client.post("/api/v1/papers/1812.06145/upvote"), 401, "token")
    upvote = client.post(
        "/papers/1812.06145/upvote", headers={"accept": "application/json"}, data={}
    )
    said(upvote, 403, "CSRF")


def test_the_rate_limiters_429(client: TestClient) -> None:
    for _ in range(LIMITS["search"].amount):
        assert client.get("/api/v1/search?q=gesture").status_code == 200
    over = client.get("/api/v1/search?q=gesture")
    said(over, 429, "Too many search requests")
    assert int(over.headers["retry-after"]) >= 1


def test_a_header_is_one_line_of_latin_1() -> None:
    assert header_text("no paper 'ü 论文'\nhere") == "no paper 'ü ??' here"
    assert len(header_text("x" * 5000)) == 500
