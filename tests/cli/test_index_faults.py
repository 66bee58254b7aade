"""The search index under faults, as a user meets them: ``paperfeed index`` killed with
SIGKILL mid-build and run again, then ``paperfeed check`` finds the index consistent with the
store; a disk that fills while a new index is written (a small tmpfs that really fills, and a
file-size limit on the process) gives a clear error and the previous index still serves."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_search_command import paperfeed
from tests.conftest import FIXTURES
from tests.servers import free_port

PAPERS = FIXTURES / "arxiv-more-1-head300.jsonl"


def ready_home(tmp_path: Path, model_dir: Path) -> Path:
    home = tmp_path / "home"
    shutil.copytree(model_dir, home / "models")  # (the model's ONNX export, made once a session)
    assert paperfeed(home, "init").returncode == 0
    assert paperfeed(home, "ingest", "arxiv-snapshot", PAPERS).returncode == 0
    return home


@pytest.fixture(scope="module")
def embedded_store(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> Path:
    """A store of the 300 papers with their vectors (a real ``paperfeed embed``), made once for
    the module: the faults below are the index's, and its builds read the stored vectors."""
    home = ready_home(tmp_path_factory.mktemp("embedded"), model_dir)
    done = paperfeed(home, "embed")
    assert done.returncode == 0 and "Embedded 300 papers" in done.stdout, done.stderr
    return home


def embedded_home(tmp_path: Path, embedded_store: Path) -> Path:
    """A copy of :func:`embedded_store` of its own (no search index yet)."""
    home = tmp_path / "home"
    shutil.copytree(embedded_store, home, ignore=shutil.ignore_patterns("search", "*.lock"))
    return home


def test_an_index_build_killed_midway_is_finished_by_the_next_run(
    tmp_path: Path, model_dir: Path
) -> None:
    home = ready_home(tmp_path, model_dir)
    env = {**os.environ, "PAPERFEED_HOME": str(home)}
    env.pop("PAPERFEED_DB", None)
    build = subprocess.Popen([sys.executable, "-m", "paperfeed", "index"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    store = sqlite3.connect(home / "paperfeed.db")
    deadline = time.monotonic() + 300

    def stored() -> int:
        count: int = store.execute("SELECT count(*) FROM paper_vectors").fetchone()[0]
        return count

    while not stored():
        assert time.monotonic() < deadline and build.poll() is None, (
            "the build ended before it could be killed"
        )
        time.sleep(0.05)
    build.send_signal(signal.SIGKILL)  # embedding under way: some vectors stored, a batch claimed
    build.wait(10)
    assert 0 < stored() < 300
    store.close()
    again = paperfeed(home, "index")
    assert again.returncode == 0, again.stderr
    checked = paperfeed(home, "check")
    assert checked.returncode == 0 and "The indexer has caught up with it." in checked.stdout
    found = paperfeed(home, "search", "hand gesture recognition", "--mode", "semantic", "--json")
    assert "1812.06145" in [hit["id"] for hit in json.loads(found.stdout)["results"]][:3]


def _file_size_limit(limit: int) -> None:
    """In the child: a disk that fills after ``limit`` bytes of any one file (writes beyond it
    fail with EFBIG, as they would with ENOSPC, instead of killing the process)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_a_full_disk_while_indexing_leaves_the_previous_index_serving(
    tmp_path: Path, embedded_store: Path
) -> None:
    home = embedded_home(tmp_path, embedded_store)
    assert paperfeed(home, "index").returncode == 0
    before = (home / "search" / "current").resolve()
    env = {**os.environ, "PAPERFEED_HOME": str(home)}
    env.pop("PAPERFEED_DB", None)
    full = subprocess.run(
        [sys.executable, "-m", "paperfeed", "index", "--rebuild"], env=env, capture_output=True,
        text=True, timeout=600, preexec_fn=lambda: _file_size_limit(64 * 1024),
    )  # fmt: skip
    assert full.returncode == 1 and "Traceback" not in full.stderr
    assert "writing the search index failed" in full.stderr and "previous index" in full.stderr
    assert (home / "search" / "current").resolve() == before  # not switched to the broken one
    assert [p for p in (home / "search").iterdir() if p.is_dir() and p.name != "current"] == [
        before
    ]
    found = paperfeed(home, "search", "hand gesture recognition", "--json")
    assert "1812.06145" in [hit["id"] for hit in json.loads(found.stdout)["results"]]
    assert paperfeed(home, "check").returncode == 0


@contextlib.contextmanager
def small_tmpfs(where: Path, megabytes: int) -> Iterator[Path]:
    """A real file system of its own, as small as asked (tmpfs; mounting needs root, which the
    CI has)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    where.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(where)],
                   check=True)  # fmt: skip
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_really_full_disk_while_indexing_leaves_the_previous_index_serving(
    tmp_path: Path, embedded_store: Path
) -> None:
    """The index on a small tmpfs that fills up (ENOSPC) while ``index --rebuild`` writes."""
    home = embedded_home(tmp_path, embedded_store)
    with small_tmpfs(home / "search", 64):
        first = paperfeed(home, "index")
        assert first.returncode == 0, first.stderr
        before = (home / "search" / "current").resolve()
        free = shutil.disk_usage(home / "search").free
        with (home / "search" / "filler").open("wb") as filler:  # leave 16 KiB free
            left = free - 16 * 1024
            while left > 0:
                left -= filler.write(b"\0" * min(left, 2**20))
        full = paperfeed(home, "index", "--rebuild")
        said = f"exit {full.returncode}: {full.stderr}"
        assert full.returncode == 1 and "Traceback" not in full.stderr, said
        assert "writing the search index failed" in full.stderr, said
        # tantivy says "No space left on device", or only that its writer thread died
        assert "No space left on device" in full.stderr or "has 0.0 MiB free" in full.stderr, said
        assert (home / "search" / "current").resolve() == before
        found = paperfeed(home, "search", "hand gesture recognition", "--json")
        assert "1812.06145" in [hit["id"] for hit in json.loads(found.stdout)["results"]]
        checked = paperfeed(home, "check")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        (home / "search" / "filler").unlink()  # space again: the rebuild now succeeds
        again = paperfeed(home, "index", "--rebuild")
        assert again.returncode == 0, again.stderr
        assert (home / "search" / "current").resolve() != before
        checked = paperfeed(home, "check")
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_corrupt_index_is_rebuilt_when_the_site_starts(
    tmp_path: Path, embedded_store: Path
) -> None:
    home = embedded_home(tmp_path, embedded_store)
    assert paperfeed(home, "index").returncode == 0
    keyword = home / "search" / "current" / "keyword"
    (keyword / "meta.json").write_text("{ this is not json")
    assert paperfeed(home, "check").returncode == 1
    env = {**os.environ, "PAPERFEED_HOME": str(home)}
    env.pop("PAPERFEED_DB", None)
    serve = subprocess.Popen(
        [sys.executable, "-m", "paperfeed", "serve", "--port", str(free_port())], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        lines = []
        assert serve.stdout is not None
        for line in serve.stdout:
            lines.append(line)
            if line.startswith("Serving paperfeed"):
                break
        said = "".join(lines)
        assert "cannot be opened" in said and "rebuilding it from the store" in said, said
    finally:
        serve.kill()
        serve.wait(10)
        if serve.stdout is not None:
            serve.stdout.close()
    assert paperfeed(home, "check").returncode == 0
