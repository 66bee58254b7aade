"""``paperfeed index`` and ``paperfeed search``: build the search indexes, and query them."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from paperfeed.cli.app import app, console, fail, open_store, settings_of
from paperfeed.config import Settings
from paperfeed.search import indexer
from paperfeed.search.check import SHOWN, pending_in_words
from paperfeed.search.check import check as compare
from paperfeed.search.embedder import (
    Embedder,
    ModelName,
    UnknownModel,
    load_model,
    model_named,
)
from paperfeed.search.hybrid import (
    MODES,
    IndexMissing,
    Mode,
    PaperSearch,
    SearchHit,
    SearchResults,
)
from paperfeed.search.indexer import VectorModel
from paperfeed.search.model_files import ModelMissing
from paperfeed.search.query import parse_query
from paperfeed.wording import count

EMPTY_QUERY = (
    'the query is empty: give some words to search for, e.g. paperfeed search "diffusion policy"'
)


def configured_model(settings: Settings) -> ModelName:
    """The configured model's name and size (``--model``, ``PAPERFEED_EMBEDDING_MODEL``)."""
    try:
        return model_named(settings.embedding_model)
    except UnknownModel as error:
        fail(str(error))


def load_embedder(settings: Settings, name: str | None = None) -> Embedder:
    """The configured model, or the one called ``name`` (the bundled one is exported to ONNX
    in the data directory on first use)."""
    try:
        with console.status("Loading the embedding model (the first time: exporting it to ONNX)…"):
            return load_model(name or settings.embedding_model, settings.home / "models")
    except (ModelMissing, UnknownModel) as error:
        fail(str(error))


def _embedder_if_any(settings: Settings, name: str | None = None) -> Embedder | None:
    """The model when it can be loaded; keyword search works without it (words alone decide)."""
    try:
        return load_model(name or settings.embedding_model, settings.home / "models")
    except (ModelMissing, UnknownModel):
        return None


@app.command()
def index(
    ctx: typer.Context,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Build new indexes from scratch and switch to them.")
    ] = False,
    embed: Annotated[
        bool,
        typer.Option(
            "--embed/--no-embed",
            help="First embed the papers the store lacks vectors for (--no-embed: only read the "
            "vectors workers stored; the model is never loaded).",
        ),
    ] = True,
) -> None:
    """Bring the keyword and vector indexes up to date with the store (new and changed papers)."""
    settings = settings_of(ctx)
    engine = open_store(settings)
    embedder: VectorModel = load_embedder(settings) if embed else configured_model(settings)
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(),
        console=console, transient=not console.is_terminal,
    ) as progress:  # fmt: skip
        tasks: dict[str, TaskID] = {}

        def show(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total, rate="")
            task = progress.tasks[tasks[stage]]
            rate = done / task.elapsed if task.elapsed else 0.0
            progress.update(
                tasks[stage], completed=done, total=max(total, done), rate=f"{rate:,.0f} papers/s"
            )

        build = indexer.rebuild if rebuild else indexer.update
        try:
            report = build(engine, settings.home, embedder, show, embed=embed)
        except (OSError, ValueError, RuntimeError) as error:  # a full disk, a damaged index
            # tantivy sometimes reports only that its writer thread died: say what the disk has
            free = shutil.disk_usage(indexer.search_root(settings.home)).free
            fail(
                f"writing the search index failed ({error}); the disk holding it has "
                f"{free / 2**20:,.1f} MiB free. The previous index is untouched and still serves; "
                "free some space (or repair the disk) and run the command again."
            )
    if report.deleted_papers:
        console.print(f"Removed {count(report.deleted_papers, 'deleted paper')} from the indexes.")
    if report.switched:
        console.print(
            f"Switched the index from {report.switching_from}'s vectors to {embedder.name}'s."
        )
    elif report.switching_from:
        console.print(
            f"The index keeps searching {report.switching_from}'s vectors until every paper has "
            f"one by {embedder.name}: {count(report.switch_waiting, 'paper')} still lack one "
            "(`paperfeed embed` workers make them)."
        )
    if report.embedded_papers:
        console.print(
            f"Embedded {count(report.embedded_papers, 'paper')} ({embedder.name}) into the store."
        )
    if report.keyword_papers == 0 and report.vector_papers == 0:
        console.print("The search index is up to date: no new or changed papers.")
        return
    console.print(
        f"Indexed {count(report.keyword_papers, 'paper')} for keyword search in {report.seconds_keyword:.1f} s "
        f"and {report.vector_papers:,} stored vectors ({embedder.name}) in "
        f"{report.seconds_vectors:.1f} s."
    )


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[
        str | None,
        typer.Argument(help='What to look for; author:, cat:, year: and "phrases" work.'),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000)] = 10,
    mode: Annotated[str, typer.Option("--mode", help="hybrid, keyword or semantic.")] = "hybrid",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    queries: Annotated[
        Path | None, typer.Option("--queries", help='Batch: a JSONL file of {"query_id", "text"}.')
    ] = None,
) -> None:
    """Search every paper in the store: by words, by meaning, or both (the default)."""
    if mode not in MODES:
        fail(f"--mode must be one of {', '.join(MODES)}, not {mode!r}")
    if (query is None) == (queries is None):
        fail("give a QUERY or --queries FILE (not both)")
    if query is not None and not parse_query(query).text and not parse_query(query).filters:
        fail(EMPTY_QUERY)
    settings = settings_of(ctx)
    # Keyword mode loads the model too: the relevance floor asks both sides whether the query
    # matches anything (see paperfeed.search.relevance).
    # The index's own model embeds the query: during a switch of models, the old one (see
    # docs/deploy.md), until the index is rebuilt from the new model's vectors.
    serving = indexer.serving_model_name(settings.home)
    embedder = (
        load_embedder(settings, serving)
        if mode != "keyword"
        else _embedder_if_any(settings, serving)
    )
    try:
        searcher = PaperSearch(settings.home, embedder)
    except IndexMissing as error:
        fail(str(error))
    if queries is not None:
        _batch(searcher, queries, limit, mode)
        return
    assert query is not None
    results = searcher.search(query, limit=limit, mode=mode)
    if as_json:
        sys.stdout.write(json.dumps(_as_json(results)) + "\n")
    else:
        _show(results)


