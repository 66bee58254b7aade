"""A paper's address: its id as one URL path segment, the same wherever a link is built.

A ``source:id`` may hold any character a URL gives a meaning to (``src:a?b#c``, ``lab:50%``,
``lab:a/../b``): written raw, ``?`` starts a query, ``#`` a fragment, ``%`` an escape, and
``/`` (with ``..``) another path. So every character but letters, digits, ``-._~`` and ``:``
is percent-encoded. arXiv ids keep their ``/`` (``hep-th/9901001``, as arXiv writes it):
they hold nothing else that needs it, and the routes take the id as a path either way, the
server decoding ``%2F`` back to ``/`` before routing.

This module imports nothing from paperfeed but :mod:`paperfeed.arxiv_ids`, so every layer
(pages, API, feeds, digests, agents) may use it.
"""

from __future__ import annotations

from urllib.parse import quote

from paperfeed.arxiv_ids import is_arxiv_id


def paper_segment(paper_id: str) -> str:
    """``paper_id`` as it goes into a URL path."""
    return quote(paper_id, safe=":/" if is_arxiv_id(paper_id) else ":")


def paper_path(paper_id: str, suffix: str = "") -> str:
    """The paper's page (``/papers/<id>``), or another of its routes with ``suffix``
    (``.md``, ``/upvote``)."""
    return f"/papers/{paper_segment(paper_id)}{suffix}"
