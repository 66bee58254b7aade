"""``paperfeed index`` and ``paperfeed search`` as a user runs them (real model, real files)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURES


def paperfeed(home: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PAPERFEED_HOME": str(home), "COLUMNS": "200"}
    env.pop("PAPERFEED_DB", None)
    command = [sys.executable, "-m", "paperfeed", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)


def test_index_then_search_in_every_mode_and_in_batch(tmp_path: Path, model_dir: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(model_dir, home / "models")  # (the ONNX export, made once a session)
    paperfeed(home, "init")
    paperfeed(home, "ingest", "arxiv-snapshot", FIXTURES / "arxiv-more-1-head300.jsonl")
    before = paperfeed(home, "search", "anything")
    assert (
        before.returncode == 1
        and "there is no search index yet: run `paperfeed index`" in before.stderr
    )

    unbuilt = paperfeed(home, "check")  # not "caught up with 0 papers", nor a repair
    assert unbuilt.returncode == 1 and "run `paperfeed index --rebuild`" not in unbuilt.stderr
    assert (
        "holds 300 papers and there is no search index yet: run `paperfeed index`" in unbuilt.stderr
    )
    assert "caught up" not in unbuilt.stdout

    built = paperfeed(home, "index")
    assert built.returncode == 0, built.stderr
    assert (
        "Indexed 300 papers for keyword search" in built.stdout and "Embedded 300" in built.stdout
    )
    assert "up to date" in paperfeed(home, "index").stdout
    checked = paperfeed(home, "check")
    assert checked.returncode == 0 and "The search index matches the store." in checked.stdout

    for mode in ("hybrid", "keyword", "semantic"):
        found = paperfeed(
            home, "search", "sparse representation classification", "--mode", mode, "--json"
        )
        assert found.returncode == 0, found.stderr
        ids = [hit["id"] for hit in json.loads(found.stdout)["results"]]
        assert "1904.11093" in ids[:3], (mode, ids)

        nonsense = paperfeed(home, "search", "zzqqxx flibbertigibbet", "--mode", mode, "--json")
        assert json.loads(nonsense.stdout)["results"] == [], (mode, nonsense.stdout)
        assert json.loads(nonsense.stdout)["no_match"] is True
    shown = paperfeed(home, "search", "best pizza in naples")
    assert shown.returncode == 0 and "No papers match. Try a broader query" in shown.stdout
    for blank in ("", "   "):
        empty = paperfeed(home, "search", blank)
        assert empty.returncode == 1 and "the query is empty" in empty.stderr, empty
        assert " 1. " not in empty.stdout

    queries = tmp_path / "q.jsonl"
    queries.write_text(
        '{"query_id": "q1", "text": "hand gesture recognition"}\n{"query_id": 7, "text": "\\""}\n'
    )
    batch = paperfeed(home, "search", "--queries", queries, "--limit", "5", "--json")
    lines = [json.loads(line) for line in batch.stdout.splitlines()]
    assert [line["query_id"] for line in lines] == ["q1", 7]
    assert lines[0]["results"][0] == "1812.06145" and len(lines[0]["results"]) == 5

    text = paperfeed(home, "search", "gesture", "-n", "2")
    assert text.returncode == 0 and " 1. " in text.stdout

    deleted = paperfeed(home, "delete", "arXiv:1904.11093v2", "2699.99999")
    assert deleted.returncode == 0, deleted.stderr
    assert "Deleted 1 paper." in deleted.stdout and "Not in the store: 2699.99999" in deleted.stderr
    assert "Removed 1 deleted paper from" in paperfeed(home, "index").stdout
    found = paperfeed(home, "search", "sparse representation classification", "--json")
    assert "1904.11093" not in [hit["id"] for hit in json.loads(found.stdout)["results"]]
    assert paperfeed(home, "delete", "2699.99999").returncode == 1

    # A damaged index: `check` says so and what repairs it; `index --rebuild` does.
    shutil.rmtree(home / "search" / "current" / "keyword")
    damaged = paperfeed(home, "check")
    assert damaged.returncode == 1 and "paperfeed index --rebuild" in damaged.stderr
    assert paperfeed(home, "index", "--rebuild").returncode == 0
    assert paperfeed(home, "check").returncode == 0


def test_a_result_line_leaves_out_what_a_paper_lacks() -> None:
    from paperfeed.cli.search import hit_facts
    from paperfeed.search.hybrid import SearchHit

    assert hit_facts(SearchHit("2301.00001", 1.0, year=2023)) == "2301.00001 · 2023"
    assert hit_facts(SearchHit("x:1", 1.0, categories=("cs.LG", "cs.CL"))) == "x:1 · cs.LG cs.CL"
    full = SearchHit("2301.00001", 1.0, year=2023, categories=("cs.LG",))
    assert hit_facts(full) == "2301.00001 · 2023 · cs.LG"
