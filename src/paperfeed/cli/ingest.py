"""``paperfeed ingest SOURCE FILE``: import a file with a progress bar, a report and a summary."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from paperfeed.cli.app import app, console, errors, fail, open_store, settings_of
from paperfeed.config import Settings
from paperfeed.ingest import IngestReport, ingest_file
from paperfeed.ingest_daily import DailyImportReport, ingest_daily_papers
from paperfeed.sources import arxiv_snapshot, jsonl
from paperfeed.sources.record import BadRecord, RecordNote
from paperfeed.store.merges import Refusal

ingest_app = typer.Typer(
    help="Import papers from a file.", no_args_is_help=True, rich_markup_mode="markdown"
)
app.add_typer(ingest_app, name="ingest")

FileArg = Annotated[Path, typer.Argument(help="The file to import (.gz is read as gzip).")]
ResumeOpt = Annotated[
    bool, typer.Option("--resume", help="Continue the last unfinished import of this file.")
]
SHOWN_BAD_LINES = 10


@ingest_app.command("jsonl")
def ingest_jsonl(ctx: typer.Context, file: FileArg, resume: ResumeOpt = False) -> None:
    """Our generic JSONL format: {"id", "title", "abstract", "authors", "categories", "published", ...}."""
    run_import(settings_of(ctx), jsonl.NAME, file, resume)


@ingest_app.command("arxiv-snapshot")
def ingest_arxiv_snapshot(ctx: typer.Context, file: FileArg, resume: ResumeOpt = False) -> None:
    """The arXiv metadata snapshot (Kaggle arxiv-metadata-oai-snapshot.json), plain or .gz."""
    run_import(settings_of(ctx), arxiv_snapshot.NAME, file, resume)


def run_import(settings: Settings, source: str, file: Path, resume: bool) -> IngestReport:
    """Import one file, showing progress; exit non-zero only if nothing at all could be read."""
    if not file.is_file():
        fail(f"{file}: no such file")
    engine = open_store(settings)
    bad_lines = BadLineReport(settings.reports_dir, file)
    with _progress() as progress:
        task = progress.add_task(file.name, total=file.stat().st_size, papers="")

        def show(done: int, total: int, report: IngestReport) -> None:
            rate = report.papers_this_attempt / report.seconds if report.seconds else 0.0
            progress.update(
                task,
                completed=done,
                total=total,
                papers=f"{report.readable:,} papers · {rate:,.0f}/s",
            )

        try:
            report = ingest_file(
                engine,
                source,
                file,
                resume=resume,
                on_progress=show,
                on_bad=bad_lines.add,
                on_note=bad_lines.add_note,
            )
        finally:
            bad_lines.close()
    _print_summary(report, bad_lines)
    if report.readable == 0 and not report.resumed:
        fail(
            f"{file}: nothing could be read"
            + (" (the file is empty)" if report.state.bad == 0 else "")
        )
    return report


class BadLineReport:
    """Prints the first bad (skipped) and cut (stored, a field shortened) lines as they come and
    writes all of them to a report file."""

    def __init__(self, folder: Path, file: Path) -> None:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        self.path = folder / f"ingest-{stamp}-{file.name}.bad.tsv"
        self.count = 0
        self.cut = 0
        self._out: TextIO | None = None

    def add(self, bad: BadRecord) -> None:
        self.count += 1
        self._report("skipped", self.count, bad.line, bad.record_id, bad.reason)

    def add_note(self, note: RecordNote) -> None:
        self.cut += 1
        self._report("stored, cut", self.cut, note.line, note.record_id, note.note)

    def _report(self, what: str, nth: int, line: int, record_id: str | None, why: str) -> None:
        if nth <= SHOWN_BAD_LINES:
            shown_id = f" ({record_id})" if record_id else ""
            errors.print(f"[yellow]{what}[/] line {line}{shown_id}: {why}", highlight=False)
        if self._out is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._out = self.path.open("w", encoding="utf-8")
            self._out.write("line\tid\toutcome\treason\n")
        self._out.write(f"{line}\t{record_id or ''}\t{what}\t{why}\n")

    def close(self) -> None:
        if self._out is not None:
            self._out.close()


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[papers]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=not console.is_terminal,
    )


def _print_summary(report: IngestReport, bad_lines: BadLineReport) -> None:
    state = report.state
    rate = report.papers_this_attempt / report.seconds if report.seconds else 0.0
    if report.resumed:
        console.print(f"Resumed run {state.id} after line {report.resumed_from_line:,}.")
    console.print(
        f"[bold]{report.path.name}[/]: {state.new:,} new, {state.updated:,} updated, "
        f"{state.unchanged:,} unchanged, {state.bad:,} bad"
        + (
            f", {report.duplicates:,} duplicate ids (the later line kept)"
            if report.duplicates
            else ""
        )
        + (f", {report.cut:,} stored with a field cut to fit" if report.cut else "")
        + merge_counts(report.merged, report.kept_apart)
        + f" — {report.papers_this_attempt:,} papers in {report.seconds:.1f} s ({rate:,.0f}/s)",
        highlight=False,
    )
    print_kept_apart(report.kept_apart)
    if bad_lines.count > SHOWN_BAD_LINES:
        console.print(f"… and {bad_lines.count - SHOWN_BAD_LINES:,} more bad lines.")
    if bad_lines.count or bad_lines.cut:
        console.print(f"Every skipped or cut line, with its reason: {bad_lines.path}")


@ingest_app.command("daily-papers")
def ingest_daily(ctx: typer.Context, file: FileArg) -> None:
    """A saved Daily Papers API response (JSON array): papers, featured days, upvotes, submitters."""
    settings = settings_of(ctx)
    import_daily(settings, file)


def import_daily(settings: Settings, file: Path) -> DailyImportReport:
    if not file.is_file():
        fail(f"{file}: no such file")
    engine = open_store(settings)
    try:
        report = ingest_daily_papers(engine, file)
    except ValueError as error:
        fail(str(error))
    for bad in report.bad[:SHOWN_BAD_LINES]:
        errors.print(
            f"skipped entry {bad.line}{f' ({bad.record_id})' if bad.record_id else ''}: {bad.reason}",
            highlight=False,
        )
    days = ", ".join(day.isoformat() for day in sorted(report.days)) or "none"
    console.print(
        f"{file.name}: {report.papers.new:,} new, {report.papers.updated:,} updated, "
        f"{report.papers.unchanged:,} unchanged papers"
        f"{merge_counts(report.papers.merged, report.papers.kept_apart)}; {report.featured:,} featured, "
        f"{report.already:,} already featured, {report.moved:,} moved (days: {days}); "
        f"{len(report.bad):,} bad entries."
    )
    print_kept_apart(report.papers.kept_apart)
    if not report.days and report.bad:
        fail(f"{file}: no entry could be read")
    return report


def merge_counts(merged: int, kept_apart: list[Refusal]) -> str:
    """The summary's words for merging: papers merged into their arXiv paper, and same-title
    pairs the evidence kept apart (nothing when neither happened)."""
    said = ""
    if merged:
        said = f", {merged:,} merged into {'its' if merged == 1 else 'their'} arXiv paper"
    if kept_apart:
        pairs = "pair" if len(kept_apart) == 1 else "pairs"
        said += f", {len(kept_apart):,} same-title {pairs} not merged (the records disagree)"
    return said


def print_kept_apart(kept_apart: list[Refusal]) -> None:
    """Each same-title pair left apart, and why (the first :data:`SHOWN_BAD_LINES`)."""
    for refusal in kept_apart[:SHOWN_BAD_LINES]:
        console.print(
            f"not merged: {refusal.old_id} and {refusal.arxiv_id} share a title, but "
            f"{refusal.reason}",
            highlight=False,
        )
    if len(kept_apart) > SHOWN_BAD_LINES:
        console.print(f"… and {len(kept_apart) - SHOWN_BAD_LINES:,} more pairs not merged.")
