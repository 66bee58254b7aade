"""``paperfeed mcp`` refuses to start with a token that is not valid, or without a store,
saying why on stderr and nothing on stdout (which belongs to the protocol)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine


def mcp(home: Path, db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PAPERFEED_HOME": str(home), "PAPERFEED_DB": db_url, "COLUMNS": "200"}
    command = [sys.executable, "-m", "paperfeed", "mcp", *args]
    return subprocess.run(
        command, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120
    )


def test_a_token_that_is_not_valid_is_refused_at_start(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    started = mcp(tmp_path, db_url, "--token", "pf_" + "x" * 43)
    assert started.returncode == 1 and started.stdout == ""
    assert "not a valid API token" in started.stderr


def test_without_a_store_it_says_so(tmp_path: Path) -> None:
    started = mcp(tmp_path, f"sqlite:///{tmp_path / 'none' / 'paperfeed.db'}")
    assert started.returncode == 1 and started.stdout == ""
    assert "error:" in started.stderr
