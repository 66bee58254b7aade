"""The JSON API's response shapes as pydantic models, so ``/docs`` and ``/openapi.json``
describe what the routes really answer (and schemathesis checks every answer against them).

The Daily Papers compatible shapes follow the public API's recorded responses
(``tests/fixtures/hf_daily_papers``); a field we do not know is left out of the answer, so it
is optional here and never ``null``. Our own ``/api/v1`` shapes always carry every field,
``null`` when unknown.

The hot routes build their answers as plain dicts (``web/shapes.py``) and serialise them with
orjson (:class:`JSONBytes`): FastAPI then documents the model but does not validate each answer
against it, which would cost more than the rest of the request. The schema test does that.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

# ---------------------------------------------------------------- the public API's shapes


class _Hub(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class HubAuthor(_Hub):
    """An author as the paper lists them; ``hidden`` ones are hidden on the public site."""

    id: str = Field(alias="_id", description="a stable digest of the paper and position")
    name: str
    hidden: bool


class HubUser(_Hub):
    """The member who put a paper on the daily feed."""

    id: str = Field(alias="_id")
    avatarUrl: str
    fullname: str
    name: str
    user: str
    type: str
    isPro: bool


class HubSubmitter(HubUser):
    """``submittedBy``: the user with the flags the public API adds."""

    isHf: bool
    isHfAdmin: bool
    isMod: bool
    isUserFollowing: bool


class HubOrganization(_Hub):
    id: str = Field(alias="_id")
    name: str
    fullname: str
    avatar: str


class HubPaper(BaseModel):
    """A paper (``paper`` in a daily entry)."""

    id: str = Field(description="the arXiv id (old style with a slash) or source:id")
    authors: list[HubAuthor]
    publishedAt: str | None = Field(None, description="the arXiv date; left out when unknown")
    title: str
    summary: str
    upvotes: int
    discussionId: str
    ai_summary: str = Field(description="always empty: no summaries are generated")
    ai_keywords: list[str]
    ai_summary_model: str
    submittedOnDailyAt: str | None = Field(None, description="left out if never featured")
    submittedOnDailyBy: HubUser | None = None
    githubRepo: str | None = None
    projectPage: str | None = None
    organization: HubOrganization | None = None


class HubPaperPage(HubPaper):
    """What ``/api/papers/{id}`` answers: the paper and its comment count."""

    numComments: int


class DailyEntry(BaseModel):
    """One element of ``/api/daily_papers`` and ``/api/papers/search``."""

    paper: HubPaper
    publishedAt: str | None = Field(None, description="the day it was featured, if it was")
    title: str
    summary: str
    thumbnail: str
    numComments: int
    submittedBy: HubSubmitter | None = Field(None, description="left out when not known")
    isAuthorParticipating: bool
    organization: HubOrganization | None = None


# ---------------------------------------------------------------- our own /api/v1 shapes


class PaperV1(BaseModel):
    """Every field paperfeed keeps about a paper; ``null`` when unknown."""

    id: str
    arxiv_id: str | None = Field(description="the id when it is an arXiv id; null for source:id")
    url: str
    title: str
    abstract: str
    authors: list[str]
    num_authors: int = Field(
        description="authors named, or the count a source gave without names (a captured page)"
    )
    affiliations: dict[str, str] = Field(description="author name → affiliation, when known")
    categories: list[str]
    published: str | None
    date_shown: str | None = Field(
        description="a date as the source's page showed it when it was not a full date (Apr 8)"
    )
    updated: str | None
    version: int | None
    doi: str | None
    journal_ref: str | None
    comments: str | None
    abs_url: str | None = Field(description="arXiv's abstract page, or the source's page")
    pdf_url: str | None = Field(description="arXiv's PDF; null without an arXiv id")
    code_url: str | None
    project_url: str | None
    organization: str | None
    upvotes: int
    num_comments: int
    featured_on: str | None
    submitted_by: str | None


class SearchResultV1(PaperV1):
    score: float
    snippet: str


class SearchV1(BaseModel):
    query: str
    mode: str = Field(description="the mode that answered (keyword when vectors are missing)")
    notes: list[str]
    no_match: bool = Field(
        description="true when the query matches no paper (the relevance floor): try a broader one"
    )
    offset: int
    results: list[SearchResultV1]


class SimilarV1(BaseModel):
    id: str
    results: list[PaperV1]


class ListPaperV1(PaperV1):
    note: str | None


class ReadingListV1(BaseModel):
    name: str
    description: str
    visibility: str
    owner: str
    updated_at: str
    url: str
    papers: list[ListPaperV1]


class VoteV1(BaseModel):
    id: str
    voted: bool
    upvotes: int


class SubmittedV1(BaseModel):
    id: str
    featured_on: str
    fetched: bool


class CommentedV1(BaseModel):
    id: int
    paper: str
    url: str


class JSONBytes(Response):
    """JSON serialised by orjson, for answers built as plain dicts and lists."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
