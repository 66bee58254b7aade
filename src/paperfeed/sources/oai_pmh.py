"""arXiv's OAI-PMH interface (``https://export.arxiv.org/oai2``): full and incremental harvests.

``ListRecords`` returns a page of records and a resumption token for the next page; the
harvester stores the token after each page it imported, so a killed harvest resumes from it.
Two metadata formats are read: ``arXiv`` (authors split into key names and forenames, created
and updated dates, DOI, journal reference) and ``arXivRaw`` (every version with its date, the
submitter). XML is parsed with defusedxml, which refuses entity-expansion bombs.

A record that cannot be read becomes a :class:`BadRecord` with its identifier; a page that is
not OAI-PMH XML at all (an HTML error page, a truncated body) raises :class:`OaiError`, and the
harvest stops there with its token kept, so the next run retries that page.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field

from defusedxml import ElementTree as SafeET

from paperfeed.sources.arxiv_snapshot import split_authors
from paperfeed.sources.fields import FieldError, rfc2822_date
from paperfeed.sources.http import PoliteClient
from paperfeed.sources.record import BadRecord, PaperRecord

NAME = "oai-pmh"
OAI = "{http://www.openarchives.org/OAI/2.0/}"
ARXIV = "{http://arxiv.org/OAI/arXiv/}"
ARXIV_RAW = "{http://arxiv.org/OAI/arXivRaw/}"
PREFIXES = ("arXiv", "arXivRaw")


class OaiError(RuntimeError):
    """The provider answered with an OAI error, or with something that is not OAI-PMH."""


@dataclass(slots=True)
class OaiPage:
    items: list[PaperRecord | BadRecord] = field(default_factory=list)
    token: str | None = None  # resumption token of the next page; None when this was the last
    response_date: dt.date | None = None
    complete_size: int | None = None
    deleted: list[str] = field(default_factory=list)  # ids the provider marks deleted


def parse_page(body: bytes) -> OaiPage:
    """One ListRecords (or GetRecord) response."""
    try:
        root = SafeET.fromstring(body)
    except ET.ParseError as error:
        raise OaiError(f"not OAI-PMH XML ({_describe(body)}): {error}") from None
    except Exception as error:  # defusedxml's refusals (entities, DTDs)
        raise OaiError(f"refused XML: {error}") from None
    if root.tag != f"{OAI}OAI-PMH":
        raise OaiError(f"not an OAI-PMH response ({_describe(body)})")
    page = OaiPage()
    if (stamp := root.findtext(f"{OAI}responseDate")) is not None:
        page.response_date = _date(stamp)
    if (problem := root.find(f"{OAI}error")) is not None:
        if problem.get("code") == "noRecordsMatch":
            return page  # nothing changed since the date asked for
        raise OaiError(f"OAI error {problem.get('code')}: {(problem.text or '').strip()}")
    for record in root.iter(f"{OAI}record"):
        header = record.find(f"{OAI}header")
        identifier = header.findtext(f"{OAI}identifier", "") if header is not None else ""
        paper_id = identifier.removeprefix("oai:arXiv.org:") or None
        if header is not None and header.get("status") == "deleted":
            if paper_id:
                page.deleted.append(paper_id)
            continue
        try:
            page.items.append(_record(record))
        except FieldError as error:
            page.items.append(BadRecord(0, str(error), paper_id))
    token = root.find(f".//{OAI}resumptionToken")
    if token is not None:
        page.token = (token.text or "").strip() or None
        size = token.get("completeListSize")
        page.complete_size = int(size) if size and size.isdigit() else None
    return page


def harvest(
    client: PoliteClient,
    base_url: str,
    *,
    metadata_prefix: str = "arXiv",
    set_spec: str | None = None,
    from_date: dt.date | None = None,
    token: str | None = None,
) -> Iterator[tuple[OaiPage, str | None]]:
    """Pages of a ListRecords harvest, each with the token that fetched it (None for the first).

    With ``token``, the harvest resumes from there (its other arguments are then ignored, as the
    protocol requires).
    """
    if metadata_prefix not in PREFIXES:
        raise ValueError(f"metadata_prefix must be one of {', '.join(PREFIXES)}")
    while True:
        if token:
            params: dict[str, str | int] = {"verb": "ListRecords", "resumptionToken": token}
        else:
            params = {"verb": "ListRecords", "metadataPrefix": metadata_prefix}
            if set_spec:
                params["set"] = set_spec
            if from_date:
                params["from"] = from_date.isoformat()
        page = parse_page(client.get(base_url, params).content)
        yield page, token
        if not page.token:
            return
        token = page.token


def get_record(
    client: PoliteClient, base_url: str, paper_id: str, prefix: str = "arXiv"
) -> OaiPage:
    """One paper by id (to retry a record that failed in an earlier harvest)."""
    params = {
        "verb": "GetRecord",
        "identifier": f"oai:arXiv.org:{paper_id}",
        "metadataPrefix": prefix,
    }
    return parse_page(client.get(base_url, params).content)


def _record(record: ET.Element) -> PaperRecord:
    metadata = record.find(f"{OAI}metadata")
    if metadata is None or len(metadata) == 0:
        raise FieldError("record without metadata")
    body = metadata[0]
    if body.tag == f"{ARXIV}arXiv":
        return _arxiv(body)
    if body.tag == f"{ARXIV_RAW}arXivRaw":
        return _arxiv_raw(body)
    raise FieldError(f"unknown metadata format {body.tag}")


def _arxiv(body: ET.Element) -> PaperRecord:
    def text(name: str) -> str | None:
        value = body.findtext(f"{ARXIV}{name}")
        return " ".join(value.split()) if value and value.strip() else None

    authors = []
    for author in body.iter(f"{ARXIV}author"):
        parts = [
            author.findtext(f"{ARXIV}forenames"),
            author.findtext(f"{ARXIV}keyname"),
            author.findtext(f"{ARXIV}suffix"),
        ]
        name = " ".join(p.strip() for p in parts if p and p.strip())
        if name:
            authors.append(name)
    created = _optional_date(text("created"))
    updated = _optional_date(text("updated"))
    return PaperRecord(
        id=_required(text("id"), "id"),
        title=_required(text("title"), "title"),
        abstract=(body.findtext(f"{ARXIV}abstract") or "").strip(),
        authors=authors,
        categories=(text("categories") or "").split(),
        published=created,
        updated=updated or created,
        doi=text("doi"),
        journal_ref=text("journal-ref"),
        comments=text("comments"),
    )


def _arxiv_raw(body: ET.Element) -> PaperRecord:
    def text(name: str) -> str | None:
        value = body.findtext(f"{ARXIV_RAW}{name}")
        return " ".join(value.split()) if value and value.strip() else None

    dates = [
        rfc2822_date(version.findtext(f"{ARXIV_RAW}date", ""))
        for version in body.iter(f"{ARXIV_RAW}version")
    ]
    written = text("authors")
    return PaperRecord(
        id=_required(text("id"), "id"),
        title=_required(text("title"), "title"),
        abstract=(body.findtext(f"{ARXIV_RAW}abstract") or "").strip(),
        authors=split_authors(written) if written else [],
        categories=(text("categories") or "").split(),
        version=len(dates) or None,
        published=dates[0] if dates else None,
        updated=dates[-1] if dates else None,
        doi=text("doi"),
        journal_ref=text("journal-ref"),
        comments=text("comments"),
        submitter=text("submitter"),
    )


def _required(value: str | None, name: str) -> str:
    if not value:
        raise FieldError(f"missing {name}")
    return value


def _optional_date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise FieldError(f"unreadable date {value[:40]!r}") from None


def _date(stamp: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(stamp.strip()[:10])
    except ValueError:
        return None


def _describe(body: bytes) -> str:
    head = body[:200].decode("utf-8", "replace").strip().lower()
    if head.startswith(("<!doctype html", "<html")):
        return "an HTML page"
    if not body.strip():
        return "an empty body"
    return f"{len(body):,} bytes starting {body[:40]!r}"
