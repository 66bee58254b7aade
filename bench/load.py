"""Load: two web nodes on one PostgreSQL with a million papers, under a mixed workload from a
real load generator (Locust, headless, on loopback), bounded in time.

How the data is made: the store is built exactly as ``bench/pages.py`` builds it (a
1,000,000-line snapshot of real arXiv records with distinct ids, imported with ``paperfeed
ingest arxiv-snapshot``, 50,000 papers featured with synthetic Zipf upvotes; the search index's
keyword side by the real indexer, its vectors 5,000 real embeddings plus noisy copies), but into
PostgreSQL (``--db``, or the server ``scripts/with-postgres`` starts). ``--members`` (1,000)
members with API tokens are added for the upvotes. Node A's data directory is copied for node
B; both run ``paperfeed serve`` (one worker each, rate limits off: every request comes from
127.0.0.1). The workload (``--users`` simulated clients, each request to node A or B at
random): 70% pages (a day's feed, a paper page), 20% searches (site and API, 2-4 words of real
titles), 8% API (daily papers, a paper), 2% upvotes (one of the members, write API).

First the clients send as fast as the answers come: the capacity. Then one run for each of
``--shares`` of that capacity, the clients pausing a random (exponential) time between
requests so they arrive as a crowd's do: the latencies at a load the cores sustain. Each run
prints requests, requests/s, p50/p99 and errors per route, and the CPU seconds the nodes,
PostgreSQL and Locust used meanwhile. Usage:

    scripts/with-postgres .venv/bin/python bench/load.py [--seconds 60] [--users 20]
        [--shares 0.3,0.5,0.7] [--rate R] [--reuse] [--db postgresql://...] [--work DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import importlib.util
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psutil
from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).parent))
from pages import build, free_port, wait_until_up

from paperfeed.models import FeedEntry, Paper
from paperfeed.services import tokens
from paperfeed.services.accounts import Member
from paperfeed.store.engine import make_engine, write_transaction
from paperfeed.store.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
LOCUSTFILE = """
import os, random, time
from locust import HttpUser, task

HOSTS = os.environ["LOAD_HOSTS"].split()
def lines(name):
    with open(os.path.join(os.environ["LOAD_DIR"], name)) as f:
        return [line.rstrip("\\n") for line in f if line.strip()]
DAYS, PAPERS, QUERIES, TOKENS = lines("days.txt"), lines("papers.txt"), lines("queries.txt"), lines("tokens.txt")

RATE = float(os.environ.get("LOAD_USER_RATE") or 0)

