"""The bundled sample corpus: real arXiv records and a real Daily Papers list (see sample/README.md)."""

from __future__ import annotations

from pathlib import Path

SAMPLE_DIR = Path(__file__).with_name("sample")

#: The files ``paperfeed demo`` imports, in order, with the source that reads each.
SAMPLE_FILES: tuple[tuple[str, Path], ...] = (
    ("arxiv-snapshot", SAMPLE_DIR / "arxiv-sample.jsonl.gz"),
    ("jsonl", SAMPLE_DIR / "daily-papers.jsonl"),
)

#: A real Daily Papers API response: the papers ``paperfeed demo`` features on 2026-06-12.
SAMPLE_DAILY_PAPERS = SAMPLE_DIR / "daily_papers_limit30_2026-06-13.json"

#: Days before it whose arXiv listings are in the sample: the demo features their cs.CL
#: papers that link code, as an auto-feature rule would.
SAMPLE_LISTING_DAYS = ("2026-06-08", "2026-06-09", "2026-06-10", "2026-06-11")
