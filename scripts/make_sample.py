"""Rebuild the bundled sample corpus in src/paperfeed/data/sample/ from the shared data folder.

Deterministic (fixed seed, sorted input), so re-running it gives the same bytes. Every record
is a real one, copied line for line; nothing is generated. Usage:

    python scripts/make_sample.py [SHARED_DIR]   (default: ../shared)
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "paperfeed" / "data" / "sample"
FEATURED_WEEK = ("2026-06-08", "2026-06-12")  # the week of the recorded Daily Papers list
RANDOM_CS, RANDOM_ASTRO, RANDOM_QUANT = 900, 300, 300
DAILY_FIXTURE = "daily_papers_limit30_2026-06-13.json"


def main(shared: Path) -> None:
    daily = json.loads((shared / "fixtures" / "hf_daily_papers" / DAILY_FIXTURE).read_text())
    daily_ids = {entry["paper"]["id"] for entry in daily}
    seeds = [
        json.loads(line)
        for line in (shared / "seed" / "seed-papers.jsonl").read_text().splitlines()
    ]
    seed_ids: dict[str, str] = {_title_key(seed["title"]): "" for seed in seeds}
    lines = _snapshot_lines(shared / "data", daily_ids, seed_ids)
    OUT.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(OUT / "arxiv-sample.jsonl.gz", "wb", mtime=0) as out:
        out.writelines(lines)
    generic = [_daily_record(entry) for entry in daily] + [_seed_record(s, seed_ids) for s in seeds]
    with (OUT / "daily-papers.jsonl").open("w", encoding="utf-8") as out:
        out.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in generic)
    (OUT / DAILY_FIXTURE).write_bytes(
        (shared / "fixtures" / "hf_daily_papers" / DAILY_FIXTURE).read_bytes()
    )
    print(f"{len(lines)} snapshot records, {len(generic)} generic records → {OUT}")


def _snapshot_lines(data: Path, daily_ids: set[str], seed_ids: dict[str, str]) -> list[bytes]:
    """The whole 200-record snapshot sample, a featured week of cs listings, and random others.

    Fills ``seed_ids`` with the arXiv ids of captured papers whose titles the data holds.
    """
    rng = random.Random(20261125)
    picked = list((data / "arxiv-snapshot-sample.jsonl").read_bytes().splitlines(keepends=True))
    week, rest = [], []
    for line in _gz_lines(data / "arxiv-more-1.jsonl.gz"):
        record = json.loads(line)
        day = _listing_day(record)
        if _title_key(record["title"]) in seed_ids:
            seed_ids[_title_key(record["title"])] = record["id"]
            week.append(line)
        elif record["id"] in daily_ids or FEATURED_WEEK[0] <= day <= FEATURED_WEEK[1]:
            week.append(line)
        else:
            rest.append(line)
    picked += week + rng.sample(rest, RANDOM_CS)
    picked += rng.sample(_gz_lines(data / "arxiv-more-3.jsonl.gz"), RANDOM_ASTRO)
    picked += rng.sample(_gz_lines(data / "arxiv-more-2.jsonl.gz"), RANDOM_QUANT)
    return picked


def _gz_lines(path: Path) -> list[bytes]:
    with gzip.open(path) as lines:
        return list(lines)


def _listing_day(record: dict[str, str]) -> str:
    match = re.search(r"(\d{4}-\d{2}-\d{2})", record.get("first_source_file") or "")
    return match[1] if match else ""


def _daily_record(entry: dict) -> dict:  # type: ignore[type-arg]
    """A Daily Papers entry in our generic JSONL format (upvotes and submitters come later)."""
    paper = entry["paper"]
    organization = paper.get("organization") or entry.get("organization") or {}
    return {
        "id": paper["id"],
        "title": paper["title"],
        "abstract": paper["summary"],
        "authors": [a["name"] for a in paper["authors"]],
        "published": paper["publishedAt"][:10],
        "code_url": paper.get("githubRepo"),
        "organization": organization.get("fullname") or organization.get("name"),
    }


def _seed_record(seed: dict, seed_ids: dict[str, str]) -> dict:  # type: ignore[type-arg]
    """A paper of the captured search page; the capture has no ids or author names.

    Papers found in the arXiv data keep their arXiv id; the others get ``dailypapers:<slug>``.
    What the page showed is kept as shown: the author count, the site's upvotes, and the date,
    as ``published`` when it is a full date and as text when the page left the year out (the
    capture does not say when it was taken, so the year is not known).
    """
    shown = seed["date_shown"]
    full_date = "," in shown
    slug = re.sub(r"[^a-z0-9]+", "-", seed["title"].lower()).strip("-")[:60].strip("-")
    code = next((u for u in seed["urls"] if "github.com/" in u), None)
    organization = seed["organization"]
    return {
        "id": seed_ids.get(_title_key(seed["title"])) or f"dailypapers:{slug}",
        "title": seed["title"],
        "abstract": seed["abstract"],
        "published": dt.datetime.strptime(shown, "%b %d, %Y").date().isoformat()
        if full_date
        else None,
        "date_shown": None if full_date else shown,
        "num_authors": seed["num_authors"],
        "upvotes": seed["upvotes"],
        "code_url": code.split("{")[0] if code else None,
        # The capture shows "naver-ai NAVER AI Lab": the hub's handle, then the lab's name.
        "organization": organization.split(" ", 1)[-1] if organization else None,
    }


def _title_key(title: str) -> str:
    return " ".join(title.lower().split())


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared")
