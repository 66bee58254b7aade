"""A captured paper without an arXiv id merges into the arXiv record of the same title."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

import paperfeed
from paperfeed.ingest import ingest_file
from paperfeed.ingest_daily import ingest_daily_papers
from paperfeed.models import (
    Author,
    Comment,
    FeedEntry,
    ListItem,
    Paper,
    PaperAuthor,
    PaperDeletion,
    PaperRedirect,
    SavedPaper,
    Upvote,
)
from paperfeed.search import indexer
from paperfeed.search.embedder import HashingEmbedder
from paperfeed.search.hybrid import PaperSearch
from paperfeed.services import comments, library, votes
from paperfeed.services.accounts import Member, sign_up
from paperfeed.store.engine import write_transaction
from paperfeed.store.feed import feature
from paperfeed.store.merges import merged_into

NOW = dt.datetime(2026, 12, 7, 6, 0, tzinfo=dt.UTC)
SAMPLE = Path(paperfeed.__file__).parent / "data" / "sample"
NEW = "2504.06514"
OLD = "dailypapers:missing-premise-exacerbates-overthinking-are-reasoning-model"


def sample_line(name: str, paper_id: str) -> dict[str, Any]:
    """The bundled sample's real record of ``paper_id`` (a gzipped file is read as such)."""
    path = SAMPLE / name
    text = gzip.decompress(path.read_bytes()).decode() if name.endswith(".gz") else path.read_text()
    return next(r for r in map(json.loads, text.splitlines()) if r["id"] == paper_id)


# The paper as the captured search page shows it (4 authors, "Apr 8", 3 upvotes), under the
# id it would have had if the arXiv listings had not held it; and its real arXiv record.
CAPTURED = {**sample_line("daily-papers.jsonl", NEW), "id": OLD}
SNAPSHOT_LINE = sample_line("arxiv-sample.jsonl.gz", NEW)
ARXIV = {
    "id": NEW, "title": SNAPSHOT_LINE["title"], "abstract": SNAPSHOT_LINE["abstract"],
    "authors": SNAPSHOT_LINE["authors"].split(", "), "categories": ["cs.AI"],
}  # fmt: skip


def write_jsonl(path: Path, *records: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def snapshot(path: Path) -> Path:
    """The real snapshot line of the paper, gzipped as the sample is."""
    path.write_bytes(gzip.compress((json.dumps(SNAPSHOT_LINE) + "\n").encode()))
    return path


def member(engine: Engine, handle: str) -> Member:
    with write_transaction(engine) as conn:
        return sign_up(conn, f"{handle}@lab.org", handle, handle, "a long enough password", NOW)


def test_an_arxiv_import_takes_over_the_captured_paper(engine: Engine, tmp_path: Path) -> None:
    ingest_file(engine, "jsonl", write_jsonl(tmp_path / "capture.jsonl", CAPTURED))
    alice, bob = member(engine, "alice"), member(engine, "bob")
    with write_transaction(engine) as conn:
        votes.vote(conn, alice.id, OLD, NOW)
        votes.vote(conn, bob.id, OLD, NOW)
        comments.add(conn, alice, OLD, "Worth reading.", None, NOW)
        feature(conn, OLD, dt.date(2026, 12, 1), NOW, "alice", "Alice")
        library.save(conn, bob, OLD, NOW)
        token = library.create_list(conn, alice, "Reasoning", "public", NOW)
        info = library.own_list(conn, token, alice)
        assert info is not None
        library.add(conn, info, OLD, NOW)
    home = tmp_path / "home"
    indexer.update(engine, home, HashingEmbedder())
    # The snapshot's record of the paper, new from that source: the two become one.
    ingest_file(engine, "arxiv-snapshot", snapshot(tmp_path / "arxiv.jsonl.gz"))

    with engine.connect() as conn:
        assert conn.scalar(select(Paper.id).where(Paper.id == OLD)) is None
        new = conn.execute(select(Paper).where(Paper.id == NEW)).one()
        assert new.title == ARXIV["title"] and new.published is not None  # the arXiv record wins
        assert new.date_shown is None and new.num_authors is None
        assert new.upvotes == 3 + 2  # recorded on the capture + alice and bob
        assert new.num_comments == 1
        voters = conn.scalars(select(Upvote.user_id).where(Upvote.paper_id == NEW)).all()
        assert sorted(voters) == sorted([alice.id, bob.id])
        assert conn.scalar(select(Comment.paper_id)) == NEW
        assert conn.scalar(select(FeedEntry.day).where(FeedEntry.paper_id == NEW)) == dt.date(
            2026, 12, 1
        )
        assert conn.scalar(select(SavedPaper.paper_id)) == NEW
        assert conn.scalar(select(ListItem.paper_id)) == NEW
        assert merged_into(conn, OLD) == NEW
        assert conn.scalar(select(PaperDeletion.paper_id)) == OLD

    indexer.update(engine, home, HashingEmbedder())
    search = PaperSearch(home, HashingEmbedder())
    for mode in ("keyword", "semantic", "hybrid"):
        hits = [h.id for h in search.search("missing premise overthinking", mode=mode).hits]  # type: ignore[arg-type]
        assert OLD not in hits and NEW in hits

    # Importing the capture again does not bring the old paper back.
    report = ingest_file(engine, "jsonl", write_jsonl(tmp_path / "again.jsonl", {**CAPTURED, "abstract": "changed"}))  # fmt: skip
    assert (report.state.new, report.state.unchanged) == (0, 1)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Paper).where(Paper.id == OLD)) == 0


