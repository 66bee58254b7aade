"""``paperfeed sync`` against a real local HTTP server replaying recorded responses."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, select

from paperfeed.models import (
    Author,
    FeedEntry,
    Paper,
    PaperAuthor,
    PaperCategory,
    SourceFailure,
    SourceState,
)
from paperfeed.store.locks import job_lock
from paperfeed.sync.config import ConfigError, load_config
from paperfeed.sync.runner import run_sync
from tests.sources.replay import Replay, Reply
from tests.sync.conftest import (
    API_IDS,
    DAILY,
    OAI,
    PHYSICS_IDS,
    RAW_IDS,
    RSS_IDS,
    physics_pages,
    recorded,
    with_token,
    write_config,
)

ALL_IDS = PHYSICS_IDS | RAW_IDS | API_IDS | RSS_IDS


def paperfeed(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PAPERFEED_HOME": str(home), "COLUMNS": "250"}
    env.pop("PAPERFEED_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "paperfeed", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def store_contents(db: Path) -> dict[str, Any]:
    """Everything a sync writes, without the clock times (which differ between runs)."""
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        contents = {
            "papers": conn.execute(
                select(
                    Paper.id,
                    Paper.title,
                    Paper.abstract,
                    Paper.version,
                    Paper.published,
                    Paper.updated,
                    Paper.doi,
                    Paper.journal_ref,
                    Paper.comments,
                    Paper.upvotes,
                    Paper.num_comments,
                ).order_by(Paper.id)
            ).all(),
            "authors": conn.execute(
                select(PaperAuthor.paper_id, PaperAuthor.position, Author.name)
                .join(Author, Author.id == PaperAuthor.author_id)
                .order_by(PaperAuthor.paper_id, PaperAuthor.position)
            ).all(),
            "categories": conn.execute(
                select(PaperCategory).order_by(PaperCategory.paper_id, PaperCategory.category)
            ).all(),
            "featured": conn.execute(
                select(FeedEntry.paper_id, FeedEntry.day, FeedEntry.submitter).order_by(
                    FeedEntry.paper_id
                )
            ).all(),
            "states": conn.execute(
                select(
                    SourceState.source, SourceState.harvested_until, SourceState.resumption_token
                ).order_by(SourceState.source)
            ).all(),
            "failures": conn.execute(select(SourceFailure.source, SourceFailure.item)).all(),
        }
    engine.dispose()
    return contents


def test_a_fresh_sync_imports_every_recorded_record_and_a_second_one_nothing_new(
    tmp_path: Path, replay: Replay
) -> None:
    home = tmp_path / "home"
    write_config(home, replay.url)
    assert paperfeed(home, "init").returncode == 0
    first = paperfeed(home, "sync")
    assert first.returncode == 0, first.stdout + first.stderr
    assert (
        "physics (oai-pmh): 7 new, 0 updated, 0 unchanged, 0 skipped in 3 requests" in first.stdout
    )
    assert "raw (oai-pmh): 7 new" in first.stdout
    assert "by-id (arxiv-api): 2 new" in first.stdout
    assert (
        "new-ml (arxiv-rss): 4 new, 0 updated, 0 unchanged, 0 skipped, 2 featured" in first.stdout
    )
    assert "hub (daily-papers): 30 new" in first.stdout and "30 featured" in first.stdout

    contents = store_contents(home / "paperfeed.db")
    stored = {row.id for row in contents["papers"]}
    assert stored >= ALL_IDS and len(stored) == len(ALL_IDS) + 30
    featured = {(row.paper_id, row.day) for row in contents["featured"]}
    assert {("2609.26811", dt.date(2026, 9, 24)), ("2609.26820", dt.date(2026, 9, 24))} <= featured
    assert ("2205.06398", dt.date(2026, 9, 24)) not in featured  # a cross-list, not new
    engine = create_engine(f"sqlite:///{home / 'paperfeed.db'}")
    with engine.connect() as conn:
        places = dict(
            conn.execute(
                select(Author.name, PaperAuthor.affiliation)
                .join(PaperAuthor, PaperAuthor.author_id == Author.id)
                .where(PaperAuthor.paper_id == "astro-ph/0601001")
            ).all()
        )
    engine.dispose()
    assert "Ohio State" in places.values() and "CfA" in places.values()  # from the arXiv API
    states = {row.source: row for row in contents["states"]}
    assert states["physics"].harvested_until == dt.date(2017, 12, 14)  # the harvest's responseDate
    assert states["physics"].resumption_token is None

    second = paperfeed(home, "sync")
    assert second.returncode == 0
    for name in ("physics", "raw", "by-id", "new-ml", "hub"):
        assert f"{name} (" in second.stdout
    assert " 0 new, 0 updated" in second.stdout and "1 new" not in second.stdout
    assert "from=2017-12-14" in " ".join(replay.requests)  # incremental: from the last harvest

    status = paperfeed(home, "status")
    assert "Last syncs" in status.stdout and "physics" in status.stdout


def test_a_sync_says_what_it_merged_and_what_it_kept_apart(tmp_path: Path, replay: Replay) -> None:
    """A lab's copy of 1707.08567 (its title and the date the lab listed it) and a capture of a paper with the
    title of astro-ph/0601001 but 7 authors (the arXiv record has 4), stored before the sync."""
    home = tmp_path / "home"
    write_config(home, replay.url)
    assert paperfeed(home, "init").returncode == 0
    copies = [
        {"id": "mylab:aew10", "published": "2017-08-01", "title": "Proceedings of Workshop AEW10: Concepts in Information Theory and Communications"},
        {"id": "capture:hot-jupiters", "num_authors": 7, "title": "Frequency of Hot Jupiters and Very Hot Jupiters from the OGLE-III Transit Surveys Toward the Galactic Bulge and Carina"},
    ]  # fmt: skip
    (tmp_path / "copies.jsonl").write_text("".join(json.dumps(c) + "\n" for c in copies))
    assert paperfeed(home, "ingest", "jsonl", str(tmp_path / "copies.jsonl")).returncode == 0

    done = paperfeed(home, "sync")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "by-id (arxiv-api): 2 new, 0 updated, 0 unchanged, 0 skipped, 1 merged into its arXiv paper, 1 same-title pair not merged" in done.stdout  # fmt: skip
    assert (
        "not merged: capture:hot-jupiters and astro-ph/0601001 share a title, but 7 authors "
        "here, 4 on arXiv" in done.stdout
    )
    stored = {row.id for row in store_contents(home / "paperfeed.db")["papers"]}
    assert "capture:hot-jupiters" in stored and "mylab:aew10" not in stored


def test_a_killed_sync_resumes_and_ends_with_the_same_store(tmp_path: Path, replay: Replay) -> None:
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    for home in (whole, killed):
        write_config(home, replay.url)
        paperfeed(home, "init")
    assert paperfeed(whole, "sync").returncode == 0

    env = {**os.environ, "PAPERFEED_HOME": str(killed)}
    env.pop("PAPERFEED_DB", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "paperfeed", "sync"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def kill_on_third_page(number: int, target: str) -> None:
        if "resumptionToken=t2" in target:
            os.kill(process.pid, signal.SIGKILL)
            time.sleep(0.2)

    replay.on_request = kill_on_third_page
    process.wait(120)
    assert process.returncode == -signal.SIGKILL
    replay.on_request = None
    middle = store_contents(killed / "paperfeed.db")
    assert {row.source: row.resumption_token for row in middle["states"]}["physics"] == "t2"
    assert len(middle["papers"]) == 6  # the first two pages, each committed with its token

    replay.requests.clear()
    again = paperfeed(killed, "sync")
    assert again.returncode == 0, again.stderr
    assert "resumptionToken=t2" in replay.requests[0]  # resumed, not restarted
    assert store_contents(killed / "paperfeed.db") == store_contents(whole / "paperfeed.db")


def test_retry_after_is_honoured(engine: Engine, tmp_path: Path, replay: Replay) -> None:
    _, second, _ = physics_pages()
    replay.add(
        "/oai2", {"resumptionToken": "t1"}, Reply(b"busy", 503, {"Retry-After": "1"}), Reply(second)
    )
    config = load_config(write_config(tmp_path, replay.url))
    started = time.monotonic()
    [report] = run_sync(engine, config, ["physics"])
    assert report.error is None and report.counts.new == 7 and report.counts.requests == 4
    assert time.monotonic() - started >= 1.0


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (b"<!DOCTYPE html><html><body>Internal error</body></html>", "an HTML page"),
        (None, "not OAI-PMH XML"),  # the real page cut in the middle
    ],
)
def test_a_bad_page_fails_the_run_and_the_next_run_resumes_there(
    engine: Engine, tmp_path: Path, replay: Replay, broken: bytes | None, message: str
) -> None:
    *_, third = physics_pages()
    body = broken if broken is not None else third[: len(third) // 2]
    replay.add("/oai2", {"resumptionToken": "t2"}, Reply(body, content_type="text/html"))
    config = load_config(write_config(tmp_path, replay.url))
    [report] = run_sync(engine, config, ["physics"])
    assert report.error is not None and message in report.error
    assert report.counts.new == 6
    replay.add("/oai2", {"resumptionToken": "t2"}, Reply(third))
    replay.requests.clear()
    [report] = run_sync(engine, config, ["physics"])
    assert report.error is None and report.counts.new == 1
    assert "resumptionToken=t2" in replay.requests[0]
    with engine.connect() as conn:
        assert set(conn.scalars(select(Paper.id))) == PHYSICS_IDS


def test_a_record_without_title_is_skipped_then_retried(
    engine: Engine, tmp_path: Path, replay: Replay, caplog: pytest.LogCaptureFixture
) -> None:
    first, _, _ = physics_pages()
    start = first.index(b"<title>", first.index(b"<id>1706.09418</id>"))
    end = first.index(b"</title>", start) + len(b"</title>")
    replay.add("/oai2", {"verb": "ListRecords", "metadataPrefix": "arXiv", "set": "physics"},
               Reply(first[:start] + first[end:]))  # fmt: skip
    config = load_config(write_config(tmp_path, replay.url))
    [report] = run_sync(engine, config, ["physics"])
    assert report.error is None and report.counts.new == 6 and report.counts.bad == 1
    assert "skipped 1706.09418: missing title" in caplog.text
    with engine.connect() as conn:
        assert conn.scalars(select(SourceFailure.item)).all() == ["1706.09418"]

    # The provider has fixed the record: the retry fetches it alone, by GetRecord.
    replay.add(
        "/oai2", {"verb": "ListRecords", "metadataPrefix": "arXiv", "set": "physics"}, Reply(first)
    )
    single = (OAI / "ListRecords_arXiv_arxiv-physics-hep-ex.xml").read_bytes()
    replay.add("/oai2", {"verb": "GetRecord", "identifier": "oai:arXiv.org:1706.09418"},
               Reply(with_token(single, None, 0)))  # fmt: skip
    replay.requests.clear()
    [report] = run_sync(engine, config, ["physics"])
    assert report.error is None
    assert "verb=GetRecord" in replay.requests[0] and "1706.09418" in replay.requests[0]
    with engine.connect() as conn:
        assert "1706.09418" in set(conn.scalars(select(Paper.id)))
        assert conn.scalars(select(SourceFailure.item)).all() == []


def test_errors_of_one_source_do_not_stop_the_others(
    engine: Engine, tmp_path: Path, replay: Replay
) -> None:
    replay.add(  # arXiv's real answer to a malformed id: HTTP 400 and an error feed
        "/api/query",
        {"id_list": "1707.08567,astro-ph/0601001"},
        recorded("id_abc_s0_m100_b79c8dcf6bc3.json"),
    )
    extra = """