class Reader(HttpUser):
    host = HOSTS[0]

    # At a set rate, each client sends at random (exponential) intervals measured from one
    # arrival to the next, so the clients together are a Poisson stream of that rate, as a
    # crowd's requests are; a client that fell behind sends at once, without a burst to catch
    # up. (Constant pacing kept the clients in step: bursts of 20 at once, then nothing.
    # Pauses counted from each answer instead gave less than the rate asked for.)
    # Without a rate: as fast as the answers come.
    def on_start(self):
        self.next_at = time.monotonic()
        if RATE:  # each client starts at a random moment, not all 20 in the first millisecond
            self.next_at += random.expovariate(RATE)
            time.sleep(max(0.0, self.next_at - time.monotonic()))

    def wait_time(self):
        if not RATE:
            return random.uniform(0, 0.05)
        self.next_at = max(self.next_at + random.expovariate(RATE), time.monotonic())
        return max(0.0, self.next_at - time.monotonic())

    def go(self, path, name):
        self.client.get(random.choice(HOSTS) + path, name=name)

    @task(35)
    def feed(self): self.go("/?date=" + random.choice(DAYS), "page: feed (a day)")
    @task(35)
    def paper(self): self.go("/papers/" + random.choice(PAPERS), "page: paper")
    @task(12)
    def search(self): self.go("/search?q=" + random.choice(QUERIES), "search: site")
    @task(8)
    def api_search(self): self.go("/api/v1/search?q=" + random.choice(QUERIES), "search: API")
    @task(4)
    def api_daily(self): self.go("/api/daily_papers?date=" + random.choice(DAYS), "API: daily_papers")
    @task(4)
    def api_paper(self): self.go("/api/papers/" + random.choice(PAPERS), "API: paper")
    @task(2)
    def upvote(self):
        self.client.post(random.choice(HOSTS) + "/api/v1/papers/" + random.choice(PAPERS) + "/upvote",
                         headers={"Authorization": "Bearer " + random.choice(TOKENS)}, name="upvote (API)")
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--db", default=os.environ.get("PAPERFEED_TEST_POSTGRES_URL"))
    parser.add_argument("--papers", type=int, default=1_000_000)
    parser.add_argument("--featured", type=int, default=50_000)
    parser.add_argument("--members", type=int, default=1_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/paperfeed-load"))
    parser.add_argument("--reuse", action="store_true", help="keep the store and indexes")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1, help="processes per node")
    parser.add_argument(
        "--rate",
        type=float,
        help="requests/s for one measured run (default: --shares of the capacity)",
    )
    parser.add_argument(
        "--shares", default="0.3,0.5,0.7", help="of the capacity: one latency run each"
    )
    args = parser.parse_args()
    if importlib.util.find_spec("locust") is None:
        sys.exit("Locust is missing: pip install -e '.[bench]' (or make install-bench)")
    if not args.db or not args.db.startswith("postgresql"):
        sys.exit("a PostgreSQL URL is needed: --db, or run under scripts/with-postgres")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    env = {**os.environ, "PAPERFEED_DB": args.db, "PAPERFEED_RATE_LIMITS": "false"}
    node_a, node_b = args.work / "node-a", args.work / "node-b"
    if not (args.reuse and (node_a / "search").exists()):
        build(
            node_a,
            args.data,
            args.papers,
            args.featured,
            {**env, "PAPERFEED_HOME": str(node_a)},
            args.db,
        )
        shutil.rmtree(node_b, ignore_errors=True)
        shutil.copytree(node_a, node_b, symlinks=True)  # (each node keeps its own index)
    engine = make_engine(args.db)
    upgrade(engine)
    prepare_inputs(engine, args.work, args.members)
    with engine.connect() as conn:
        papers = conn.scalar(select(func.count()).select_from(Paper)) or 0
        featured = conn.scalar(select(func.count()).select_from(FeedEntry)) or 0
    print(f"store: {papers:,} papers, {featured:,} featured, {args.members:,} members (PostgreSQL)")
    nodes, bases = [], []
    try:
        for home in (node_a, node_b):
            port = free_port()
            with (home / "serve.log").open("wb") as log:  # read it if a node misbehaves
                nodes.append(subprocess.Popen(
                    [sys.executable, "-m", "paperfeed", "serve", "--port", str(port),
                     "--workers", str(args.workers)],
                    env={**env, "PAPERFEED_HOME": str(home)}, stdout=subprocess.DEVNULL, stderr=log,
                ))  # fmt: skip
            bases.append(f"http://127.0.0.1:{port}")
            wait_until_up(bases[-1], nodes[-1])
            warm_up(bases[-1], args.work)
        if args.rate is None:
            full = measured(args, bases, None, nodes)
            capacity = float(full[-1]["Requests/s"])
            print(f"capacity: {capacity:.1f} requests/s")
            rates = [capacity * float(share) for share in args.shares.split(",")]
        else:
            rates = [args.rate]
        for rate in rates:
            measured(args, bases, rate, nodes)
        rss = [memory(node) for node in nodes]
    finally:
        for node in nodes:
            node.terminate()
            node.wait(20)
    print("node memory after the runs: "
          + ", ".join(f"RSS {r:.2f} GiB (PSS {p:.2f})" for r, p in rss))  # fmt: skip


def measured(
    args: argparse.Namespace,
    bases: list[str],
    rate: float | None,
    nodes: list[subprocess.Popen[bytes]],
) -> list[dict[str, str]]:
    """One Locust run, its table, and where the two cores' time went meanwhile."""
    before = cpu_seconds(nodes)
    rows = run_locust(args, bases, rate)
    after = cpu_seconds(nodes)
    report(rows)
    spent = {name: after[name] - before[name] for name in after}
    print("CPU seconds meanwhile: " + ", ".join(f"{name} {value:.0f}" for name, value in spent.items())
          + f" (of {2 * args.seconds} on two cores)")  # fmt: skip
    return rows