def test_a_capture_imported_after_its_arxiv_record_merges_into_it(
    engine: Engine, tmp_path: Path
) -> None:
    ingest_file(engine, "jsonl", write_jsonl(tmp_path / "arxiv.jsonl", ARXIV))
    bob = member(engine, "bob")
    with write_transaction(engine) as conn:
        votes.vote(conn, bob.id, NEW, NOW)

    ingest_file(engine, "jsonl", write_jsonl(tmp_path / "capture.jsonl", CAPTURED))

    with engine.connect() as conn:
        assert conn.scalar(select(Paper.id).where(Paper.id == OLD)) is None
        new = conn.execute(select(Paper).where(Paper.id == NEW)).one()
        assert new.title == ARXIV["title"]  # the arXiv record still wins
        assert new.upvotes == 3 + 1  # the capture's recorded 3 and bob's vote
        assert merged_into(conn, OLD) == NEW
        assert conn.scalar(select(PaperDeletion.paper_id)) == OLD
    # Importing the capture again does not bring the old paper back.
    ingest_file(engine, "jsonl", write_jsonl(tmp_path / "again.jsonl", {**CAPTURED, "abstract": "changed"}))  # fmt: skip
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Paper)) == 1


def import_at_once(engine: Engine, files: list[Path]) -> list[BaseException]:
    """Import each file on a thread of its own, all released at the same instant; what the
    imports raised."""
    errors: list[BaseException] = []
    start = threading.Barrier(len(files))

    def run(path: Path) -> None:
        start.wait()
        try:
            ingest_file(engine, "jsonl", path)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(path,)) for path in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_the_two_sides_imported_at_once_merge_once(engine: Engine, tmp_path: Path) -> None:
    """The arXiv record and the capture of one paper, imported in parallel (each side by two
    imports): whoever writes first, the pair ends merged, and no import fails (on PostgreSQL
    each waited for the other's row before the title keys were locked: a deadlock)."""
    sides = [ARXIV, CAPTURED, ARXIV, CAPTURED]
    files = [write_jsonl(tmp_path / f"side{n}.jsonl", record) for n, record in enumerate(sides)]
    assert import_at_once(engine, files) == []
    with engine.connect() as conn:
        assert conn.scalars(select(Paper.id)).all() == [NEW]
        assert merged_into(conn, OLD) == NEW
        assert conn.scalar(select(Paper.upvotes)) == 3


