"""A paper as Markdown: what ``GET /papers/{id}.md`` serves to ``huggingface_hub``'s
``read_paper`` and ``hf papers read``, and what agents are handed (short, plain text, every
fact we hold about the paper and nothing we do not).

Text is given as the source wrote it (titles and abstracts carry LaTeX such as ``$O(n)$``,
which escaping would mangle); only line breaks inside one-line fields are folded, so that a
title cannot start a new Markdown block. What members type (an organization's name, their
display name) is escaped too: it could otherwise carry links, image beacons, raw HTML or
headings aimed at the agents that read this text. Links are percent-encoded where ``<``, ``>``
or a space would end the autolink.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection

from paperfeed.arxiv_ids import canonical_paper_id
from paperfeed.paper_urls import paper_path
from paperfeed.services.cards import Card, load_cards
from paperfeed.store.merges import merged_into

MAX_ID_LENGTH = 300  # longer is no id of ours (and not worth a query)
_SPACES = re.compile(r"\s+")
_MARKDOWN_ACTIVE = re.compile(r"([\\`*_{}\[\]()<>!#|~])")


def paper_markdown(conn: Connection, paper_id: str, *, base_url: str = "") -> str | None:
    """The paper ``paper_id`` names (any form of an arXiv id, or ``source:id``) as a Markdown
    document, or None when the store has no such paper. Links to our own pages start with
    ``base_url`` (relative when it is empty)."""
    if len(paper_id) > MAX_ID_LENGTH:
        return None
    wanted = canonical_paper_id(paper_id)
    # A paper merged into its arXiv record: an agent holding the old id gets the paper.
    cards = load_cards(conn, [wanted]) or load_cards(conn, [merged_into(conn, wanted) or wanted])
    return card_markdown(cards[0], base_url) if cards else None


def card_markdown(card: Card, base_url: str = "") -> str:
    """The Markdown of one loaded card (see :func:`paper_markdown`)."""
    parts = [f"# {_line(card.title)}", _facts(card), _links(card, base_url)]
    parts.append("## Abstract\n\n" + (card.abstract.strip() or "No abstract."))
    if card.journal_ref or card.comments:
        parts.append(_notes(card))
    return "\n\n".join(part for part in parts if part) + "\n"


def _facts(card: Card) -> str:
    """Who wrote it, when, where it is filed, and what readers here made of it."""
    facts: list[tuple[str, str | None]] = [
        ("Authors", ", ".join(_author(card, name) for name in card.authors) or _unnamed(card)),
        ("Organization", _typed(card.organization) if card.organization else None),
        ("Published", card.published.isoformat() if card.published else None),
        ("Date shown at the source", _line(card.date_shown) if card.date_shown else None),
        ("Updated", card.updated.isoformat() if card.updated else None),
        ("Version", f"v{card.version}" if card.version else None),
        ("Featured on", _featured(card)),
        ("Categories", ", ".join(card.categories) or None),
        ("Keyphrases", ", ".join(_line(phrase) for phrase in card.keyphrases) or None),
        ("Upvotes", str(card.upvotes)),
        ("Comments", str(card.num_comments)),
    ]
    return "\n".join(f"- **{name}:** {value}" for name, value in facts if value)


def _links(card: Card, base_url: str) -> str:
    links: list[tuple[str, str | None]] = [
        ("Paper page", base_url + paper_path(card.id)),
        ("arXiv", card.arxiv_abs),
        ("PDF", card.arxiv_pdf),
        ("Source page", card.source_url),
        ("Code", card.code_url),
        ("Project page", card.project_url),
        ("DOI", f"https://doi.org/{card.doi}" if card.doi else None),
    ]
    lines = [f"- {name}: <{_url(url)}>" for name, url in links if url]
    return "## Links\n\n" + "\n".join(lines)


def _notes(card: Card) -> str:
    lines = ["## Notes", ""]
    if card.journal_ref:
        lines.append(f"- **Journal reference:** {_line(card.journal_ref)}")
    if card.comments:
        lines.append(f"- **Authors' comments:** {_line(card.comments)}")
    return "\n".join(lines)


def _unnamed(card: Card) -> str | None:
    """ "4 authors (not named by the source)" for a paper whose source only counted them."""
    return f"{card.authors_line} (not named by the source)" if card.num_authors else None


def _author(card: Card, name: str) -> str:
    affiliation = card.affiliations.get(name)
    return f"{_line(name)} ({_line(affiliation)})" if affiliation else _line(name)


def _featured(card: Card) -> str | None:
    if card.day is None:
        return None
    by = card.submitter_name or card.submitter
    return f"{card.day.isoformat()} (submitted by {_typed(by)})" if by else card.day.isoformat()


def _line(text: str) -> str:
    """``text`` on one line: a title or name broken over lines must not end the list item."""
    return _SPACES.sub(" ", text).strip()


def _typed(text: str) -> str:
    """What a member typed, on one line with Markdown's active characters escaped."""
    return _MARKDOWN_ACTIVE.sub(r"\\\1", _line(text))


def _url(url: str) -> str:
    """A URL that cannot end its ``<…>`` autolink early."""
    return _line(url).replace(" ", "%20").replace("<", "%3C").replace(">", "%3E")
