"""Papers as citations: BibTeX (bibtexparser, LaTeX-encoded), RIS (rispy) and CSL-JSON.

arXiv papers carry their identifier where reference managers look for it: BibTeX
``eprint``/``archivePrefix``/``primaryClass`` (the form arXiv itself exports) and biblatex's
``version``; RIS ``AN`` (accession number) with the version in ``ET``; CSL ``number`` with
``archive: arXiv`` and ``version``. A DOI, when the paper has one, goes in ``doi``/``DO``/``DOI``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import rispy
from bibtexparser import model
from bibtexparser.entrypoint import write_string
from bibtexparser.library import Library
from bibtexparser.middlewares import LatexEncodingMiddleware

from paperfeed.services.cards import Card

FORMATS = {
    "bib": ("application/x-bibtex; charset=utf-8", "bib"),
    "ris": ("application/x-research-info-systems; charset=utf-8", "ris"),
    "csl.json": ("application/vnd.citationstyles.csl+json; charset=utf-8", "json"),
}


def export(cards: Sequence[Card], kind: str) -> str:
    """``cards`` in the format ``kind`` ("bib", "ris" or "csl.json")."""
    if kind == "bib":
        return to_bibtex(cards)
    if kind == "ris":
        return to_ris(cards)
    if kind == "csl.json":
        return to_csl_json(cards)
    raise ValueError(f"no export format {kind!r}")


def to_bibtex(cards: Sequence[Card]) -> str:
    library = Library()
    keys: set[str] = set()
    for card in cards:
        fields = {
            "title": card.title,
            "author": " and ".join(card.authors),
            "year": str(card.published.year) if card.published else None,
            "month": str(card.published.month) if card.published else None,
            "doi": card.doi,
            "url": card.arxiv_abs or card.source_url,
            "abstract": card.abstract or None,
        }
        if card.is_arxiv:
            fields |= {
                "eprint": card.id, "archiveprefix": "arXiv",
                "primaryclass": card.categories[0] if card.categories else None,
                "version": str(card.version) if card.version else None,
            }  # fmt: skip
        if card.journal_ref:
            fields["journal"] = card.journal_ref
        entry = model.Entry(
            "article" if card.journal_ref else "misc",
            _key(card, keys),
            [model.Field(name, value) for name, value in fields.items() if value],
        )
        library.add(entry)
    return str(write_string(library, prepend_middleware=[_TextLatexEncoding()]))


class _TextLatexEncoding(LatexEncodingMiddleware):
    """LaTeX-encodes the text fields only. ``url``, ``doi`` and ``eprint`` are verbatim fields
    in biblatex and BibTeX's url package: a ``\\url{}`` or ``\\_`` written into them breaks the
    link a reference manager shows."""

    VERBATIM = frozenset({"url", "doi", "eprint"})

    def transform_entry(self, entry: model.Entry, library: Library) -> model.Block:
        kept = {f.key: f.value for f in entry.fields if f.key in self.VERBATIM}
        block = super().transform_entry(entry, library)
        if isinstance(block, model.Entry):
            for f in block.fields:
                if f.key in kept:
                    f.value = kept[f.key]
        return block


def to_ris(cards: Sequence[Card]) -> str:
    entries = []
    for card in cards:
        entry: dict[str, Any] = {
            "type_of_reference": "JOUR" if card.journal_ref else "UNPB",
            "title": card.title,
            "authors": [_ris_name(name) for name in card.authors],
            "urls": [url for url in (card.arxiv_abs or card.source_url, card.arxiv_pdf) if url],
        }
        if card.published:
            entry["year"] = str(card.published.year)
            entry["date"] = card.published.strftime("%Y/%m/%d")
        if card.abstract:
            entry["abstract"] = card.abstract
        if card.doi:
            entry["doi"] = card.doi
        if card.journal_ref:
            entry["journal_name"] = card.journal_ref
        if card.is_arxiv:
            entry["accession_number"] = f"arXiv:{card.id}"
            entry["name_of_database"] = "arXiv"
            if card.version:
                entry["edition"] = f"v{card.version}"
        entries.append(entry)
    return str(rispy.dumps(entries))


def to_csl_json(cards: Sequence[Card]) -> str:
    items = []
    for card in cards:
        item: dict[str, Any] = {
            "id": card.id,
            "type": "article-journal" if card.journal_ref else "article",
            "title": card.title,
            "author": [_csl_name(name) for name in card.authors],
            "URL": card.arxiv_abs or card.source_url,
        }
        if card.published:
            item["issued"] = {
                "date-parts": [[card.published.year, card.published.month, card.published.day]]
            }
        if card.abstract:
            item["abstract"] = card.abstract
        if card.doi:
            item["DOI"] = card.doi
        if card.journal_ref:
            item["container-title"] = card.journal_ref
        if card.is_arxiv:
            item |= {"archive": "arXiv", "number": f"arXiv:{card.id}"}
            if card.version:
                item["version"] = str(card.version)
        items.append({k: v for k, v in item.items() if v is not None})
    return json.dumps(items, ensure_ascii=False, indent=2)


def split_name(name: str) -> tuple[str, str]:
    """(given, family) of an author name as written on a paper: "LeCun, Yann" or "Yann LeCun"
    (the last word is the family name, keeping particles such as "van der")."""
    if "," in name:
        family, _, given = name.partition(",")
        return given.strip(), family.strip()
    words = name.split()
    if len(words) < 2:
        return "", name.strip()
    start = len(words) - 1
    while start > 1 and words[start - 1].lower() in (
        "van",
        "von",
        "der",
        "de",
        "da",
        "del",
        "la",
        "le",
        "di",
    ):
        start -= 1
    return " ".join(words[:start]), " ".join(words[start:])


def _ris_name(name: str) -> str:
    given, family = split_name(name)
    return f"{family}, {given}" if given else family


def _csl_name(name: str) -> dict[str, str]:
    given, family = split_name(name)
    return {"family": family, "given": given} if given else {"literal": family}


def _key(card: Card, taken: set[str]) -> str:
    """A citation key like ``lecun2015deep``, made unique within the export."""
    family = split_name(card.authors[0])[1] if card.authors else "anon"
    ascii_family = unicodedata.normalize("NFKD", family).encode("ascii", "ignore").decode()
    word = next(
        (w for w in re.findall(r"[A-Za-z]{4,}", card.title) if w.lower() not in _DULL), "paper"
    )
    year = str(card.published.year) if card.published else ""
    base = (re.sub(r"[^a-z]", "", ascii_family.lower()) or "anon") + year + word.lower()
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base}{n}"
    taken.add(key)
    return key


_DULL = {"with", "from", "into", "that", "this", "towards", "toward", "when", "what", "over"}
