"""The JSON API: the public Daily Papers shapes, checked against a recorded response, and ours."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.web.conftest import DAILY, HAND_FEATURED

RECORDED: list[dict[str, Any]] = json.loads(DAILY.read_text())


def shape(value: Any, prefix: str = "") -> dict[str, str]:
    """``{path: type name}`` for every leaf and container under ``value``."""
    found: dict[str, str] = {}
    if isinstance(value, dict):
        found[prefix or "."] = "dict"
        for key, item in value.items():
            found.update(shape(item, f"{prefix}.{key}"))
    elif isinstance(value, list):
        found[prefix] = "list"
        for item in value:
            found.update(shape(item, f"{prefix}[]"))
    else:
        found[prefix] = type(value).__name__
    return found


def test_daily_papers_has_every_field_of_the_public_api_with_the_same_types(
    client: TestClient,
) -> None:
    ours = client.get("/api/daily_papers", params={"date": "2026-06-12", "limit": 100})
    assert ours.status_code == 200
    by_id = {entry["paper"]["id"]: entry for entry in ours.json()}
    assert set(by_id) == {entry["paper"]["id"] for entry in RECORDED}
    always = set.intersection(*(set(shape(entry)) for entry in RECORDED))
    for recorded in RECORDED:
        mine = shape(by_id[recorded["paper"]["id"]])
        theirs = shape(recorded)
        missing = {path for path in always if path not in mine and not path.endswith("[]")}
        assert not missing, f"fields the public API always has and we lack: {sorted(missing)}"
        for path, kind in mine.items():
            if path in theirs:
                assert theirs[path] == kind, (path, kind, theirs[path])
    for recorded in RECORDED:
        mine_entry = by_id[recorded["paper"]["id"]]
        assert mine_entry["paper"]["upvotes"] == recorded["paper"]["upvotes"]
        assert mine_entry["numComments"] == recorded["numComments"]
        assert mine_entry["submittedBy"]["name"] == recorded["submittedBy"]["name"]
        assert mine_entry["paper"]["submittedOnDailyAt"] == recorded["paper"]["submittedOnDailyAt"]
        if "githubRepo" in recorded["paper"]:  # (we may know a repository the list lacks)
            assert mine_entry["paper"]["githubRepo"] == recorded["paper"]["githubRepo"]
        # Hidden authors are sent, flagged, after the shown ones (their place on a page).
        listed = recorded["paper"]["authors"]
        flagged = [(a["name"], False) for a in listed if not a["hidden"]]
        flagged += [(a["name"], True) for a in listed if a["hidden"]]
        assert [(a["name"], a["hidden"]) for a in mine_entry["paper"]["authors"]] == flagged
        # An organization is named as the public site names it, beside its full name.
        theirs_org = recorded["paper"].get("organization") or recorded.get("organization")
        if theirs_org:
            assert mine_entry["organization"]["name"] == theirs_org["name"]
            assert mine_entry["organization"]["fullname"] == theirs_org["fullname"]


def test_daily_papers_periods_sorting_paging_and_filters(client: TestClient) -> None:
    latest = client.get("/api/daily_papers", params={"limit": 3}).json()
    assert [e["paper"]["submittedOnDailyAt"][:10] for e in latest] == ["2026-06-12"] * 3

    trending = client.get("/api/daily_papers", params={"date": "2026-06-12", "sort": "trending"})
    votes = [e["paper"]["upvotes"] for e in trending.json()]
    assert votes == sorted(votes, reverse=True)

    week = client.get("/api/daily_papers", params={"week": "2026-W24", "limit": 100}).json()
    assert len(week) == 30 + len(HAND_FEATURED)
    month = client.get("/api/daily_papers", params={"month": "2026-06", "limit": 100}).json()
    assert {e["paper"]["id"] for e in month} == {e["paper"]["id"] for e in week}

    pages = [
        client.get("/api/daily_papers", params={"week": "2026-W24", "limit": 10, "p": p}).json()
        for p in range(5)
    ]
    assert [len(page) for page in pages] == [10, 10, 10, 5, 0]
    assert len({e["paper"]["id"] for page in pages for e in page}) == 35

    alice = client.get("/api/daily_papers", params={"submitter": "alice", "limit": 100}).json()
    assert sorted(e["paper"]["id"] for e in alice) == sorted(HAND_FEATURED)


def test_bad_parameters_are_422_with_a_clear_message(client: TestClient) -> None:
    cases = {
        "/api/daily_papers?date=yesterday": "YYYY-MM-DD",
        "/api/daily_papers?week=2026-48": "YYYY-Www",
        "/api/daily_papers?month=11-2026": "YYYY-MM",
        "/api/daily_papers?limit=0": "limit",
        "/api/daily_papers?limit=1000": "limit",
        "/api/daily_papers?sort=best": "sort",
        "/api/daily_papers?p=-1": "p",
        "/api/papers?cursor=%%%": "cursor",
        "/api/v1/search?q=x&mode=fuzzy": "mode",
        "/api/v1/search?q=x&year_from=10": "year_from",
    }
    for url, word in cases.items():
        response = client.get(url)
        assert response.status_code == 422, url
        assert word in response.json()["detail"], (url, response.json())


def test_papers_by_id_search_and_the_full_listing(client: TestClient) -> None:
    paper = client.get("/api/papers/1904.11093").json()
    assert paper["title"] == "Deep Sparse Representation-based Classification"
    assert paper["submittedOnDailyAt"] == "2026-06-09T00:00:00.000Z"
    assert client.get("/api/papers/arXiv:1904.11093v2").json()["id"] == "1904.11093"
    missing = client.get("/api/papers/2401.99999")
    assert missing.status_code == 404 and "2401.99999" in missing.json()["detail"]

    found = client.get("/api/papers/search", params={"q": "hand gesture recognition", "limit": 5})
    assert found.status_code == 200
    assert "1812.06145" in [e["paper"]["id"] for e in found.json()]

    seen: list[str] = []
    url: str | None = "/api/papers?limit=100"
    while url:
        response = client.get(url)
        seen += [p["id"] for p in response.json()]
        link = response.headers.get("link")
        url = link[1 : link.index(">")] if link else None
    assert len(seen) == len(set(seen)) == 330  # 300 listing papers + 30 of the daily list


def test_v1_search_modes_filters_and_similar(client: TestClient) -> None:
    for mode in ("hybrid", "keyword", "semantic"):
        body = client.get("/api/v1/search", params={"q": "sparse representation", "mode": mode})
        assert body.status_code == 200
        assert body.json()["results"], mode
    filtered = client.get(
        "/api/v1/search", params={"q": "learning", "cat": "cs.HC", "limit": 50}
    ).json()
    assert filtered["results"] and all("cs.HC" in r["categories"] for r in filtered["results"])
    coded = client.get("/api/v1/search", params={"q": "learning", "has_code": "true"}).json()
    assert all(r["code_url"] for r in coded["results"])

    similar = client.get("/api/v1/papers/1904.11093/similar", params={"limit": 4}).json()
    assert len(similar["results"]) == 4
    assert "1904.11093" not in [r["id"] for r in similar["results"]]
    full = client.get("/api/v1/papers/1904.11093").json()
    assert full["featured_on"] == "2026-06-09" and full["submitted_by"] == "alice"


def test_openapi_documents_the_api(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200 and "cdn" not in docs.text.lower()  # works offline
    for asset in ("/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css"):
        assert client.get(asset).status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/daily_papers", "/api/papers/search", "/api/v1/search"} <= set(paths)


def test_search_without_a_query_answers_the_newest_papers(client: TestClient) -> None:
    engine = client.app.state.site.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        newest = conn.execute(
            text("SELECT id, published FROM papers WHERE published IS NOT NULL "
                 "ORDER BY published DESC, id DESC LIMIT 7")
        ).all()  # fmt: skip
    for params in ({"limit": 7}, {"q": "", "limit": 7}, {"q": "   ", "limit": 7}):
        answer = client.get("/api/papers/search", params=params)
        assert answer.status_code == 200, answer.text
        assert [entry["paper"]["id"] for entry in answer.json()] == [row.id for row in newest]
    assert len(client.get("/api/papers/search").json()) == 20  # the default limit


def test_search_refuses_a_limit_above_the_maximum(client: TestClient) -> None:
    assert len(client.get("/api/papers/search", params={"limit": 100}).json()) == 100
    over = client.get("/api/papers/search", params={"q": "gesture", "limit": 101})
    assert over.status_code == 422
    assert "limit" in over.json()["error"] and "100" in over.json()["error"]


def test_nothing_is_made_up_for_a_paper_never_featured(client: TestClient) -> None:
    never = client.get("/api/papers/search", params={"limit": 100}).json()
    listing = [e for e in never if e["paper"]["id"] not in {r["paper"]["id"] for r in RECORDED}]
    listing = [e for e in listing if e["paper"]["id"] not in HAND_FEATURED]
    assert listing, "the newest papers include some never featured"
    for entry in listing:
        assert "submittedBy" not in entry and "publishedAt" not in entry, entry
        assert "submittedOnDailyAt" not in entry["paper"]
        assert "submittedOnDailyBy" not in entry["paper"]
        assert "anonymous" not in json.dumps(entry)
    engine = client.app.state.site.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        undated = conn.scalar(text("SELECT id FROM papers WHERE published IS NULL LIMIT 1"))
        comments = dict(conn.execute(text("SELECT id, num_comments FROM papers")).all())
    if undated is not None:
        assert "publishedAt" not in client.get(f"/api/papers/{undated}").json()
    featured = client.get(f"/api/papers/{HAND_FEATURED[0]}").json()
    assert featured["submittedOnDailyBy"]["name"] == "alice"
    assert featured["numComments"] == comments[HAND_FEATURED[0]]
    for recorded in RECORDED[:5]:
        mine = client.get(f"/api/papers/{recorded['paper']['id']}").json()
        assert mine["numComments"] == recorded["numComments"]
        assert mine["publishedAt"] == recorded["paper"]["publishedAt"]


def test_a_hidden_author_is_sent_flagged_and_never_shown(client: TestClient) -> None:
    paper = client.get("/api/papers/2606.12575").json()
    hidden = [a["name"] for a in paper["authors"] if a["hidden"]]
    assert hidden == ["Dengyang Jiang"]
    page = client.get("/papers/2606.12575").text
    assert "Dengyang Jiang" not in page
    shown = next(a["name"] for a in paper["authors"] if not a["hidden"])
    for name, expected in ((shown, True), ("Dengyang Jiang", False)):
        found = client.get("/api/v1/search", params={"q": f'author:"{name}"', "mode": "keyword"})
        assert ("2606.12575" in [hit["id"] for hit in found.json()["results"]]) is expected, name


def test_v1_search_honours_exclusions_in_every_mode(client: TestClient) -> None:
    """``-word``, ``NOT word`` and ``NOT "a phrase"`` drop every paper holding them, whichever
    side (keyword or semantic) found it, and the page still fills with the wanted papers."""
    segment = re.compile(r"\bsegment", re.I)
    phrase = re.compile(r"\bsemantic\s+segmentation", re.I)
    for mode in ("hybrid", "keyword", "semantic"):
        for q, excluded in [
            ("image -segmentation", segment),
            ("image NOT segmentation", segment),
            ('image NOT "semantic segmentation"', phrase),
        ]:
            params = {"q": q, "mode": mode, "limit": 40}
            results = client.get("/api/v1/search", params=params).json()["results"]
            assert len(results) == 40, (mode, q)
            texts = [f"{r['title']} {r['abstract']} {r['authors']}" for r in results]
            assert [t[:60] for t in texts if excluded.search(t)] == [], (mode, q)
            assert sum("image" in t.lower() for t in texts) >= 30, (mode, q)
