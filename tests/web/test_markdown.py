"""``GET /papers/{id}.md``: the paper as Markdown, linked from its page."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from paperfeed.ingest import ingest_file
from tests.conftest import FIXTURES
from tests.web.conftest import DAILY

RECORDED: list[dict[str, Any]] = json.loads(DAILY.read_text())


def test_a_paper_as_markdown(client: TestClient) -> None:
    paper = RECORDED[0]["paper"]
    answer = client.get(f"/papers/{paper['id']}.md")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/markdown; charset=utf-8"
    assert answer.text.startswith(f"# {paper['title']}\n")
    assert paper["authors"][0]["name"] in answer.text


def test_the_paper_page_links_to_its_markdown(client: TestClient) -> None:
    paper_id = RECORDED[1]["paper"]["id"]
    page = client.get(f"/papers/{paper_id}")
    assert page.status_code == 200
    assert f'href="/papers/{paper_id}.md"' in page.text
    assert client.get(f"/papers/{paper_id}.md").status_code == 200


def test_an_old_style_id_with_a_slash(client: TestClient) -> None:
    source = FIXTURES / "arxiv-more-2-head100.jsonl"
    ingest_file(client.app.state.site.engine, "arxiv-snapshot", source)  # type: ignore[attr-defined]
    record = json.loads(source.read_text().splitlines()[0])
    answer = client.get(f"/papers/{record['id']}.md")
    assert answer.status_code == 200
    assert answer.text.startswith("# " + " ".join(record["title"].split()))
    assert client.get(f"/papers/{record['id']}").status_code == 200  # the page is still there


def test_an_unknown_paper_is_a_404_with_its_message(client: TestClient) -> None:
    for missing in ("2999.99999", "hep-th/9901001"):
        answer = client.get(f"/papers/{missing}.md")
        assert answer.status_code == 404
        assert missing in answer.headers["x-error-message"]


def test_an_unknown_id_outside_latin_1_is_a_404_not_a_500(client: TestClient) -> None:
    answer = client.get("/papers/%E4%B8%AD.md")  # an attack's 中: the header could not hold it
    assert answer.status_code == 404
    assert answer.headers["X-Error-Message"].isascii()
