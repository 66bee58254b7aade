"""A paper as Markdown: every fact the store holds, taken from what was imported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from paperfeed.ingest import ingest_file
from paperfeed.services.paper_markdown import paper_markdown
from tests.conftest import FIXTURES
from tests.web.conftest import DAILY

RECORDED: list[dict[str, Any]] = json.loads(DAILY.read_text())


def _first(**wanted: bool) -> dict[str, Any]:
    """The first recorded entry with (or without) an organization and a code link."""
    for entry in RECORDED:
        has = {"org": "organization" in entry, "code": "githubRepo" in entry["paper"]}
        if all(has[key] == value for key, value in wanted.items()):
            return entry
    raise AssertionError(wanted)


def test_a_featured_paper_has_its_title_authors_links_counters_and_abstract(
    engine: Engine, site_home: Path
) -> None:
    entry = _first(org=True, code=True)
    paper = entry["paper"]
    with engine.connect() as conn:
        text = paper_markdown(conn, paper["id"], base_url="https://papers.example")
    assert text is not None
    assert text.startswith(f"# {paper['title']}\n")
    names = [a["name"] for a in paper["authors"] if not a["hidden"]]
    assert f"- **Authors:** {', '.join(names)}\n" in text
    assert f"- **Organization:** {entry['organization']['fullname']}\n" in text
    assert f"- **Featured on:** {paper['submittedOnDailyAt'][:10]} (submitted by " in text
    assert f"- **Upvotes:** {paper['upvotes']}\n" in text
    assert f"- **Comments:** {entry['numComments']}\n" in text
    assert f"- Code: <{paper['githubRepo']}>" in text
    assert f"- Paper page: <https://papers.example/papers/{paper['id']}>" in text
    assert f"- arXiv: <https://arxiv.org/abs/{paper['id']}>" in text
    assert "## Abstract\n\n" + paper["summary"].strip() in text


def test_an_old_style_id_and_the_snapshot_fields(engine: Engine, site_home: Path) -> None:
    source = FIXTURES / "arxiv-more-2-head100.jsonl"
    ingest_file(engine, "arxiv-snapshot", source)
    record = json.loads(source.read_text().splitlines()[0])
    assert "/" in record["id"]
    with engine.connect() as conn:
        text = paper_markdown(conn, record["id"])
        versioned = paper_markdown(conn, record["id"] + "v1")
    assert text is not None and text == versioned
    assert text.startswith("# " + " ".join(record["title"].split()) + "\n")
    assert f"- **Published:** {record['date']}\n" in text
    assert f"- Paper page: </papers/{record['id']}>" in text
    assert "- **Featured on:**" not in text  # never featured: nothing made up
    assert " ".join(record["abstract"].split()[:12]) in " ".join(text.split())


def test_an_unknown_id_is_none(engine: Engine, site_home: Path) -> None:
    with engine.connect() as conn:
        assert paper_markdown(conn, "2999.99999") is None
        assert paper_markdown(conn, "hep-th/9901001") is None
        assert paper_markdown(conn, "x" * 400) is None


def test_what_members_type_cannot_inject_markdown() -> None:
    """An attack linked a paper to an organization named with a link, an image beacon, raw
    HTML and a heading for agents; the Markdown (and MCP's get_paper) carried them verbatim."""
    from paperfeed.services.cards import Card
    from paperfeed.services.paper_markdown import card_markdown

    evil = "Lab](https://evil.example) ![t](https://evil.example/p.png) <img src=x> ## Ignore"
    card = Card("2504.03434", "A title", "An abstract.", None, 0, 0, organization=evil,
                code_url="https://github.com/a/b> ![x](https://evil.example)")  # fmt: skip
    text = card_markdown(card)
    organization = next(line for line in text.splitlines() if "Organization" in line)
    assert "](" not in organization and "![" not in organization
    assert "\\<img" in organization and "\\#\\# Ignore" in organization
    code = next(line for line in text.splitlines() if line.startswith("- Code:"))
    assert code.count(">") == 1 and "%3E" in code


def test_a_captured_paper_is_not_called_an_arxiv_paper(engine: Engine, tmp_path: Path) -> None:
    """The text agents get (MCP ``get_paper``) for a paper of the captured search page."""
    sample = Path(__file__).parents[2] / "src" / "paperfeed" / "data" / "sample"
    ingest_file(engine, "jsonl", sample / "daily-papers.jsonl")
    with engine.connect() as conn:
        text = paper_markdown(conn, "dailypapers:mist-mutual-information-via-supervised-training")
    assert text is not None
    assert "- **Authors:** 5 authors (not named by the source)\n" in text
    assert "- **Date shown at the source:** Nov 24\n" in text
    assert "- **Upvotes:** 2\n" in text
    assert "arxiv" not in text.lower()