def test_a_title_shared_by_two_arxiv_records_merges_nothing(engine: Engine, tmp_path: Path) -> None:
    ingest_file(engine, "jsonl", write_jsonl(tmp_path / "capture.jsonl", CAPTURED))
    twin = {**ARXIV, "id": "2504.99999"}
    ingest_file(engine, "jsonl", write_jsonl(tmp_path / "arxiv.jsonl", ARXIV, twin))
    with engine.connect() as conn:
        assert conn.scalar(select(Paper.id).where(Paper.id == OLD)) == OLD


def test_a_capture_of_a_title_two_stored_arxiv_papers_share_merges_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    ingest_file(
        engine, "jsonl", write_jsonl(tmp_path / "twin.jsonl", {**ARXIV, "id": "2504.99999"})
    )
    ingest_file(engine, "jsonl", write_jsonl(tmp_path / "arxiv.jsonl", ARXIV))
    ingest_file(engine, "jsonl", write_jsonl(tmp_path / "capture.jsonl", CAPTURED))
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Paper)) == 3


def test_parallel_imports_of_the_record_merge_once(engine: Engine, tmp_path: Path) -> None:
    ingest_file(engine, "jsonl", write_jsonl(tmp_path / "capture.jsonl", CAPTURED))
    voters = [member(engine, f"voter{n}") for n in range(4)]
    with write_transaction(engine) as conn:
        for voter in voters:
            votes.vote(conn, voter.id, OLD, NOW)
    files = [write_jsonl(tmp_path / f"arxiv{n}.jsonl", ARXIV) for n in range(4)]
    assert import_at_once(engine, files) == []
    with engine.connect() as conn:
        assert conn.scalar(select(Paper.upvotes).where(Paper.id == NEW)) == 3 + len(voters)
        assert conn.scalar(select(func.count()).select_from(Upvote)) == len(voters)
        assert conn.scalar(select(func.count()).select_from(PaperRedirect)) == 1
        assert conn.scalar(select(func.count()).select_from(Paper)) == 1


# "Attention Is All You Need" as arXiv has it (1706.03762: eight authors, 2017-06-12), and
# records of the same title from elsewhere: the capture of a page, or a lab's own list.
ATTENTION = {
    "id": "1706.03762", "title": "Attention Is All You Need", "published": "2017-06-12",
    "authors": ["Ashish Vaswani", "Noam Shazeer", "Niki Parmar", "Jakob Uszkoreit",
                "Llion Jones", "Aidan N. Gomez", "Lukasz Kaiser", "Illia Polosukhin"],
}  # fmt: skip
OTHER = "capture:attention-is-all-you-need"


INITIALS = ["A. Vaswani", "N. Shazeer", "N. Parmar", "J. Uszkoreit", "L. Jones", "A. N. Gomez",
            "L. Kaiser", "I. Polosukhin"]  # fmt: skip
STRANGERS = ["Wen Li", "Hao Zhang", "Yi Chen", "Jun Wang", "Lei Liu", "Bo Yang", "Xin Wu", "Jie Xu"]


