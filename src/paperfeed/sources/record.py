"""The typed record every source yields and ``ingest`` takes.

Sources map their format's fields onto :class:`PaperRecord` and nothing more: ids, whitespace
and links are normalised in one place, by ``ingest``, so that every source agrees. A line a
source cannot read becomes a :class:`BadRecord` with its line number and the reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(slots=True)
class PaperRecord:
    """One paper as a source gives it. ``None`` means the source does not know the field."""

    id: str
    title: str
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    version: int | None = None
    published: dt.date | None = None
    updated: dt.date | None = None
    listed_on: dt.date | None = None
    doi: str | None = None
    journal_ref: str | None = None
    comments: str | None = None
    submitter: str | None = None
    abs_url: str | None = None
    pdf_url: str | None = None
    code_url: str | None = None
    project_url: str | None = None
    organization: str | None = None
    #: The source's own short name for the organization (the Daily Papers site's handle, such
    #: as ``caltech``), sent back as given by the compatible API.
    organization_handle: str | None = None
    #: Authors the source lists but hides (the Daily Papers site's ``hidden: true``): kept so
    #: the compatible API can send them flagged, never shown on our pages or searched.
    hidden_authors: list[str] = field(default_factory=list)
    affiliations: dict[str, str] = field(default_factory=dict)  # author name → affiliation
    #: What a capture of a listing page says when it names no authors and no full date: the
    #: author count ("4 authors"), the date as shown ("Apr 8", no year: never guessed into
    #: ``published``) and the site's upvote count (kept as a recorded count, like the Daily
    #: Papers import's).
    num_authors: int | None = None
    date_shown: str | None = None
    upvotes: int | None = None
    line: int = 0
    # What normalising had to cut to store the record (for the import report), never compared.
    notes: list[str] = field(default_factory=list, compare=False)


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A line that could not become a paper, and why (shown to the user, so say it plainly)."""

    line: int
    reason: str
    record_id: str | None = None


@dataclass(frozen=True, slots=True)
class RecordNote:
    """A record that was stored, but with a field cut to fit; the report says which and why."""

    line: int
    record_id: str
    note: str


SourceItem = PaperRecord | BadRecord
