"""Server time of the Daily Papers API's hot route, ``/api/daily_papers``, in a quick loop.

The store is the test site's (``tests/web/conftest.py``'s ``fill_store``: 300 real arXiv
listing papers, the 30 papers of a recorded Daily Papers response featured on 2026-06-12 with
their upvotes and submitters, five more featured by hand) on SQLite in a temporary folder. The
app is called in this process through httpx's ASGI transport (one event loop, the sync route
in Starlette's thread pool as under Uvicorn), so a figure is the whole request (middleware,
routing, validation, the store's queries, shaping, JSON) without a network or a second
process; every URL is asked ``--warmup`` times first, then ``--repeat`` times, and the median
and mean wall time are printed, with the process's CPU time per request (all threads), which
a busy shared machine disturbs far less than wall time. Use it to compare two versions of the
route on one machine, not as an absolute figure.

    python bench/hf_api.py [--repeat 2000] [--warmup 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).parent.parent))  # (the tests' store filler)

from tests.web.conftest import fill_store

from paperfeed.config import Settings
from paperfeed.search.embedder import HashingEmbedder
from paperfeed.store.engine import make_engine
from paperfeed.store.migrate import upgrade
from paperfeed.web.app import create_app

URLS = (
    "/api/daily_papers?date=2026-06-12&limit=30",
    "/api/daily_papers?limit=50",
    "/api/papers/2606.00467",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        url = f"sqlite:///{home / 'store' / 'paperfeed.db'}"
        engine = make_engine(url)
        upgrade(engine)
        fill_store(engine, home)
        engine.dispose()
        settings = Settings(home=home, db=url, base_url="http://bench", rate_limits=False)
        asyncio.run(measure(create_app(settings, HashingEmbedder), args.warmup, args.repeat))
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


async def measure(app: FastAPI, warmup: int, repeat: int) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for path in URLS:
            for _ in range(warmup):
                assert (await client.get(path)).status_code == 200
            took = []
            cpu = time.process_time()
            for _ in range(repeat):
                start = time.perf_counter()
                await client.get(path)
                took.append((time.perf_counter() - start) * 1000)
            cpu_ms = (time.process_time() - cpu) * 1000 / repeat
            print(f"{path:48} p50 {statistics.median(took):6.2f} ms  "
                  f"mean {statistics.fmean(took):6.2f} ms  cpu {cpu_ms:6.2f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
