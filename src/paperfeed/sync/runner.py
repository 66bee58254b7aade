"""``paperfeed sync``: run each configured source once, politely, resumably, and record it.

Every page a source fetches is imported in one transaction together with the source's state
(for OAI-PMH, the resumption token of the next page), so a run killed at any moment resumes
where the store says it stopped and nothing is imported twice. Records that cannot be read are
skipped, logged with their id, and kept in ``source_failures``; the next run tries them again.
A failure of the network or of the provider ends that source's run as "failed" (the others
still run) and the next run picks up from the last page imported.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Connection, Engine

from paperfeed.ingest_daily import import_entries
from paperfeed.normalize import InvalidRecord, normalise
from paperfeed.sources import arxiv_api, arxiv_rss, daily_papers, oai_pmh
from paperfeed.sources.http import FetchError, PoliteClient, Politeness
from paperfeed.sources.record import BadRecord, PaperRecord
from paperfeed.store.engine import write_transaction
from paperfeed.store.feed import PaperNotFound, feature
from paperfeed.store.merges import Refusal
from paperfeed.store.papers import upsert_papers
from paperfeed.store.sync_state import (
    RunCounts,
    State,
    finish_run,
    forget_failures,
    load_state,
    pending_failures,
    record_failures,
    save_state,
    start_run,
)
from paperfeed.sync.config import (
    ApiSource,
    DailyPapersSource,
    OaiSource,
    RssSource,
    Source,
    SyncConfig,
)

log = logging.getLogger("paperfeed.sync")
#: (source name, records handled so far, how many there are if known, what just happened)
Progress = Callable[[str, int, int | None, str], None]


class Note(Protocol):
    def __call__(self, message: str, total: int | None = None) -> None: ...


AUTO_FEATURE_BY = "auto-feature"


@dataclass(slots=True)
class SourceReport:
    name: str
    kind: str
    counts: RunCounts = field(default_factory=RunCounts)
    error: str | None = None
    skipped: list[BadRecord] = field(default_factory=list)
    merged: int = 0  # papers without an arXiv id merged into their arXiv paper
    kept_apart: list[Refusal] = field(default_factory=list)  # same title, evidence disagreed


class SourceFailed(RuntimeError):
    """A source could not finish this run (network, provider error); its state is kept."""


def run_sync(
    engine: Engine,
    config: SyncConfig,
    only: Sequence[str] = (),
    on_progress: Progress | None = None,
    today: dt.date | None = None,
) -> list[SourceReport]:
    """Run every configured source (or the ones named in ``only``) once, one after another."""
    politeness = Politeness(
        delay=config.delay_seconds, retries=config.retries, backoff=config.backoff_seconds,
        max_wait=config.max_retry_after_seconds, timeout=config.timeout_seconds,
    )  # fmt: skip
    reports = []
    for source in config.sources:
        if only and source.name not in only:
            continue
        report = SourceReport(source.name, source.kind)
        run_id = start_run(engine, source.name, source.kind, _now())
        with PoliteClient(politeness) as client:
            try:
                _run_source(engine, client, source, report, on_progress, today or _now().date())
            except (SourceFailed, FetchError, oai_pmh.OaiError, arxiv_api.ArxivApiError,
                    arxiv_rss.RssError, ValueError) as error:  # fmt: skip
                report.error = str(error)
                log.warning("sync %s failed: %s", source.name, error)
            finally:
                report.counts.requests = client.requests
        finish_run(engine, run_id, report.counts, _now(), report.error)
        reports.append(report)
    return reports


def _run_source(
    engine: Engine, client: PoliteClient, source: Source, report: SourceReport,
    on_progress: Progress | None, today: dt.date,
) -> None:  # fmt: skip
    def note(message: str, total: int | None = None) -> None:
        if on_progress:
            counts = report.counts
            done = counts.new + counts.updated + counts.unchanged + counts.bad
            on_progress(source.name, done, total, message)

    if isinstance(source, OaiSource):
        _oai(engine, client, source, report, note)
    elif isinstance(source, ApiSource):
        _api(engine, client, source, report, note)
    elif isinstance(source, RssSource):
        _rss(engine, client, source, report, note)
    else:
        _daily(engine, client, source, report, note, today)


def _oai(
    engine: Engine, client: PoliteClient, source: OaiSource, report: SourceReport,
    note: Note,
) -> None:  # fmt: skip
    _retry_oai_failures(engine, client, source, report)
    with engine.connect() as conn:
        state = load_state(conn, source.name)
    from_date = state.harvested_until or source.from_date
    token = state.resumption_token
    started = state.harvest_started if token else None
    restarted = False
    pages = oai_pmh.harvest(
        client, source.url, metadata_prefix=source.metadata_prefix, set_spec=source.set,
        from_date=from_date, token=token,
    )  # fmt: skip
    while True:
        try:
            page, used = next(pages)
        except StopIteration:
            break
        except oai_pmh.OaiError as error:
            if "badResumptionToken" in str(error) and token and not restarted:
                # Tokens expire: start this harvest again from its date (imports are idempotent).
                log.warning(
                    "%s: resumption token expired, harvesting again from %s", source.name, from_date
                )
                restarted, token, started = True, None, None
                pages = oai_pmh.harvest(
                    client, source.url, metadata_prefix=source.metadata_prefix,
                    set_spec=source.set, from_date=from_date,
                )  # fmt: skip
                continue
            raise
        if used is None:
            started = page.response_date
        next_state = State(
            harvested_until=state.harvested_until,
            resumption_token=page.token,
            harvest_started=started,
        )
        if not page.token:  # the last page: the next run harvests what changed since this one began
            next_state = State(harvested_until=started or state.harvested_until)
        _import_page(engine, page.items, report, _state_saver(source.name, next_state))
        note("records", page.complete_size)


def _state_saver(source: str, state: State) -> Callable[[Connection], None]:
    def save(conn: Connection) -> None:
        save_state(conn, source, state, _now())

    return save


def _retry_oai_failures(
    engine: Engine, client: PoliteClient, source: OaiSource, report: SourceReport
) -> None:
    with engine.connect() as conn:
        items = pending_failures(conn, source.name)
    for paper_id in items:
        try:
            page = oai_pmh.get_record(client, source.url, paper_id, source.metadata_prefix)
        except (FetchError, oai_pmh.OaiError) as error:
            log.warning("%s: retrying %s failed again: %s", source.name, paper_id, error)
            with write_transaction(engine) as conn:
                record_failures(conn, source.name, [(paper_id, str(error))], _now())
            continue
        _import_page(engine, page.items, report, None)


def _api(
    engine: Engine, client: PoliteClient, source: ApiSource, report: SourceReport,
    note: Note,
) -> None:  # fmt: skip
    with engine.connect() as conn:
        retry = pending_failures(conn, source.name)
    ids = list(dict.fromkeys([*source.ids, *retry]))
    if ids:
        items = list(arxiv_api.fetch_ids(client, ids, source.url))
        found = {item.id for item in items if isinstance(item, PaperRecord)}
        missing = [(i, "arXiv does not know this id") for i in source.ids if i not in found]
        _import_page(engine, items, report, None, extra_failures=missing)
        note("papers by id", len(ids))
    if source.search_query:
        batch: list[PaperRecord | BadRecord] = []
        for item in arxiv_api.search(client, source.search_query, source.max_results, source.url):
            batch.append(item)
            if len(batch) == 100:
                _import_page(engine, batch, report, None)
                note("papers", source.max_results)
                batch = []
        _import_page(engine, batch, report, None)


def _rss(
    engine: Engine, client: PoliteClient, source: RssSource, report: SourceReport,
    note: Note,
) -> None:  # fmt: skip
    day = arxiv_rss.parse_feed(client.get(source.url).content)
    wanted = set(source.auto_feature)
    chosen = [
        a.record.id for a in day.items
        if isinstance(a, arxiv_rss.Announcement) and a.announce_type == "new"
        and wanted.intersection(a.record.categories)
    ]  # fmt: skip

    def feature_new(conn: Connection) -> None:
        if day.day is None:
            return
        for paper_id in chosen:
            try:
                done = feature(conn, paper_id, day.day, _now(), AUTO_FEATURE_BY, None, move=False)
            except PaperNotFound:
                continue  # skipped as a bad record
            report.counts.featured += done.outcome == "featured"

    records = [a.record if isinstance(a, arxiv_rss.Announcement) else a for a in day.items]
    _import_page(engine, records, report, feature_new)
    note(f"announcements, {report.counts.featured:,} featured", len(records))


def _daily(
    engine: Engine, client: PoliteClient, source: DailyPapersSource, report: SourceReport,
    note: Note, today: dt.date,
) -> None:  # fmt: skip
    days = source.dates or [today - dt.timedelta(days=back) for back in range(source.days)]
    for day in days:
        body = client.get(source.url, {"date": day.isoformat()}).content
        done = import_entries(engine, daily_papers.parse(body, f"{source.url}?date={day}"))
        report.counts.new += done.papers.new
        report.counts.updated += done.papers.updated
        report.counts.unchanged += done.papers.unchanged
        report.merged += done.papers.merged
        report.kept_apart += done.papers.kept_apart
        report.counts.featured += done.featured
        report.counts.bad += len(done.bad)
        report.skipped += done.bad
        for bad in done.bad:
            log.warning(
                "%s: skipped %s: %s", source.name, bad.record_id or f"entry {bad.line}", bad.reason
            )
        note(f"entries (day {day})")


def _import_page(
    engine: Engine,
    items: Iterable[PaperRecord | BadRecord],
    report: SourceReport,
    also: Callable[[Connection], None] | None,
    extra_failures: Sequence[tuple[str, str]] = (),
) -> None:
    """Normalise and store one page's records, note its bad ones, and run ``also`` (saving the
    source's state) in the same transaction."""
    source = report.name
    records: dict[str, PaperRecord] = {}
    bad: list[BadRecord] = []
    for item in items:
        if isinstance(item, BadRecord):
            bad.append(item)
            continue
        try:
            record = normalise(item)
        except InvalidRecord as error:
            bad.append(BadRecord(item.line, str(error), item.id))
            continue
        records[record.id] = record
    failures = [(b.record_id, b.reason) for b in bad if b.record_id] + list(extra_failures)
    for item in bad:
        log.warning(
            "%s: skipped %s: %s", source, item.record_id or "a record without id", item.reason
        )
    with write_transaction(engine) as conn:
        # Content hashes are kept per kind of source (the column holds 40 characters).
        counts = upsert_papers(conn, list(records.values()), report.kind, _now())
        forget_failures(conn, source, list(records))
        record_failures(conn, source, failures, _now())
        if also is not None:
            also(conn)
    report.counts.new += counts.new
    report.counts.updated += counts.updated
    report.counts.unchanged += counts.unchanged
    report.merged += counts.merged
    report.kept_apart += counts.kept_apart
    report.counts.bad += len(bad) + len(extra_failures)
    report.skipped += bad


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
