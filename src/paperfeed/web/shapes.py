"""JSON in the public Daily Papers API's shapes, so its existing clients work unchanged.

Field names and types follow the recorded responses in ``tests/fixtures/hf_daily_papers``.
What paperfeed does not know is left out (the public API's clients handle missing fields):
a paper never featured has no submitter, no ``submittedOnDailyAt`` and no top-level
``publishedAt`` (the day it was featured); a featured paper whose submitter we do not know
(an importer put it on the feed) has no ``submittedBy``. ``ai_keywords`` are the
keyphrases the indexer extracted (``[]`` until it has); ``ai_summary`` is ``""`` (nothing
generates summaries here), and ids of people and discussions are stable digests of their names and the paper id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import lru_cache
from typing import Any

from paperfeed.paper_urls import paper_path
from paperfeed.services.cards import Card


# Shaping is most of a daily-papers request's own time: the ids (a digest each) and dates of
# the same papers are asked for again and again, so they are kept once made.
@lru_cache(maxsize=50_000)
def object_id(*parts: str) -> str:
    """A 24-hex-digit id like the public API's, stable for the same name."""
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=12).hexdigest()


@lru_cache(maxsize=10_000)
def timestamp(value: dt.date | dt.datetime | None) -> str | None:
    """``2026-06-12T00:00:00.000Z``, as the public API writes dates."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def user(handle: str | None, fullname: str | None, base_url: str) -> dict[str, Any] | None:
    """The person ``handle`` (or ``fullname``), or None when we know neither."""
    name = handle or fullname
    if not name:
        return None
    return {
        "_id": object_id("user", name),
        "avatarUrl": f"{base_url}/static/avatar.svg",
        "fullname": fullname or name,
        "name": name,
        "user": name,
        "type": "user",
        "isPro": False,
    }


def submitter(card: Card, base_url: str) -> dict[str, Any] | None:
    """``submittedBy``: the user object with the flags the public API adds at the top level
    (None for a paper never featured, or featured by an importer)."""
    person = user(card.submitter, card.submitter_name, base_url) if card.day else None
    if person is None:
        return None
    return {
        **person,
        "isHf": False,
        "isHfAdmin": False,
        "isMod": False,
        "isUserFollowing": False,
    }


def organization(card: Card, base_url: str) -> dict[str, Any] | None:
    if not card.organization:
        return None
    return {
        "_id": object_id("org", card.organization_slug or card.organization),
        "name": card.organization_handle or card.organization_slug or card.organization,
        "fullname": card.organization,
        "avatar": f"{base_url}/static/organization.svg",
    }


@lru_cache(maxsize=20_000)
def authors(
    paper_id: str, names: tuple[str, ...], hidden: tuple[str, ...] = ()
) -> tuple[dict[str, Any], ...]:
    """The ``authors`` of a paper, the ones the source hides last and flagged (kept: the same
    papers are shown again and again; the answer is only ever serialised, never changed)."""
    return tuple(
        {"_id": object_id("author", paper_id, str(n)), "name": name, "hidden": n >= len(names)}
        for n, name in enumerate((*names, *hidden))
    )


def paper(card: Card, base_url: str) -> dict[str, Any]:
    """The ``paper`` object (also what ``/api/papers/{id}`` returns)."""
    shaped: dict[str, Any] = {
        "id": card.id,
        "authors": authors(card.id, tuple(card.authors), tuple(card.hidden_authors)),
        "title": card.title,
        "summary": card.abstract,
        "upvotes": card.upvotes,
        "discussionId": object_id("discussion", card.id),
        "ai_summary": "",
        "ai_keywords": list(card.keyphrases),
        "ai_summary_model": "",
    }
    if card.published is not None:
        shaped["publishedAt"] = timestamp(card.published)
    if card.day is not None:
        shaped["submittedOnDailyAt"] = timestamp(card.day)
        if (by := user(card.submitter, card.submitter_name, base_url)) is not None:
            shaped["submittedOnDailyBy"] = by
    if card.code_url:
        shaped["githubRepo"] = card.code_url
    if card.project_url:
        shaped["projectPage"] = card.project_url
    if (org := organization(card, base_url)) is not None:
        shaped["organization"] = org
    return shaped


def daily_entry(card: Card, base_url: str) -> dict[str, Any]:
    """One element of ``/api/daily_papers``."""
    shaped: dict[str, Any] = {
        "paper": paper(card, base_url),
        "title": card.title,
        "summary": card.abstract,
        "thumbnail": f"{base_url}/static/paper.svg",
        "numComments": card.num_comments,
        "isAuthorParticipating": False,
    }
    if card.day is not None:  # the day it was featured ("published" on the daily list)
        shaped["publishedAt"] = timestamp(card.day)
    if (by := submitter(card, base_url)) is not None:
        shaped["submittedBy"] = by
    if (org := organization(card, base_url)) is not None:
        shaped["organization"] = org
    return shaped


def card_json(card: Card, base_url: str) -> dict[str, Any]:
    """Our own richer shape for ``/api/v1``: every field of the card, plain names."""
    return {
        "id": card.id,
        "arxiv_id": card.id if card.is_arxiv else None,
        "url": base_url + paper_path(card.id),
        "title": card.title,
        "abstract": card.abstract,
        "authors": card.authors,
        "num_authors": card.author_count,
        "affiliations": card.affiliations,
        "categories": card.categories,
        "published": card.published.isoformat() if card.published else None,
        "date_shown": card.date_shown,
        "updated": card.updated.isoformat() if card.updated else None,
        "version": card.version,
        "doi": card.doi,
        "journal_ref": card.journal_ref,
        "comments": card.comments,
        "abs_url": card.arxiv_abs or card.source_url,
        "pdf_url": card.arxiv_pdf,
        "code_url": card.code_url,
        "project_url": card.project_url,
        "organization": card.organization,
        "upvotes": card.upvotes,
        "num_comments": card.num_comments,
        "featured_on": card.day.isoformat() if card.day else None,
        "submitted_by": card.submitter,
    }


def paper_page(card: Card, base_url: str) -> dict[str, Any]:
    """What ``/api/papers/{id}`` answers: the ``paper`` object and its comment count (which
    the daily entries carry beside it instead)."""
    return {**paper(card, base_url), "numComments": card.num_comments}
