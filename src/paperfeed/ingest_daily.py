"""Import a saved Daily Papers API response: the papers, then their place on the feed.

The papers go through the same normalisation and upsert as every other import; each entry then
features its paper on the day the public site featured it, with the submitter, and raises the
upvote and comment counters to the recorded ones. Re-importing the same file changes nothing.
An entry whose paper was merged into its arXiv record (by this import or an earlier one:
:mod:`paperfeed.store.merges`) features the arXiv paper its old id now redirects to.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from paperfeed.normalize import InvalidRecord, normalise
from paperfeed.sources import daily_papers
from paperfeed.sources.record import BadRecord
from paperfeed.store.engine import write_transaction
from paperfeed.store.feed import feature, raise_counts
from paperfeed.store.merges import lock_paper
from paperfeed.store.papers import UpsertCounts, upsert_papers


@dataclass(slots=True)
class DailyImportReport:
    papers: UpsertCounts = field(default_factory=UpsertCounts)
    featured: int = 0
    already: int = 0
    moved: int = 0
    days: set[dt.date] = field(default_factory=set)
    bad: list[BadRecord] = field(default_factory=list)


def ingest_daily_papers(engine: Engine, path: Path) -> DailyImportReport:
    """Import every readable entry of ``path`` in one transaction (a response is small)."""
    return import_entries(engine, daily_papers.read(path))


def import_entries(
    engine: Engine, items: Iterable[daily_papers.DailyEntry | BadRecord]
) -> DailyImportReport:
    """Store the papers of ``items`` and feature each on its day (what the file import and the
    sync of the public site's API share)."""
    report = DailyImportReport()
    entries = []
    for item in items:
        if isinstance(item, BadRecord):
            report.bad.append(item)
            continue
        try:
            item.record = normalise(item.record)
        except InvalidRecord as error:
            report.bad.append(BadRecord(item.record.line, str(error), item.record.id))
            continue
        entries.append(item)
    now = dt.datetime.now(dt.UTC)
    unique = list({entry.record.id: entry for entry in entries}.values())
    with write_transaction(engine) as conn:
        report.papers = upsert_papers(conn, [e.record for e in unique], daily_papers.NAME, now)
        for entry in unique:
            # The entry's paper, or the arXiv paper it was merged into (then its row is gone).
            paper_id = lock_paper(conn, entry.record.id)
            if paper_id is None:  # (every entry was just written or merged: not expected)
                report.bad.append(BadRecord(entry.record.line, "not stored", entry.record.id))
                continue
            done = feature(conn, paper_id, entry.day, now, entry.submitter, entry.submitter_name)
            setattr(report, done.outcome, getattr(report, done.outcome) + 1)
            report.days.add(entry.day)
            raise_counts(conn, paper_id, entry.upvotes, entry.num_comments)
    return report