def processes(node: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """A node's processes: with ``--workers`` above 1, a supervisor and its workers."""
    parent = psutil.Process(node.pid)
    return [parent, *parent.children(recursive=True)]


def memory(node: subprocess.Popen[bytes]) -> tuple[float, float]:
    """A node's memory in GiB: the sum of its processes' RSS, and of their PSS, which counts
    the pages they share (with several workers: the mapped index and the model) once."""
    infos = [p.memory_full_info() for p in processes(node)]
    return sum(i.rss for i in infos) / 2**30, sum(i.pss for i in infos) / 2**30


def cpu_seconds(nodes: list[subprocess.Popen[bytes]]) -> dict[str, float]:
    """CPU time so far of each node, of PostgreSQL's processes, and of finished children
    (Locust)."""

    def used(process: psutil.Process) -> float:  # (PostgreSQL's ended backends: its children)
        times = process.cpu_times()
        return float(times.user + times.system + times.children_user + times.children_system)

    spent = {f"node {'AB'[n]}": sum(map(used, processes(node))) for n, node in enumerate(nodes)}
    postgres = 0.0
    for process in psutil.process_iter(["name"]):
        if (process.info["name"] or "").startswith("postgres"):
            with contextlib.suppress(psutil.Error):
                postgres += used(process)
    spent["PostgreSQL"] = postgres
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    spent["Locust"] = children.ru_utime + children.ru_stime
    return spent


def prepare_inputs(engine, work: Path, members: int) -> None:  # type: ignore[no-untyped-def]
    """The URLs' ingredients (days, papers, title words) and the members' tokens."""
    rng = random.Random(20261125)
    with engine.connect() as conn:
        days = sorted({str(d) for d in conn.scalars(select(FeedEntry.day).distinct())})
        ids = list(conn.scalars(select(Paper.id).order_by(func.random()).limit(5_000)))
        titles = list(conn.scalars(select(Paper.title).order_by(func.random()).limit(2_000)))
    queries = [" ".join(t.split()[: rng.randint(2, 4)]) for t in titles]
    now = dt.datetime.now(dt.UTC)
    made = []
    with write_transaction(engine) as conn:
        existing = (
            conn.execute(text("SELECT count(*) FROM users WHERE handle LIKE 'load%'")).scalar() or 0
        )
        for n in range(existing, members):
            user_id = conn.execute(text(
                "INSERT INTO users (email, handle, name, password_hash, created_at, email_confirmed_at, is_admin, public_votes) "
                "VALUES (:e, :h, :h, 'x', :now, :now, false, false) RETURNING id"
            ), {"e": f"load{n}@bench.example", "h": f"load{n}", "now": now}).scalar()  # fmt: skip
            member = Member(
                int(user_id or 0), f"load{n}@bench.example", f"load{n}", f"load{n}", True, False
            )
            made.append(tokens.create(conn, member, "load", now))
    token_file = work / "tokens.txt"
    if made:
        token_file.write_text("\n".join(made) + "\n")
    for name, values in (("days.txt", days), ("papers.txt", ids), ("queries.txt", queries)):
        (work / name).write_text("\n".join(values) + "\n")


def warm_up(base: str, work: Path) -> None:
    """The first search loads the model and maps the index: not part of the measurement."""
    queries = (work / "queries.txt").read_text().split("\n")[:5]
    papers = (work / "papers.txt").read_text().split("\n")[:5]
    for query, paper in zip(queries, papers, strict=True):
        for path in (f"/search?q={urllib.parse.quote(query)}", f"/papers/{paper}"):
            urllib.request.urlopen(base + path, timeout=120).read()  # noqa: S310  (our own node)


def run_locust(
    args: argparse.Namespace, bases: list[str], rate: float | None
) -> list[dict[str, str]]:
    """One Locust run: ``rate`` requests/s in all, or (None) as many as the nodes answer."""
    locustfile = args.work / "locustfile.py"
    locustfile.write_text(LOCUSTFILE)
    prefix = args.work / ("result-at-rate" if rate else "result-capacity")
    stats, failures = Path(f"{prefix}_stats.csv"), Path(f"{prefix}_failures.csv")
    stats.unlink(missing_ok=True)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "-u", str(args.users),
         "-r", str(args.users), "--run-time", f"{args.seconds}s", "--csv", str(prefix), "--only-summary"],
        env={**os.environ, "LOAD_HOSTS": " ".join(bases), "LOAD_DIR": str(args.work),
             "LOAD_USER_RATE": str(rate / args.users if rate else "")},
        check=False, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=args.seconds + 120,
    )  # fmt: skip
    if not stats.exists():  # (Locust exits 1 when a request failed, so its code says little)
        sys.exit(f"Locust produced no results (exit {done.returncode}):\n{done.stderr[-3000:]}")
    print(f"\nload: {args.users} simulated clients for {time.perf_counter() - started:.0f} s, "
          + (f"{rate:.1f} requests/s in all" if rate else "each sending as soon as answered")
          + "; two nodes, Locust on the same two cores")  # fmt: skip
    with failures.open() as rows:
        for row in csv.DictReader(rows):
            print(
                f"  error x{row['Occurrences']}: {row['Method']} {row['Name']}: {row['Error'][:200]}"
            )
    with stats.open() as rows:
        return list(csv.DictReader(rows))


def report(rows: list[dict[str, str]]) -> None:
    print(
        f"{'route':22s} {'requests':>9s} {'req/s':>7s} {'p50 ms':>7s} {'p95 ms':>7s} {'p99 ms':>7s}"
        f" {'errors':>7s}"
    )
    for row in rows:
        name = "all" if row["Name"] == "Aggregated" else row["Name"]
        print(f"{name:22s} {int(row['Request Count']):9,d} {float(row['Requests/s']):7.1f} "
              f"{float(row['50%']):7.0f} {float(row['95%']):7.0f} {float(row['99%']):7.0f}"
              f" {int(row['Failure Count']):7d}")  # fmt: skip


if __name__ == "__main__":
    main()
