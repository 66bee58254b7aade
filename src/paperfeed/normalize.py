"""Turn a source's record into the one form the store keeps, or say why it cannot be kept.

Every source goes through here, so the rules live once: ids in canonical form with the version
split off, whitespace collapsed (arXiv's hard line breaks and the snapshot's leading spaces
mean nothing), LaTeX left exactly as written, arXiv links filled in, and a code repository or
project page found in the abstract or comments when the source did not name one.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import replace

import orjson

from paperfeed.arxiv_ids import parse_arxiv_id
from paperfeed.sources.record import PaperRecord

# A record is never refused for a field's length: a field over its limit is cut and the cut is
# noted in the import report. The limits are far above any real value, except where the store
# needs one: a PostgreSQL index entry holds at most 2,704 bytes, so indexed text (author names,
# categories) is kept under 2,000 bytes of UTF-8.
MAX_TITLE = 2_000
MAX_ABSTRACT = 100_000
MAX_INDEXED_BYTES = 2_000
MAX_ORGANIZATION = 500  # organizations.name is shown as written; its slug is cut to 200
MAX_ID = 100
MAX_DATE_SHOWN = 40  # "Apr 8", as a page showed it

_NOT_WORD = re.compile(r"[\W_]+")

_OTHER_ID = re.compile(r"[a-z][a-z0-9_.-]{0,30}:[^\s\x00-\x1f]{1,60}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Literal starts (a scheme, a bare code-host name) keep this fast: it runs on every abstract.
_URL = re.compile(
    r"https?://[^\s<>\"'{}|\\^`]+|(?:www\.)?(?:github|gitlab)\.com/[^\s<>\"'{}|\\^`]+"
)
_CODE_HOSTS = re.compile(
    r"^(?:https?://)?(?:www\.)?(?:github\.com|gitlab\.com|codeberg\.org|bitbucket\.org)/[^/]+/[^/]+",
    re.I,
)
_PROJECT_HOSTS = re.compile(r"^https?://[^/]+\.github\.io(?:/|$)", re.I)


class InvalidRecord(ValueError):
    """The record cannot be stored; the message says why, for the ingest report."""


def normalise(record: PaperRecord) -> PaperRecord:
    """A copy of ``record`` in canonical form, or :class:`InvalidRecord`."""
    paper_id, version, is_arxiv = _canonical_id(record.id, record.version)
    notes: list[str] = []
    title = _cut_chars(_text(record.title), MAX_TITLE, "title", notes)
    if not title:
        raise InvalidRecord("missing title")
    abstract = _cut_chars(_text(record.abstract), MAX_ABSTRACT, "abstract", notes)
    comments = _text(record.comments) or None
    code_url, project_url = _links(abstract, comments)
    authors = _names(record.authors, notes)
    hidden = [name for name in _names(record.hidden_authors, notes) if name not in authors]
    return replace(
        record,
        id=paper_id,
        version=version,
        title=title,
        abstract=abstract,
        authors=authors,
        categories=_categories(record.categories, notes),
        doi=_text(record.doi) or None,
        journal_ref=_text(record.journal_ref) or None,
        comments=comments,
        submitter=_text(record.submitter) or None,
        abs_url=record.abs_url or (f"https://arxiv.org/abs/{paper_id}" if is_arxiv else None),
        pdf_url=record.pdf_url or (f"https://arxiv.org/pdf/{paper_id}" if is_arxiv else None),
        code_url=record.code_url or code_url,
        project_url=record.project_url or project_url,
        organization=_cut_chars(_text(record.organization), MAX_ORGANIZATION, "organization", notes)
        or None,
        organization_handle=_text(record.organization_handle)[:200] or None,
        hidden_authors=hidden,
        affiliations={
            _text(name): _text(place)
            for name, place in record.affiliations.items()
            if _text(name) and _text(place)
        },
        num_authors=None if authors else _positive(record.num_authors),
        date_shown=_text(record.date_shown)[:MAX_DATE_SHOWN] or None,
        upvotes=_positive(record.upvotes),
        notes=notes,
    )


#: Titles of fewer words name no paper reliably enough to merge two records by
#: ("Introduction", "???", "Segment Anything"): they get no key, and are never merged.
MIN_TITLE_KEY_WORDS = 3


def title_key(title: str) -> str | None:
    """A digest of the title folded for comparison (case, accents, punctuation and spacing
    ignored), so the same paper from two sources is recognised by its title; None for a
    title of fewer than :data:`MIN_TITLE_KEY_WORDS` words (all punctuation folded to one
    empty key, which merged any two such papers).

    A fixed-size digest, not the folded text: it indexes in 32 bytes whatever the title's
    length or script, and equal titles give equal keys.
    """
    if title.isascii():  # (most titles: the same key, without a pass over each character)
        folded = title.lower()
    else:
        decomposed = unicodedata.normalize("NFKD", title).casefold()
        folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = _NOT_WORD.sub(" ", folded).split()
    if len(words) < MIN_TITLE_KEY_WORDS:
        return None
    return hashlib.blake2b(" ".join(words).encode(), digest_size=16).hexdigest()


def _positive(value: int | None) -> int | None:
    """A count a source gave, if it is one (a negative or absurd number is not kept)."""
    return value if isinstance(value, int) and 0 <= value < 1_000_000_000 else None


def content_hash(record: PaperRecord) -> str:
    """A digest of everything stored about a paper, so re-imports can tell 'unchanged' cheaply."""
    fields: tuple[object, ...] = (
        record.id, record.version, record.title, record.abstract, record.authors,
        record.categories, record.published, record.updated, record.listed_on, record.doi,
        record.journal_ref, record.comments, record.submitter, record.abs_url, record.pdf_url,
        record.code_url, record.project_url, record.organization,
    )  # fmt: skip
    if record.affiliations:  # (added later: records without any keep their earlier digest)
        fields = (*fields, sorted(record.affiliations.items()))
    if record.organization_handle or record.hidden_authors:  # (added later, likewise)
        fields = (*fields, record.organization_handle, record.hidden_authors)
    if record.num_authors is not None or record.date_shown or record.upvotes is not None:
        fields = (*fields, record.num_authors, record.date_shown, record.upvotes)
    return hashlib.blake2b(orjson.dumps(fields), digest_size=16).hexdigest()


def _canonical_id(raw: str, version: int | None) -> tuple[str, int | None, bool]:
    """The canonical id, the version, and whether it is an arXiv paper."""
    text = raw.strip()
    try:
        parsed = parse_arxiv_id(text)
    except ValueError:
        if _OTHER_ID.fullmatch(text) and len(text) <= MAX_ID:
            return text, version, False
        raise InvalidRecord(
            f"id {text[:60]!r} is not an arXiv id; papers from other sources need an id "
            "written source:id (e.g. 'mylab:tr-2024-17')"
        ) from None
    return parsed.id, parsed.version if parsed.version is not None else version, True


def _text(value: str | None) -> str:
    """Collapse whitespace; drop control characters (PostgreSQL refuses NUL in text)."""
    if not value:
        return ""
    if _CONTROL.search(value):
        value = _CONTROL.sub(" ", value)
    return " ".join(value.split())


def _cut_chars(text: str, limit: int, what: str, notes: list[str]) -> str:
    """``text``, cut to ``limit`` characters with a note if it is longer."""
    if len(text) <= limit:
        return text
    notes.append(f"{what} cut from {len(text):,} to {limit:,} characters")
    return text[:limit]


def _cut_indexed(text: str, what: str, notes: list[str]) -> str:
    """``text`` cut (at a character boundary, with a note) to fit a PostgreSQL index entry."""
    size = len(text.encode())
    if size <= MAX_INDEXED_BYTES:
        return text
    cut = text.encode()[:MAX_INDEXED_BYTES].decode(errors="ignore")
    notes.append(f"{what} cut from {len(text):,} to {len(cut):,} characters ({size:,} bytes)")
    return cut


def _names(authors: list[str], notes: list[str]) -> list[str]:
    names = [_text(name) for name in authors]
    return [
        _cut_indexed(name, f"author {i} name", notes) for i, name in enumerate(names, 1) if name
    ]


def _categories(categories: list[str], notes: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for category in categories:
        category = category.strip()
        if category:
            seen.setdefault(_cut_indexed(category, "a category", notes))
    return list(seen)


def _links(*texts: str | None) -> tuple[str | None, str | None]:
    """The first code repository and the first project page linked in ``texts``."""
    code = project = None
    for text in texts:
        if not text or ("://" not in text and ".com/" not in text):
            continue
        for url in _URL.findall(text):
            url = url.rstrip(".,;:)]")
            if code is None and _CODE_HOSTS.match(url):
                code = url if "://" in url else f"https://{url}"
            elif project is None and _PROJECT_HOSTS.match(url):
                project = url
    return code, project
