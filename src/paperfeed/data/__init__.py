"""The bundled sample corpus: real arXiv records and a real Daily Papers list (see sample/README.md)."""

from __future__ import annotations

from pathlib import Path

SAMPLE_DIR = Path(__file__).with_name("sample")

#: The files ``paperfeed demo`` imports, in order, with the source that reads each.
SAMPLE_FILES: tuple[tuple[str, Path], ...] = (
    ("arxiv-snapshot", SAMPLE_DIR / "arxiv-sample.jsonl.gz"),
    ("jsonl", SAMPLE_DIR / "daily-papers.jsonl"),
)
