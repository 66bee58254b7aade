"""Importing files into the store, on SQLite and PostgreSQL: counts, idempotence, bad input."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from paperfeed.ingest import ingest_file
from paperfeed.models import Paper, PaperAuthor
from paperfeed.sources.record import BadRecord, RecordNote
from tests.conftest import FIXTURES

SNAPSHOT = FIXTURES / "arxiv-snapshot-sample.jsonl"
LISTINGS = FIXTURES / "arxiv-more-1-head300.jsonl"


def paper_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Paper)) or 0


def real_lines(path: Path, count: int) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()[:count]]


def write_lines(path: Path, lines: list[bytes | str | dict[str, object]]) -> Path:
    with path.open("wb") as out:
        for line in lines:
            if isinstance(line, dict):
                line = json.dumps(line)
            out.write((line.encode() if isinstance(line, str) else line) + b"\n")
    return path


def test_snapshot_import_then_reimport_changes_nothing(engine: Engine) -> None:
    first = ingest_file(engine, "arxiv-snapshot", SNAPSHOT)
    assert (first.state.new, first.state.updated, first.state.bad) == (200, 0, 0)
    with engine.connect() as conn:
        cursor_before = conn.execute(select(func.max(Paper.updated_at))).scalar()

    again = ingest_file(engine, "arxiv-snapshot", SNAPSHOT)

    assert (again.state.new, again.state.updated, again.state.unchanged) == (0, 0, 200)
    assert paper_count(engine) == 200
    with engine.connect() as conn:
        assert conn.execute(select(func.max(Paper.updated_at))).scalar() == cursor_before


def test_snapshot_fields_are_stored(engine: Engine) -> None:
    ingest_file(engine, "arxiv-snapshot", SNAPSHOT)
    with Session(engine) as session:
        paper = session.get_one(Paper, "0704.0001")
        assert paper.title == (
            "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
        )
        assert paper.authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C. -P. Yuan"]
        assert paper.version == 2
        assert str(paper.published) == "2007-04-02"
        assert str(paper.updated) == "2007-07-24"
        assert paper.doi == "10.1103/PhysRevD.76.013009"
        assert paper.journal_ref == "Phys.Rev.D76:013009,2007"
        assert paper.categories == ["hep-ph"]
        assert paper.pdf_url == "https://arxiv.org/pdf/0704.0001"
        assert paper.abstract.startswith("A fully differential calculation in perturbative")


def test_listing_records_keep_their_listing_day_and_code_link(engine: Engine) -> None:
    report = ingest_file(engine, "arxiv-snapshot", LISTINGS)
    assert report.state.bad == 0
    with Session(engine) as session:
        paper = session.get_one(Paper, "1904.11093")
        assert str(paper.listed_on) == "2025-10-13"
        assert paper.published == paper.listed_on
        assert paper.code_url == "https://github.com/mahdiabavisani/DSRC"
        assert paper.categories == ["cs.CV", "cs.AI", "cs.LG", "stat.ML"]
        assert paper.primary_category == "cs.CV"


def test_changed_record_is_updated_and_moves_the_change_cursor(
    engine: Engine, tmp_path: Path
) -> None:
    records = real_lines(SNAPSHOT, 3)
    ingest_file(engine, "arxiv-snapshot", write_lines(tmp_path / "a.jsonl", records))
    with engine.connect() as conn:
        before = conn.execute(select(Paper.updated_at).where(Paper.id == "0704.0002")).scalar_one()
    records[1]["title"] = "Sparsity-certifying Graph Decompositions (revised)"
    records[1]["authors_parsed"] = [["Streinu", "Ileana", ""]]

    report = ingest_file(engine, "arxiv-snapshot", write_lines(tmp_path / "b.jsonl", records))

    assert (report.state.new, report.state.updated, report.state.unchanged) == (0, 1, 2)
    with Session(engine) as session:
        paper = session.get_one(Paper, "0704.0002")
        assert paper.title.endswith("(revised)")
        assert paper.authors == ["Ileana Streinu"]
        assert paper.updated_at > before
        assert (
            session.scalar(
                select(func.count())
                .select_from(PaperAuthor)
                .where(PaperAuthor.paper_id == "0704.0002")
            )
            == 1
        )


def test_a_thinner_source_does_not_erase_what_another_stored(
    engine: Engine, tmp_path: Path
) -> None:
    ingest_file(engine, "arxiv-snapshot", SNAPSHOT)
    thin = {
        "id": "0704.0001",
        "title": "Calculation of prompt diphoton production",
        "organization": "ANL",
    }
    ingest_file(engine, "jsonl", write_lines(tmp_path / "thin.jsonl", [thin]))
    again = ingest_file(engine, "arxiv-snapshot", SNAPSHOT)

    assert again.state.unchanged == 200  # each source is compared with what it said itself
    with Session(engine) as session:
        paper = session.get_one(Paper, "0704.0001")
        assert paper.doi == "10.1103/PhysRevD.76.013009"
        assert len(paper.authors) == 4
        assert paper.organization is not None and paper.organization.name == "ANL"


def test_gzip_file_is_read(engine: Engine, tmp_path: Path) -> None:
    packed = tmp_path / "sample.jsonl.gz"
    with SNAPSHOT.open("rb") as plain, gzip.open(packed, "wb") as out:
        shutil.copyfileobj(plain, out)
    assert ingest_file(engine, "arxiv-snapshot", packed).state.new == 200


def test_bad_lines_are_reported_with_line_numbers_and_skipped(
    engine: Engine, tmp_path: Path
) -> None:
    good = real_lines(SNAPSHOT, 6)
    missing_title = dict(good[1], title="   ")
    wrong_types = dict(good[2], categories=["hep-ph"], authors_parsed="Streinu")
    huge_abstract = dict(good[3], abstract="x" * 10_000_000)
    truncated = json.dumps(good[4])[:150]
    invalid_utf8 = json.dumps(good[5]).encode().replace(b'"title": "', b'"title": "\xff\xfe', 1)
    lines = [
        good[0],
        missing_title,
        wrong_types,
        huge_abstract,
        truncated,
        invalid_utf8,
        b"[1, 2]",
        "",
        good[5],
    ]
    bad: list[BadRecord] = []

    report = ingest_file(
        engine, "arxiv-snapshot", write_lines(tmp_path / "bad.jsonl", lines), on_bad=bad.append
    )

    assert report.state.new == 3 and paper_count(engine) == 3
    reasons = {record.line: record.reason for record in bad}
    assert reasons == {
        2: "missing title",
        3: "categories must be a string, not a list",
        5: "truncated JSON (the line ends before the object does)",
        6: "not valid UTF-8",
        7: "not a JSON object",
    }
    assert report.state.bad == 5
    # A field's length never refuses a record: the huge abstract is cut, and the cut counted.
    assert report.cut == 1
    with Session(engine) as session:
        assert len(session.get_one(Paper, str(good[3]["id"])).abstract) == 100_000


def test_generic_jsonl_wrong_types_and_bad_ids(engine: Engine, tmp_path: Path) -> None:
    lines: list[bytes | str | dict[str, object]] = [
        {
            "id": "2401.00001",
            "title": "Good",
            "authors": ["A. One", "B. Two"],
            "published": "2024-01-01",
        },
        {"id": 2401.00002, "title": "Number id"},
        {"id": "2401.00003", "title": "Authors as text", "authors": "A. One, B. Two"},
        {"id": "2401.00004", "title": "Bad date", "published": "yesterday"},
        {"id": "my-paper", "title": "No source prefix"},
        {"id": "mylab:tr-17", "title": "Other source", "categories": ["cs.LG"]},
        {"title": "No id at all"},
    ]
    bad: list[BadRecord] = []
    report = ingest_file(
        engine, "jsonl", write_lines(tmp_path / "g.jsonl", lines), on_bad=bad.append
    )

    assert report.state.new == 2
    assert [(b.line, b.reason.split(";")[0]) for b in bad] == [
        (2, "id must be a string, not a number"),
        (3, "authors must be a list of strings, not a string"),
        (4, "published must be a date written YYYY-MM-DD, not 'yesterday'"),
        (5, "id 'my-paper' is not an arXiv id"),
        (7, "missing id"),
    ]


def test_duplicate_ids_in_one_file_keep_the_later_line(engine: Engine, tmp_path: Path) -> None:
    first, second = real_lines(SNAPSHOT, 2)
    later = dict(first, title="A later title for the same paper", id="arXiv:0704.0001v3")
    lines: list[bytes | str | dict[str, object]] = [first, second, later]

    report = ingest_file(
        engine, "arxiv-snapshot", write_lines(tmp_path / "dup.jsonl", lines), batch_size=2
    )

    assert report.duplicates == 1
    assert paper_count(engine) == 2
    with Session(engine) as session:
        assert session.get_one(Paper, "0704.0001").title == "A later title for the same paper"


def test_empty_file_reads_nothing(engine: Engine, tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    report = ingest_file(engine, "jsonl", empty)
    assert report.readable == 0 and report.state.bad == 0 and paper_count(engine) == 0


def test_missing_file_raises_a_clear_error(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file"):
        ingest_file(engine, "jsonl", tmp_path / "nope.jsonl")


LONG_AUTHOR_RECORD = FIXTURES / "arxiv-2506.02197.jsonl"


def test_a_real_record_with_a_512_character_author_name_is_stored_whole(engine: Engine) -> None:
    report = ingest_file(engine, "arxiv-snapshot", LONG_AUTHOR_RECORD)

    assert (report.state.new, report.state.bad, report.cut) == (1, 0, 0)
    with Session(engine) as session:
        names = session.get_one(Paper, "2506.02197").authors
    longest = max(names, key=len)
    assert len(longest) == 512
    assert longest.startswith("Xiangyu Kongand Xiaoxia Xingand")


def test_a_name_too_long_for_an_index_is_cut_and_noted_not_refused(
    engine: Engine, tmp_path: Path
) -> None:
    (record,) = real_lines(LONG_AUTHOR_RECORD, 1)
    record["authors"] = str(record["authors"]).replace("Xiangyu Kongand", "Xiangyu Kongand" * 200)
    notes: list[RecordNote] = []

    report = ingest_file(
        engine,
        "arxiv-snapshot",
        write_lines(tmp_path / "longer.jsonl", [record]),
        on_note=notes.append,
    )

    assert (report.state.new, report.state.bad, report.cut) == (1, 0, 1)
    assert [(n.line, n.record_id) for n in notes] == [(1, "2506.02197")]
    assert notes[0].note == "author 4 name cut from 3,497 to 2,000 characters (3,497 bytes)"
    with Session(engine) as session:
        assert max(len(name) for name in session.get_one(Paper, "2506.02197").authors) == 2_000
