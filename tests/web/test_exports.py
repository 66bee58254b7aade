"""Importing into a list costs arXiv requests on the site's behalf: confirmed members only, a
daily budget of imports and of arXiv look-ups in the store (exact under parallel requests, on
SQLite and PostgreSQL), and arXiv's spacing of one request per 3 s kept across imports."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from paperfeed.ingest import ingest_file
from tests.servers import Inbox
from tests.sources.replay import Replay
from tests.web.helpers import join, log_in, token
from tests.web.test_library import make_list


def post_import(client: TestClient, list_token: str, ids: str, csrf: str) -> int:
    done = client.post(f"/lists/{list_token}/import", data={"ids": ids, "csrf_token": csrf})
    return done.status_code


def test_finding_5_an_unconfirmed_account_cannot_import(site: TestClient, arxiv: Replay) -> None:
    site.post("/signup", data={"email": "new@lab.org", "handle": "newbie", "password": "a long password",
                               "csrf_token": token(site, "/signup")})  # fmt: skip
    assert log_in(site, "new@lab.org", "a long password").status_code == 303
    list_token = make_list(site)
    refused = site.post(
        f"/lists/{list_token}/import",
        data={"ids": "1707.08567", "csrf_token": token(site, "/lists")},
    )
    assert refused.status_code == 403 and "confirm your e-mail address" in refused.text
    assert arxiv.requests == []


def test_finding_5_parallel_imports_stop_at_the_daily_limit(site: TestClient, inbox: Inbox) -> None:
    join(site, inbox, "ada")
    list_token = make_list(site)
    csrf = token(site, "/lists")
    allowed = site.app.state.site.settings.imports_per_day
    start = threading.Barrier(allowed + 4)

    def one_import(_: int) -> int:
        client = TestClient(site.app, cookies=dict(site.cookies))
        try:
            start.wait()
            return post_import(client, list_token, "1904.11093", csrf)
        finally:
            client.close()

    with ThreadPoolExecutor(allowed + 4) as pool:
        statuses = list(pool.map(one_import, range(allowed + 4)))

    assert sorted(statuses) == [200] * allowed + [429] * 4
    over = site.post(f"/lists/{list_token}/import", data={"ids": "1904.11093", "csrf_token": csrf})
    assert "the most a member may" in over.text and int(over.headers["retry-after"]) >= 1


def test_finding_5_imports_keep_arxivs_spacing_and_a_daily_budget_of_lookups(
    site: TestClient, inbox: Inbox, arxiv: Replay
) -> None:
    asked: list[float] = []
    arxiv.on_request = lambda _n, _target: asked.append(time.monotonic())
    join(site, inbox, "ada")
    list_token = make_list(site)
    csrf = token(site, "/lists")

    assert post_import(site, list_token, "1707.08567", csrf) == 200
    assert post_import(site, list_token, "astro-ph/0601001\n2412.99999", csrf) == 200

    assert len(asked) == 3  # one request an unknown id
    gaps = [later - earlier for earlier, later in itertools.pairwise(asked)]
    assert min(gaps) >= 2.9, gaps  # (the polite client's 3 s, across two imports)

    site.app.state.site.settings.arxiv_lookups_per_day = 3
    done = site.post(f"/lists/{list_token}/import", data={"ids": "2412.88888", "csrf_token": csrf})
    assert "over today&#39;s 3 arXiv look-ups" in done.text or "over today's 3 arXiv" in done.text
    assert len(asked) == 3  # refused before asking arXiv


@pytest.mark.parametrize(
    "paper_id", ["weird:日本語", "x:a\";filename*=UTF-8''evil.html;x=\"", "src:ünï"]
)
def test_a_download_is_named_safely_whatever_the_papers_id(
    client: TestClient, engine: Engine, tmp_path: Path, paper_id: str
) -> None:
    """An export's file is named after the paper id, which an import chooses: a non-Latin-1 id
    made the header fail (500), and quotes in it added a ``filename*`` of the importer's
    choosing (outside check)."""
    records = tmp_path / "odd.jsonl"
    record = {"id": paper_id, "title": "An odd identifier", "abstract": "Text.", "authors": ["A B"]}
    records.write_text(json.dumps(record) + "\n")
    ingest_file(engine, "jsonl", records)
    answer = client.get(f"/papers/{quote(paper_id, safe='')}/export.bib")
    assert answer.status_code == 200 and "An odd identifier" in answer.text
    disposition = answer.headers["content-disposition"]
    plain = re.fullmatch(
        r'attachment; filename="([A-Za-z0-9._-]+)"; filename\*=UTF-8\'\'(\S+)', disposition
    )
    assert plain is not None, disposition
    assert unquote(plain.group(2)) == paper_id.replace("/", "-") + ".bib"
