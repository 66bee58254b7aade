"""Papers as an agent sees them: a few short fields each, so a page of results fits in a model's
context window, sent as compact JSON (the tool result's text) and as structured content.

Fields we do not know are left out, never filled with a guess (no authors, no date, no code).
"""

from __future__ import annotations

import re

import orjson
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from paperfeed.services.cards import Card

#: Authors named in a brief; the rest are counted.
SHOWN_AUTHORS = 3
SUMMARY_CHARS = 200
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
#: A period that ends these does not end the sentence ("e.g. CIFAR-10", "Smith et al. show").
_ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "etc.", "vs.", "cf.", "Fig.", "Eq.", "Sec.", "resp.")
_INITIAL = re.compile(r"\b[A-Z]\.$")


class PaperBrief(BaseModel):
    """One paper in a list of results."""

    id: str = Field(description="the paper's id (a bare arXiv id, or source:id)")
    title: str
    authors: list[str] | None = Field(None, description=f"the first {SHOWN_AUTHORS} authors")
    author_count: int | None = Field(None, description="how many authors the paper has")
    published: str | None = Field(None, description="first published, YYYY-MM-DD")
    featured_on: str | None = Field(None, description="the day it was on the daily feed")
    upvotes: int
    summary: str | None = Field(None, description="the abstract's first sentence")
    code: str | None = Field(None, description="its code repository")


def one_line(abstract: str) -> str | None:
    """The abstract's first sentence, cut at a word under :data:`SUMMARY_CHARS` characters."""
    text = " ".join(abstract.split())
    if not text:
        return None
    first = _first_sentence(text)
    if len(first) <= SUMMARY_CHARS:
        return first
    return first[:SUMMARY_CHARS].rsplit(" ", 1)[0].rstrip(",;:.") + "…"


def _first_sentence(text: str) -> str:
    for end in _SENTENCE_END.finditer(text):
        head = text[: end.start()]
        if not head.endswith(_ABBREVIATIONS) and not _INITIAL.search(head):
            return head
    return text


def brief(card: Card) -> PaperBrief:
    return PaperBrief(
        id=card.id,
        title=card.title,
        authors=card.authors[:SHOWN_AUTHORS] or None,
        author_count=len(card.authors) or None,
        published=card.published.isoformat() if card.published else None,
        featured_on=card.day.isoformat() if card.day else None,
        upvotes=card.upvotes,
        summary=one_line(card.abstract),
        code=card.code_url,
    )


def reply(answer: BaseModel) -> CallToolResult:
    """A tool's result: compact JSON for the model to read, the same object as structured
    content for programs (unknown fields left out of both)."""
    data = answer.model_dump(mode="json", exclude_none=True)
    text = orjson.dumps(data).decode()
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


class SearchAnswer(BaseModel):
    query: str
    mode: str = Field(
        description="the mode that ran (semantic falls back to keyword without vectors)"
    )
    offset: int
    notes: list[str] | None = Field(
        None, description="what the search engine changed or could not do"
    )
    papers: list[PaperBrief]


class FeedAnswer(BaseModel):
    period: str = Field(description="the day (YYYY-MM-DD), week (YYYY-Www) or month (YYYY-MM)")
    kind: str = Field(description="day, week or month")
    sort: str
    total: int = Field(description="papers featured in the period")
    offset: int
    earlier: str | None = Field(None, description="the nearest earlier day with featured papers")
    later: str | None = Field(None, description="the nearest later day with featured papers")
    papers: list[PaperBrief]


class TrendingAnswer(BaseModel):
    total: int = Field(description="papers in the trending window (the last 30 feed days)")
    offset: int
    papers: list[PaperBrief]


class SimilarAnswer(BaseModel):
    id: str = Field(description="the paper the others are similar to")
    title: str
    notes: list[str] | None = None
    papers: list[PaperBrief]


class VoteAnswer(BaseModel):
    id: str
    voted: bool = Field(description="whether your upvote is on the paper now")
    upvotes: int = Field(description="the paper's upvotes now")


class SubmitAnswer(BaseModel):
    id: str
    outcome: str = Field(
        description="featured (put on the feed now) or already (your upvote added)"
    )
    featured_on: str = Field(description="the day whose feed shows it")
    fetched: bool = Field(description="the paper was new here and was fetched from arXiv")
    url: str
