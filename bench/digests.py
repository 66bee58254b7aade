"""Digest throughput: compose and send every subscriber's digest, mails/s and peak RSS.

How the data is made: the store and index that ``bench/pages.py`` builds (1,000,000 papers
from the real records, 50,000 featured with synthetic votes; pass its ``--work`` folder).
``--new`` (default 3,000: a busy arXiv day) random papers are dated as added in the last 20
hours and the rest 30 days ago, so each digest looks for what came in since yesterday.
``--subscribers`` (default 10,000) active subscriptions are added, each with the trending top
10, one saved search (3-6 words of a real title, as people write them) and one of the 20
largest categories. Mails go to an SMTP sink on loopback (aiosmtpd in its own process,
counting only). The digests are sent by the product's code (``send_digests``: ledger,
deliveries, rendering, one SMTP connection), with the real model embedding every saved
search. Usage:

    python bench/digests.py [--work /tmp/paperfeed-pages] [--subscribers 10000] [--new 3000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import platform
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import delete, func, insert, select, update

import paperfeed.search  # noqa: F401  (loads ONNX Runtime before usearch)
from paperfeed.config import Settings
from paperfeed.digest.send import send_digests
from paperfeed.models import Delivery, DigestItem, Paper, PaperCategory, Subscription
from paperfeed.search.embedder import MiniLMEmbedder
from paperfeed.search.hybrid import PaperSearch
from paperfeed.store.engine import make_engine, write_transaction

sys.path.insert(0, str(Path(__file__).parent))
from pages import free_port


class Sink:
    def __init__(self, count: Any) -> None:
        self.count = count

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        with self.count.get_lock():
            self.count.value += 1
        return "250 OK"


def run_sink(port: int, count: Any, stop: Any) -> None:
    """The SMTP sink, in a process of its own so it does not share the sender's interpreter."""
    controller = Controller(Sink(count), hostname="127.0.0.1", port=port)
    controller.start()
    stop.wait()
    controller.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/paperfeed-pages"))
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--new", type=int, default=3_000)
    args = parser.parse_args()
    if not (args.work / "paperfeed.db").exists():
        sys.exit(
            f"no store in {args.work}: run bench/pages.py first (it builds the 1M-paper store)"
        )
    env = {**os.environ, "PAPERFEED_HOME": str(args.work)}
    env.pop("PAPERFEED_DB", None)
    subprocess.run(
        [sys.executable, "-m", "paperfeed", "init"], env=env, check=True, stdout=subprocess.DEVNULL
    )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    engine = make_engine(f"sqlite:///{args.work / 'paperfeed.db'}")
    rng = random.Random(20261125)
    now = dt.datetime.now(dt.UTC)
    with engine.connect() as conn:
        papers = conn.scalar(select(func.count()).select_from(Paper))
        titles = list(
            conn.scalars(select(Paper.title).order_by(func.random()).limit(args.subscribers))
        )
        categories = list(conn.scalars(
            select(PaperCategory.category).group_by(PaperCategory.category)
            .order_by(func.count().desc()).limit(20)
        ))  # fmt: skip
    with write_transaction(engine) as conn:
        conn.execute(update(Paper).values(created_at=now - dt.timedelta(days=30)))
        fresh = select(Paper.id).order_by(func.random()).limit(args.new).scalar_subquery()
        conn.execute(
            update(Paper).where(Paper.id.in_(fresh)).values(created_at=now - dt.timedelta(hours=20))
        )
        for table in (DigestItem, Delivery, Subscription):
            conn.execute(delete(table))
        conn.execute(insert(Subscription), [
            {"email": f"reader{n}@bench.example", "status": "active", "created_at": now, "cadence": "daily",
             "trending": 10, "searches": " ".join(titles[n % len(titles)].split()[: rng.randint(3, 6)]),
             "categories": rng.choice(categories), "confirmed_at": now}
            for n in range(args.subscribers)
        ])  # fmt: skip
    print(
        f"data: {papers:,} papers, {args.new:,} of them new since yesterday; {args.subscribers:,} "
        "subscribers, each: trending top 10, one saved search, one category"
    )
    port = free_port()
    received, stop = multiprocessing.Value("i", 0), multiprocessing.Event()
    sink = multiprocessing.Process(target=run_sink, args=(port, received, stop))
    sink.start()
    time.sleep(1.0)
    settings = Settings(home=args.work, base_url="http://127.0.0.1:8000", smtp_host="127.0.0.1",
                        smtp_port=port, smtp_security="none")  # fmt: skip
    search = PaperSearch(args.work, MiniLMEmbedder(args.work / "models"))
    started = time.perf_counter()
    report = send_digests(engine, settings, search, "daily", now.date())
    seconds = time.perf_counter() - started
    stop.set()
    sink.join()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"sent {report.sent:,} digests ({received.value:,} received by the sink), {report.empty:,} empty, "
          f"{len(report.failed):,} failed, in {seconds:.0f} s: {report.sent / seconds:,.0f} mails/s; "
          f"peak RSS {peak:.2f} GiB")  # fmt: skip


if __name__ == "__main__":
    main()
