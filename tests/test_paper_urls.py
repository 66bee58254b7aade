"""A paper's id as a URL path segment: whatever it holds, the path decodes back to it."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pytest

from paperfeed.paper_urls import paper_path, paper_segment


@pytest.mark.parametrize(
    "paper_id", ["src:a?b#c", "lab:100%", "lab:a/../b", "lab:x y", "lab:é&=+;", "src:%2F"]
)
def test_an_id_with_url_characters_stays_in_the_path(paper_id: str) -> None:
    parts = urlsplit("https://example.org" + paper_path(paper_id, "/upvote"))

    assert (parts.query, parts.fragment) == ("", "")
    assert unquote(parts.path) == f"/papers/{paper_id}/upvote"
    assert "/" not in paper_segment(paper_id)  # a "../" in an id is no path step


def test_arxiv_ids_read_as_arxiv_writes_them() -> None:
    assert paper_path("hep-th/9901001") == "/papers/hep-th/9901001"
    assert paper_path("2304.01234", ".md") == "/papers/2304.01234.md"
    assert (
        paper_segment("dailypapers:mist-mutual-information")
        == "dailypapers:mist-mutual-information"
    )