@pytest.mark.parametrize("arxiv_first", [True, False], ids=["arxiv-first", "other-first"])
@pytest.mark.parametrize(
    ("said", "merges", "reason"),
    [
        ({"num_authors": 8, "date_shown": "Jun 13"}, True, None),
        ({"num_authors": 8, "published": "2017-06-20"}, True, None),
        ({"num_authors": 8}, False, "nothing but the title"),  # a count is no positive evidence
        ({}, False, "nothing but the title"),
        ({"date_shown": "sometime"}, False, "nothing but the title"),  # unreadable: no evidence
        ({"authors": INITIALS}, True, None),
        ({"num_authors": 3, "date_shown": "Jun 13"}, False, "3 authors here, 8 on arXiv"),
        ({"num_authors": 8, "date_shown": "Mar 5"}, False, "dated Mar 5 here"),
        ({"published": "2021-03-05"}, False, "dated 2021-03-05 here"),
        ({"published": "2017-05-01"}, False, "dated 2017-05-01 here"),  # before arXiv had it
        ({"authors": STRANGERS}, False, "no author in common"),
    ],
)
def test_a_shared_title_merges_only_when_what_both_records_know_agrees(
    engine: Engine,
    tmp_path: Path,
    said: dict[str, Any],
    merges: bool,
    reason: str | None,
    arxiv_first: bool,
) -> None:
    other = {"id": OTHER, "title": "Attention is all you need!", **said}
    first, second = (ATTENTION, other) if arxiv_first else (other, ATTENTION)
    ingest_file(engine, "jsonl", write_jsonl(tmp_path / "first.jsonl", first))
    report = ingest_file(engine, "jsonl", write_jsonl(tmp_path / "second.jsonl", second))

    with engine.connect() as conn:
        ids = set(conn.scalars(select(Paper.id)))
        assert ids == ({ATTENTION["id"]} if merges else {ATTENTION["id"], OTHER})
        assert merged_into(conn, OTHER) == (ATTENTION["id"] if merges else None)
    assert report.state.new == 1
    # The import says what it did: merged, or kept apart and why.
    assert report.merged == (1 if merges else 0)
    if reason is None:
        assert report.kept_apart == []
    else:
        [refusal] = report.kept_apart
        assert (refusal.old_id, refusal.arxiv_id) == (OTHER, ATTENTION["id"])
        assert refusal.reason.startswith(reason)


# A Daily Papers entry (API shape) of a paper without an arXiv id, and that paper's arXiv record.
WIDGETS = {"id": "2401.00001", "title": "Scaling Laws for Neural Widgets",
           "authors": ["Ann Smith", "Bob Jones"], "published": "2024-01-02"}  # fmt: skip
WIDGETS_ENTRY = {
    "paper": {"id": "dailypapers:scaling-widgets", "title": "Scaling Laws for Neural Widgets",
              "authors": [{"name": "Ann Smith"}, {"name": "Bob Jones"}],
              "publishedAt": "2024-01-05T00:00:00Z", "submittedOnDailyAt": "2024-01-05T00:00:00Z",
              "upvotes": 42},
    "numComments": 3,
}  # fmt: skip


@pytest.mark.parametrize("arxiv_first", [True, False], ids=["arxiv-first", "daily-first"])
def test_a_daily_papers_entry_of_a_merged_paper_features_the_arxiv_paper(
    engine: Engine, tmp_path: Path, arxiv_first: bool
) -> None:
    """The entry's paper merges in the import that features it (arXiv record first), or was
    merged before and is skipped (then re-imported): either way the arXiv paper is featured
    and takes the entry's counts, and the import does not fail (PaperNotFound rolled it back)."""
    daily = tmp_path / "dp.json"
    daily.write_text(json.dumps([WIDGETS_ENTRY]))
    if arxiv_first:
        ingest_file(engine, "jsonl", write_jsonl(tmp_path / "arx.jsonl", WIDGETS))
    else:
        ingest_daily_papers(engine, daily)
        ingest_file(engine, "jsonl", write_jsonl(tmp_path / "arx.jsonl", WIDGETS))
    report = ingest_daily_papers(engine, daily)

    assert report.bad == []
    assert (report.featured, report.already) == ((1, 0) if arxiv_first else (0, 1))
    with engine.connect() as conn:
        assert conn.scalars(select(Paper.id)).all() == [WIDGETS["id"]]
        assert merged_into(conn, WIDGETS_ENTRY["paper"]["id"]) == WIDGETS["id"]  # type: ignore[index]
        featured = conn.execute(select(FeedEntry.paper_id, FeedEntry.day)).one()
        assert tuple(featured) == (WIDGETS["id"], dt.date(2024, 1, 5))
        paper = conn.execute(select(Paper.upvotes, Paper.num_comments)).one()
        assert tuple(paper) == (42, 3)


