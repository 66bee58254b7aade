"""Turn a source's record into the one form the store keeps, or say why it cannot be kept.

Every source goes through here, so the rules live once: ids in canonical form with the version
split off, whitespace collapsed (arXiv's hard line breaks and the snapshot's leading spaces
mean nothing), LaTeX left exactly as written, arXiv links filled in, and a code repository or
project page found in the abstract or comments when the source did not name one.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace

import orjson

from paperfeed.arxiv_ids import parse_arxiv_id
from paperfeed.sources.record import PaperRecord

MAX_TITLE = 2_000
MAX_ABSTRACT = 100_000
MAX_NAME = 500
MAX_CATEGORY = 40
MAX_ID = 100
MAX_DOI = 300

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
    title = _text(record.title)
    if not title:
        raise InvalidRecord("missing title")
    if len(title) > MAX_TITLE:
        raise InvalidRecord(f"title is {len(title):,} characters; the limit is {MAX_TITLE:,}")
    abstract = _text(record.abstract)
    if len(abstract) > MAX_ABSTRACT:
        raise InvalidRecord(
            f"abstract is {len(abstract):,} characters; the limit is {MAX_ABSTRACT:,}"
        )
    comments = _text(record.comments) or None
    doi = _text(record.doi) or None
    code_url, project_url = _links(abstract, comments)
    if doi is not None and len(doi) > MAX_DOI:
        raise InvalidRecord(f"doi is {len(doi):,} characters; the limit is {MAX_DOI}")
    return replace(
        record,
        id=paper_id,
        version=version,
        title=title,
        abstract=abstract,
        authors=_names(record.authors),
        categories=_categories(record.categories),
        doi=doi,
        journal_ref=_text(record.journal_ref) or None,
        comments=comments,
        submitter=_text(record.submitter)[:MAX_NAME] or None,
        abs_url=record.abs_url or (f"https://arxiv.org/abs/{paper_id}" if is_arxiv else None),
        pdf_url=record.pdf_url or (f"https://arxiv.org/pdf/{paper_id}" if is_arxiv else None),
        code_url=record.code_url or code_url,
        project_url=record.project_url or project_url,
        organization=_text(record.organization)[:MAX_NAME] or None,
        affiliations={
            _text(name): _text(place)[:MAX_NAME]
            for name, place in record.affiliations.items()
            if _text(name) and _text(place)
        },
    )


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


def _names(authors: list[str]) -> list[str]:
    names = [_text(name) for name in authors]
    for name in names:
        if len(name) > MAX_NAME:
            raise InvalidRecord(
                f"an author name is {len(name):,} characters; the limit is {MAX_NAME}"
            )
    return [name for name in names if name]


def _categories(categories: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for category in categories:
        category = category.strip()
        if len(category) > MAX_CATEGORY:
            raise InvalidRecord(
                f"category {category[:50]!r}… is longer than {MAX_CATEGORY} characters"
            )
        if category:
            seen.setdefault(category)
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
