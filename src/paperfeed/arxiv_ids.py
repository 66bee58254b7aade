"""arXiv identifiers: parse what people paste, keep one canonical form.

A paper is stored under its bare id (``2304.01234``, old style ``hep-th/9901001``); the version
is kept apart because it changes while the paper stays the same. Everything a user or a feed
may hand us (``arXiv:2304.01234v2``, abs/pdf/html URLs, ``oai:arXiv.org:...``, an old-style id
with its subject class such as ``math.GT/0309136``) parses to the same pair.

This module imports nothing from paperfeed so every layer may use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ArxivId", "is_arxiv_id", "parse_arxiv_id"]

_NEW = re.compile(r"(?P<yymm>\d{4})\.(?P<num>\d{4,5})(?:v(?P<version>\d{1,4}))?")
_OLD = re.compile(
    r"(?P<archive>[a-z]+(?:-[a-z]+)?)(?:\.[A-Za-z]{2,4}(?:-[a-z]{2,4})?)?"
    r"/(?P<yymm>\d{4})(?P<num>\d{3})(?:v(?P<version>\d{1,4}))?"
)
_PREFIXES = (
    re.compile(r"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html|format)/", re.I),
    re.compile(r"^oai:arxiv\.org:", re.I),
    re.compile(r"^arxiv:\s*", re.I),
)
_SUFFIX = re.compile(r"(?:\.pdf)?/?(?:[?#].*)?$", re.I)
_MAX_INPUT = 300


@dataclass(frozen=True, slots=True)
class ArxivId:
    """A canonical arXiv id and, when one was given, its version number."""

    id: str
    version: int | None = None

    def __str__(self) -> str:
        return self.id if self.version is None else f"{self.id}v{self.version}"


def parse_arxiv_id(text: str) -> ArxivId:
    """Return the canonical id in ``text`` or raise ``ValueError`` saying why it is not one."""
    if len(text) > _MAX_INPUT:
        raise ValueError(f"not an arXiv id: {len(text)} characters is too long for one")
    core = text.strip()
    for prefix in _PREFIXES:
        core = prefix.sub("", core, count=1)
    core = _SUFFIX.sub("", core, count=1)
    if (match := _NEW.fullmatch(core)) is not None:
        return _new_style(match, text)
    if (match := _OLD.fullmatch(core)) is not None:
        return _old_style(match, text)
    raise ValueError(f"not an arXiv id: {text.strip()[:80]!r}")


def is_arxiv_id(text: str) -> bool:
    """True when ``text`` parses as an arXiv id (with or without decorations)."""
    try:
        parse_arxiv_id(text)
    except ValueError:
        return False
    return True


def _new_style(match: re.Match[str], text: str) -> ArxivId:
    yymm, num = match["yymm"], match["num"]
    year, month = int(yymm[:2]), int(yymm[2:])
    if year < 7 or not 1 <= month <= 12 or (year, month) < (7, 4):
        raise ValueError(f"not an arXiv id: {yymm} is not a month of new-style ids ({text!r})")
    if (len(num) == 5) != ((year, month) >= (15, 1)):
        raise ValueError(
            f"not an arXiv id: ids from {yymm} have {5 if year >= 15 else 4}-digit numbers ({text!r})"
        )
    return ArxivId(f"{yymm}.{num}", _version(match))


def _old_style(match: re.Match[str], text: str) -> ArxivId:
    yymm = match["yymm"]
    year, month = int(yymm[:2]), int(yymm[2:])
    if not 1 <= month <= 12 or 7 < year < 91 or ((year, month) > (7, 3) and year < 91):
        raise ValueError(f"not an arXiv id: {yymm} is not a month of old-style ids ({text!r})")
    return ArxivId(f"{match['archive']}/{yymm}{match['num']}", _version(match))


def _version(match: re.Match[str]) -> int | None:
    version = match["version"]
    if version is None:
        return None
    if int(version) == 0:
        raise ValueError("not an arXiv id: versions start at v1")
    return int(version)


def canonical_paper_id(text: str) -> str:
    """A paper id from what someone pasted: an arXiv id in any form (versioned, prefixed, an
    abs or pdf URL) becomes its canonical id; anything else (``source:id``) is kept as given."""
    try:
        return parse_arxiv_id(text).id
    except ValueError:
        return text.strip()
