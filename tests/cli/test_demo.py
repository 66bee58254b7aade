"""``paperfeed demo`` on a fresh data directory: the bundled sample, imported and indexed once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def demo(home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PAPERFEED_HOME": str(home), "COLUMNS": "200"}
    env.pop("PAPERFEED_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "paperfeed", "demo", "--no-serve"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )


def test_demo_imports_the_sample_once(tmp_path: Path) -> None:
    first = demo(tmp_path / "home")
    assert first.returncode == 0, first.stderr
    assert "arxiv-sample.jsonl.gz: 3,257 new, 0 updated, 0 unchanged, 0 bad" in first.stdout
    assert "daily-papers.jsonl: 52 new, 23 updated, 0 unchanged, 0 bad" in first.stdout
    assert (
        "daily_papers_limit30_2026-06-13.json: 0 new, 30 updated, 0 unchanged papers; 30 featured"
        in first.stdout
    )  # the daily list's papers are in the sample already; now they are on 2026-06-12's feed
    assert "2026-06-08: 6 papers featured" in first.stdout
    assert (tmp_path / "home" / "paperfeed.db").exists()
    assert (
        "Indexed 3,309 papers for keyword search" in first.stdout
        and "Embedded 3,309" in first.stdout
    )

    again = demo(tmp_path / "home")
    assert "0 new, 0 updated, 3,257 unchanged, 0 bad" in again.stdout
    assert "0 new, 0 updated, 75 unchanged, 0 bad" in again.stdout
    assert "30 already featured, 0 moved" in again.stdout
    assert "2026-06-08: 0 papers featured, 6 already featured" in again.stdout
    assert "The search index is up to date" in again.stdout
