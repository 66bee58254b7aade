"""What the commands print into a pipe or a log is not cut at 80 columns."""

from __future__ import annotations

import os
import subprocess
import sys

WIDE_TABLE = """
from rich.table import Table
from paperfeed.cli.app import console
table = Table("node", "index folder", "lag")
table.add_row("web-1.example.org", "/srv/paperfeed/" + "deeply/nested/" * 6 + "search/current", "0 papers")
console.print(table)
"""


def run(env_extra: dict[str, str]) -> str:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"} | env_extra
    done = subprocess.run([sys.executable, "-c", WIDE_TABLE], capture_output=True, text=True,
                          env=env, timeout=120, check=True)  # fmt: skip
    return done.stdout


def test_tables_in_a_pipe_are_whole() -> None:
    piped = run({})
    assert "deeply/nested/" * 6 + "search/current" in piped and "…" not in piped


def test_columns_still_wins_when_set() -> None:
    narrow = run({"COLUMNS": "60"})
    assert "…" in narrow and max(len(line) for line in narrow.splitlines()) <= 60
