"""Digest throughput: compose and send every subscriber's digest, mails/s and peak RSS.

How the data is made: the store and index that ``bench/pages.py`` builds (1,000,000 papers
from the real records, 50,000 featured with synthetic votes; pass its ``--work`` folder).
``--subscribers`` (default 10,000) active subscriptions are added, each with the trending top
10, one saved search (3-6 words of a real title, as people write them) and one of the 20
largest categories. Mails go to an SMTP sink on loopback (aiosmtpd, counting only). The
digests are sent by the product's code (``send_digests``: ledger, deliveries, rendering, one
SMTP connection), with the real model embedding each saved search. Usage:

    python bench/digests.py [--work /tmp/paperfeed-pages] [--subscribers 10000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import delete, func, insert, select

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
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.count += 1
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/paperfeed-pages"))
    parser.add_argument("--subscribers", type=int, default=10_000)
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
        for table in (DigestItem, Delivery, Subscription):
            conn.execute(delete(table))
        conn.execute(insert(Subscription), [
            {"email": f"reader{n}@bench.example", "status": "active", "created_at": now, "cadence": "daily",
             "trending": 10, "searches": " ".join(titles[n % len(titles)].split()[: rng.randint(3, 6)]),
             "categories": rng.choice(categories), "confirmed_at": now}
            for n in range(args.subscribers)
        ])  # fmt: skip
    print(
        f"data: {papers:,} papers; {args.subscribers:,} subscribers, each: trending top 10, one saved search, one category"
    )
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings = Settings(home=args.work, base_url="http://127.0.0.1:8000", smtp_host="127.0.0.1",
                        smtp_port=port, smtp_security="none")  # fmt: skip
    search = PaperSearch(args.work, MiniLMEmbedder(args.work / "models"))
    started = time.perf_counter()
    report = send_digests(engine, settings, search, "daily", now.date())
    seconds = time.perf_counter() - started
    controller.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"sent {report.sent:,} digests ({sink.count:,} received by the sink), {report.empty:,} empty, "
          f"{len(report.failed):,} failed, in {seconds:.0f} s: {report.sent / seconds:,.0f} mails/s; "
          f"peak RSS {peak:.2f} GiB")  # fmt: skip


if __name__ == "__main__":
    main()