[[sync.sources]]
name = "offline"
kind = "arxiv-rss"
url = "http://127.0.0.1:9/rss/cs.LG"
"""
    config = load_config(write_config(tmp_path, replay.url, extra))
    reports = {r.name: r for r in run_sync(engine, config)}
    assert "incorrect id format for abc" in (reports["by-id"].error or "")
    assert reports["offline"].error is not None and "127.0.0.1:9" in reports["offline"].error
    assert reports["hub"].error is None and reports["hub"].counts.new == 30
    assert reports["physics"].error is None


def test_one_sync_at_a_time(engine: Engine) -> None:
    with job_lock(engine, "sync") as first:
        assert first
        with job_lock(engine, "sync") as second:
            assert not second
    with job_lock(engine, "sync") as again:
        assert again


def test_configuration_mistakes_are_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "paperfeed.toml")
    path = tmp_path / "paperfeed.toml"
    path.write_text('[[sync.sources]]\nname = "x"\nkind = "ftp"\n')
    with pytest.raises(ConfigError, match=r"sync\.sources\.0"):
        load_config(path)
    path.write_text('[[sync.sources]]\nname = "x"\nkind = "arxiv-api"\n')
    with pytest.raises(ConfigError, match="needs search_query or ids"):
        load_config(path)
    path.write_text("[sync\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)
    assert DAILY.exists()
