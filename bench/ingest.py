"""Ingest benchmark: papers/s and peak RSS importing a 1,000,000-line snapshot file into SQLite.

How the data is made: every record of the real arXiv files in the shared data folder
(``arxiv-snapshot-sample.jsonl`` and ``arxiv-more-{1,2,3}.jsonl.gz``, about 125,000 records) is
taken in turn, as often as needed to reach ``--lines``; each copy gets a distinct, valid arXiv id
(``YYMM.NNNNN`` from 1501 on) and keeps its real title, abstract, authors and categories. So the
text and the author names repeat the way they do in a real corpus, and no id does.

The import runs as the real command (``paperfeed ingest arxiv-snapshot``) in a child process;
its wall time and peak RSS are measured by the OS (``wait4``). Then the same file is imported a
second time, when every paper is unchanged. Usage:

    python bench/ingest.py [--data ../shared/data] [--lines 1000000] [--work /tmp/paperfeed-bench]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
SOURCES = (
    "arxiv-snapshot-sample.jsonl",
    "arxiv-more-1.jsonl.gz",
    "arxiv-more-2.jsonl.gz",
    "arxiv-more-3.jsonl.gz",
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/paperfeed-bench"))
    args = parser.parse_args()

    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    data_file = args.work / "snapshot.jsonl"
    started = time.perf_counter()
    written = build_file(args.data, data_file, args.lines)
    print(
        f"data: {written:,} lines, {data_file.stat().st_size / 2**20:,.0f} MiB, built in "
        f"{time.perf_counter() - started:.0f} s from the real records in {args.data}"
    )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite (WAL) at {args.work / 'paperfeed.db'}"
    )

    db = f"sqlite:///{args.work / 'paperfeed.db'}"
    run([sys.executable, "-m", "paperfeed", "--db", db, "init"])
    for label in ("first import (all new)", "re-import (all unchanged)"):
        seconds, peak_rss = run(
            [
                sys.executable,
                "-m",
                "paperfeed",
                "--db",
                db,
                "ingest",
                "arxiv-snapshot",
                str(data_file),
            ]
        )
        print(
            f"{label:28s} {written / seconds:>9,.0f} papers/s   {seconds:6.1f} s   peak RSS {peak_rss / 2**20:,.0f} MiB (main + reader process)"
        )
    print(f"store size: {(args.work / 'paperfeed.db').stat().st_size / 2**20:,.0f} MiB")


def build_file(data: Path, out: Path, lines: int) -> int:
    written = 0
    with out.open("wb") as sink:
        while written < lines:
            for record in real_records(data):
                record["id"] = synthetic_id(written)
                sink.write(json.dumps(record).encode() + b"\n")
                written += 1
                if written == lines:
                    break
    return written


def real_records(data: Path) -> Iterator[dict[str, object]]:
    for name in SOURCES:
        path = data / name
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "rb") as lines:
            for line in lines:
                yield json.loads(line)


def synthetic_id(n: int) -> str:
    """A distinct new-style id for the n-th line: 99,999 numbers per month from January 2015."""
    month = n // 99_999
    year, month = 15 + month // 12, 1 + month % 12
    return f"{year:02d}{month:02d}.{1 + n % 99_999:05d}"


def run(command: list[str]) -> tuple[float, int]:
    """Run ``command``; return its wall time and the peak RSS of its process tree in bytes.

    The import forks a reader process, so the tree's resident memory (main + reader) is
    sampled every 50 ms; the main process's own peak, from the OS (wait4), is a floor.
    """
    started = time.perf_counter()
    with (
        open(os.devnull, "wb") as quiet,
        subprocess.Popen(command, stdout=quiet, stderr=subprocess.PIPE) as process,
    ):
        peak = 0
        tree = psutil.Process(process.pid)
        while process.poll() is None:
            peak = max(peak, _tree_rss(tree))
            time.sleep(0.05)
        assert process.stderr is not None
        errors = process.stderr.read()
    seconds = time.perf_counter() - started
    if process.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{errors.decode()}")
    return seconds, peak


def _tree_rss(process: psutil.Process) -> int:
    try:
        members = [process, *process.children(recursive=True)]
        return sum(member.memory_info().rss for member in members)
    except psutil.Error:
        return 0


if __name__ == "__main__":
    main()