def test_a_crafted_record_with_a_matching_title_takes_no_count_over(
    engine: Engine, tmp_path: Path
) -> None:
    """A ``source:id`` line with the arXiv paper's title: with the title alone it stays apart;
    with a surname and a date that agree it merges, but the arXiv paper keeps the count its
    source recorded (42 from the Daily Papers entry), not the line's 999,999."""
    ingest_file(engine, "jsonl", write_jsonl(tmp_path / "arx.jsonl", WIDGETS))
    daily = tmp_path / "dp.json"
    daily.write_text(json.dumps([WIDGETS_ENTRY]))
    ingest_daily_papers(engine, daily)
    bare = {"id": "bare:x", "title": "Scaling laws for neural widgets", "upvotes": 500}
    report = ingest_file(engine, "jsonl", write_jsonl(tmp_path / "bare.jsonl", bare))
    assert report.merged == 0 and report.kept_apart[0].reason.startswith("nothing but the title")
    evil = {"id": "evil:x", "title": "scaling laws for neural widgets!",
            "authors": ["Zed Smith", "Q Q"], "published": "2024-01-03", "upvotes": 999999,
            "code_url": "https://evil.example/x", "organization": "Evil Corp"}  # fmt: skip
    report = ingest_file(engine, "jsonl", write_jsonl(tmp_path / "evil.jsonl", evil))
    assert report.merged == 1
    with engine.connect() as conn:
        assert merged_into(conn, "evil:x") == WIDGETS["id"]
        assert conn.scalar(select(Paper.upvotes).where(Paper.id == WIDGETS["id"])) == 42
        assert conn.scalar(select(Paper.num_comments).where(Paper.id == WIDGETS["id"])) == 3


def test_an_arxiv_record_without_a_date_is_dated_by_its_id(engine: Engine, tmp_path: Path) -> None:
    """The capture's "Apr 8" agrees with 2504.06514 (April 2025) and merges; the same capture
    of a title whose arXiv id says 2301 (January 2023) stays apart."""
    ingest_file(engine, "jsonl", write_jsonl(tmp_path / "capture.jsonl", CAPTURED))
    older = {**ARXIV, "id": "2301.00002"}
    report = ingest_file(engine, "jsonl", write_jsonl(tmp_path / "arxiv.jsonl", older))
    assert report.merged == 0
    assert (
        report.kept_apart[0].reason == "dated Apr 8 here, first submitted in January 2023 on arXiv"
    )


def test_a_merge_keeps_what_the_arxiv_record_lacks(engine: Engine, tmp_path: Path) -> None:
    """An arXiv record with the title but no abstract or authors merges the capture (which had
    them): the paper keeps the capture's abstract, authors and code link, and moves on the change
    cursor so the index takes its new text (it said "No abstract." after the merge)."""
    capture = {"id": "capture:widgets", "title": WIDGETS["title"], "abstract": "We scale widgets.",
               "authors": WIDGETS["authors"], "published": "2024-01-05",
               "code_url": "https://github.com/lab/widgets"}  # fmt: skip
    ingest_file(engine, "jsonl", write_jsonl(tmp_path / "capture.jsonl", capture))
    with engine.connect() as conn:
        before = conn.scalar(select(func.max(Paper.updated_at)))
    bare = {"id": WIDGETS["id"], "title": WIDGETS["title"], "published": "2024-01-02"}
    report = ingest_file(engine, "jsonl", write_jsonl(tmp_path / "arx.jsonl", bare))
    assert report.merged == 1
    with engine.connect() as conn:
        paper = conn.execute(select(Paper).where(Paper.id == WIDGETS["id"])).one()
        assert paper.abstract == "We scale widgets."
        assert paper.code_url == "https://github.com/lab/widgets"
        assert paper.published == dt.date(2024, 1, 2)  # the arXiv record's own date wins
        names = conn.scalars(
            select(Author.name)
            .join(PaperAuthor)
            .where(PaperAuthor.paper_id == WIDGETS["id"])
            .order_by(PaperAuthor.position)
        ).all()
        assert list(names) == WIDGETS["authors"]
        assert paper.updated_at > before