def _batch(searcher: PaperSearch, path: Path, limit: int, mode: Mode) -> None:
    """Evaluation's format: one ``{"query_id", "results": [ids]}`` line per input line."""
    if not path.is_file():
        fail(f"{path}: no such file")
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            query_id, text = item["query_id"], item["text"]
        except (ValueError, KeyError, TypeError):
            fail(f'{path}:{number}: expected {{"query_id": ..., "text": ...}}')
        results = searcher.search(str(text), limit=limit, mode=mode, snippets=False)
        sys.stdout.write(
            json.dumps({"query_id": query_id, "results": [hit.id for hit in results.hits]}) + "\n"
        )


def _as_json(results: SearchResults) -> dict[str, object]:
    return {
        "query": results.query.text,
        "mode": results.mode,
        "notes": results.notes,
        "no_match": results.no_match,
        "results": [
            {"id": h.id, "score": round(h.score, 4), "title": h.title, "authors": list(h.authors),
             "categories": list(h.categories), "year": h.year, "snippet": h.snippet}
            for h in results.hits
        ],
    }  # fmt: skip


def _show(results: SearchResults) -> None:
    for note in results.notes:
        console.print(f"[yellow]{escape(note)}[/]")
    if not results.hits:
        console.print(
            "No papers match. Try a broader query: fewer or more general words, "
            "or drop a filter (author:, cat:, year:)."
        )
        return
    for rank, hit in enumerate(results.hits, start=1):
        authors = ", ".join(hit.authors[:3]) + (
            f" + {len(hit.authors) - 3} more" if len(hit.authors) > 3 else ""
        )
        console.print(f"[bold]{rank:>2}. {escape(hit.title)}[/]  [dim]{escape(hit_facts(hit))}[/]")
        if authors:
            console.print(f"    {escape(authors)}")
        if hit.snippet:
            console.print("    " + _highlighted(hit.snippet))


def hit_facts(hit: SearchHit) -> str:
    """Id, year and categories joined by dots, leaving out what a paper lacks (no dangling
    "· 2023 ·" for a paper without categories)."""
    parts = (hit.id, str(hit.year) if hit.year else "", " ".join(hit.categories))
    return " · ".join(part for part in parts if part)


def _highlighted(snippet_html: str) -> str:
    """tantivy's HTML snippet (escaped text, <b> around matches) as Rich markup."""
    import html

    parts = snippet_html.replace("</b>", "<b>").split("<b>")
    return "".join(
        f"[bold yellow]{escape(html.unescape(p))}[/]" if i % 2 else escape(html.unescape(p))
        for i, p in enumerate(parts)
    )


@app.command()
def check(ctx: typer.Context) -> None:
    """Compare the search index with the store: papers missing from it, or in it but no longer
    in the store. Exits 1 if they differ (`paperfeed index --rebuild` repairs it)."""
    settings = settings_of(ctx)
    engine = open_store(settings)
    report = compare(engine, settings.home, configured_model(settings).dimensions)
    from paperfeed.cli.vectors import show_vector_status  # (it imports this module)

    show_vector_status(engine, settings.embedding_model)
    if report.no_index:
        fail(f"the store holds {count(report.papers, 'paper')} and there is no search index "
             "yet: run `paperfeed index`")  # fmt: skip
    console.print(f"Store: {count(report.papers, 'paper')}. {pending_in_words(report)}")
    for problem in report.problems:
        console.print(f"[red]{problem}[/]")
    for what, ids in (
        ("missing from the keyword index", report.missing_keyword),
        ("in the keyword index but not in the store", report.extra_keyword),
        ("without a vector", report.missing_vectors),
    ):
        if ids:
            shown = ", ".join(ids[:SHOWN]) + (" …" if len(ids) > SHOWN else "")
            console.print(f"[red]{count(len(ids), 'paper')} {what}[/]: {shown}")
    if report.extra_vectors:
        console.print(f"[red]{report.extra_vectors:,} vectors of papers not in the store[/]")
    if not report.consistent:
        fail("the search index differs from the store: run `paperfeed index --rebuild`")
    if report.pending:
        console.print("The search index matches the store so far; `paperfeed index` catches up.")
        return
    console.print("The search index matches the store.")
