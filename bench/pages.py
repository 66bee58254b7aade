"""Page and API latency with a million papers: p50/p99 per route from a real load generator.

How the data is made: a 1,000,000-line snapshot file is built from the real arXiv records of
the shared data folder exactly as ``bench/ingest.py`` builds it (real text, distinct ids) and
imported with ``paperfeed ingest arxiv-snapshot`` into SQLite. ``--featured`` (default 50,000)
papers picked at random are featured, 100 a day on the days before 2026-11-25, with synthetic
upvotes (a Zipf-like draw, most papers a few votes, some hundreds) and comment counts. The
search index is built like ``bench/search_latency.py``'s: the keyword index by the real indexer,
the vectors from 5,000 real embeddings with small noise for the rest (embedding a million
abstracts takes four hours), so paper pages show real "similar papers" lookups.

The site runs as ``paperfeed serve`` (one Uvicorn worker) and ``wrk`` (Debian's package) hits
each route for ``--seconds`` with one connection, so the latency is the server's time for one
request plus loopback, with no queueing; a second run with 8 connections shows the throughput
two cores sustain. Each route's requests are spread over many URLs (random papers, days).

``--cold`` measures a node's first requests instead (issue 20: "ready means warm"). For each
route on its own: the OS page cache is dropped (``/proc/sys/vm/drop_caches``, as root; else
the store's, index's and model's pages are evicted with ``posix_fadvise``; the output says which
worked and how much of those files was still cached), ``paperfeed serve`` is started fresh,
``/readyz`` is polled until it says 200, then the route's first 1,000 requests go out on one
connection (a keep-alive ``http.client`` connection: ``wrk`` counts by time, not
requests; random URLs as above) and their p50/p99 are printed with what the server read from
disk meanwhile; then ``--seconds`` of ``wrk`` on the route (its p99 is printed too) and 1,000
more requests by the same client, whose p99 is the warm one; the ratio must be at most 3.
A fresh start per route, because a route's first requests after another route's have found
the shared caches (store pages, index, model, code) warm, so they are not a cold start.
Usage:

    python bench/pages.py [--data ../shared/data] [--papers 1000000] [--featured 50000]
                          [--work /tmp/paperfeed-pages] [--reuse] [--seconds 10]
                          [--cold] [--first 1000] [--routes "paper page,api daily_papers"]
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import psutil
from sqlalchemy import bindparam, func, insert, select, update

import paperfeed.search  # noqa: F401  (loads ONNX Runtime before usearch)
from paperfeed.models import FeedEntry, Paper
from paperfeed.search import indexer
from paperfeed.search.documents import paper_key
from paperfeed.search.embedder import MiniLMEmbedder
from paperfeed.search.vectors import VectorIndex
from paperfeed.store.engine import make_engine, write_transaction

sys.path.insert(0, str(Path(__file__).parent))
from ingest import build_file

ROOT = Path(__file__).resolve().parents[1]
LAST_DAY = dt.date(2026, 11, 24)
PER_DAY = 100
WRK_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("PATHS_FILE")) do paths[#paths + 1] = line end
math.randomseed(7)
request = function() return wrk.format("GET", paths[math.random(#paths)]) end
"""
#: What a node's first requests may cost, as a multiple of its warm p99 (issue 20).
COLD_LIMIT = 3.0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--papers", type=int, default=1_000_000)
    parser.add_argument("--featured", type=int, default=50_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/paperfeed-pages"))
    parser.add_argument("--reuse", action="store_true", help="keep the store and index in --work")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--cold", action="store_true", help="first requests after a fresh start")
    parser.add_argument("--first", type=int, default=1_000, help="requests counted as first")
    parser.add_argument("--routes", help="comma-separated route names (default: all)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    env = {**os.environ, "PAPERFEED_HOME": str(args.work), "PAPERFEED_DB": ""}
    env.pop("PAPERFEED_DB")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    if not (args.reuse and (args.work / "paperfeed.db").exists()):
        build(args.work, args.data, args.papers, args.featured, env)
    else:  # a store kept from an earlier run may predate a migration
        subprocess.run([sys.executable, "-m", "paperfeed", "init"], env=env, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
    engine = make_engine(f"sqlite:///{args.work / 'paperfeed.db'}")
    with engine.connect() as conn:
        papers = conn.scalar(select(func.count()).select_from(Paper)) or 0
        featured = conn.scalar(select(func.count()).select_from(FeedEntry)) or 0
        ids = list(conn.scalars(select(Paper.id).order_by(func.random()).limit(5_000)))
        days = sorted(set(conn.scalars(select(FeedEntry.day).distinct())))
    print(f"store: {papers:,} papers, {featured:,} featured on {len(days):,} days (SQLite)")
    routes = {
        "feed (a day)": [f"/?date={d}" for d in days],
        "feed (a week)": [f"/?week={d.isocalendar()[0]}-W{d.isocalendar()[1]:02d}" for d in days],
        "trending": ["/trending"],
        "paper page": [f"/papers/{i}" for i in ids],
        "api daily_papers": [f"/api/daily_papers?date={d}" for d in days],
        "api paper": [f"/api/papers/{i}" for i in ids],
    }
    if args.routes:
        routes = {name: routes[name] for name in args.routes.split(",")}
    if args.cold:
        cold_start(routes, args.work, env, args.first, args.seconds)
        return
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "paperfeed", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, server)
        for paths in routes.values():  # warm up: first requests open the index and the model
            for path in paths[:20]:
                urllib.request.urlopen(base + path).read()  # noqa: S310  (our own loopback server)
        print(
            f"{'route':18s} {'p50':>8s} {'p99':>8s} {'req/s (1 conn)':>15s} {'req/s (8 conn)':>15s}  errors"
        )
        for name, paths in routes.items():
            one = wrk(base, paths, args.seconds, 1, args.work)
            eight = wrk(base, paths, args.seconds, 8, args.work)
            print(
                f"{name:18s} {one['p50']:6.1f} ms {one['p99']:6.1f} ms {one['rps']:15,.0f} "
                f"{eight['rps']:15,.0f}  {one['errors'] + eight['errors']}"
            )
        print(
            f"server RSS after the runs: {psutil.Process(server.pid).memory_info().rss / 2**30:.2f} GiB"
        )
    finally:
        server.terminate()
        server.wait(10)


def cold_start(
    routes: dict[str, list[str]], work: Path, env: dict[str, str], first: int, seconds: int
) -> None:
    """Each route's first requests after a fresh start with empty caches, against its warm p99."""
    print(
        f"cold start: per route, drop the page cache, start the server, wait for /readyz, then "
        f"the route's first {first:,} requests (1 connection), then {seconds} s of wrk on it, then "
        f"{first:,} more (warm)"
    )
    print(f"load average before: {load()}")
    results = []
    for name, paths in routes.items():
        dropped = drop_caches(work)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        started = time.monotonic()
        log = (work / "serve.log").open("ab")
        server = subprocess.Popen(
            [sys.executable, "-m", "paperfeed", "serve", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
        try:
            wait_until_ready(base, server)
            ready = time.monotonic() - started
            before = psutil.Process(server.pid).io_counters().read_bytes
            cold = some_requests(port, paths, first, seed=7)
            cold["disk"] = (psutil.Process(server.pid).io_counters().read_bytes - before) / 2**20
            by_wrk = wrk(base, paths, seconds, 1, work)
            warm = some_requests(port, paths, first, seed=8)
        finally:
            server.terminate()
            server.wait(10)
            log.close()
        ratio = cold["p99"] / warm["p99"]
        results.append((name, cold, warm, by_wrk, ratio))
        print(
            f"{name}: {dropped}; ready after {ready:.1f} s; first {first:,}: "
            f"p50 {cold['p50']:.1f} ms, p99 {cold['p99']:.1f} ms, max {cold['max']:.0f} ms, "
            f"{cold['disk']:.1f} MiB read from disk; warm {first:,}: p99 {warm['p99']:.1f} ms; "
            f"wrk {seconds} s: p99 {by_wrk['p99']:.1f} ms; load {load()}",
            flush=True,
        )
    print(
        f"\n{'route':18s} {'first p50':>10s} {'first p99':>10s} {'disk':>9s} {'warm p50':>9s} "
        f"{'warm p99':>9s} {'wrk p99':>9s} {'ratio':>6s}  meets <= {COLD_LIMIT:g}x"
    )
    for name, cold, warm, by_wrk, ratio in results:
        print(
            f"{name:18s} {cold['p50']:7.1f} ms {cold['p99']:7.1f} ms {cold['disk']:5.1f} MiB "
            f"{warm['p50']:6.1f} ms {warm['p99']:6.1f} ms {by_wrk['p99']:6.1f} ms {ratio:6.2f}  "
            f"{'yes' if ratio <= COLD_LIMIT else 'NO'}"
        )
    print(
        f"(first: the first {first:,} requests after /readyz said 200, disk: what the server read "
        f"from disk meanwhile; warm: {first:,} more on the same connection after {seconds} s of "
        f"wrk on the route; ratio = first p99 / warm p99, both measured by the same client)"
    )
    print(f"load average after: {load()}")


def some_requests(port: int, paths: list[str], count: int, seed: int) -> dict[str, float]:
    """p50, p99 and max of ``count`` requests sent one after the other on one connection."""
    rng = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    took = []
    for _ in range(count):
        started = time.perf_counter()
        connection.request("GET", rng.choice(paths))
        answer = connection.getresponse()
        answer.read()
        took.append((time.perf_counter() - started) * 1000)
        if answer.status != 200:
            sys.exit(f"{answer.status} from the server")
    connection.close()
    p50, p99 = np.percentile(took, [50, 99])
    return {"p50": float(p50), "p99": float(p99), "max": max(took), "requests": len(took)}


def drop_caches(work: Path) -> str:
    """Empty the OS page cache (all of it as root, else this bench's files); say what worked."""
    subprocess.run(["sync"], check=True)
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        how = "page cache dropped (drop_caches)"
    except OSError as error:
        for path in work.rglob("*"):
            if path.is_file():
                handle = os.open(path, os.O_RDONLY)
                try:
                    os.posix_fadvise(handle, 0, 0, os.POSIX_FADV_DONTNEED)
                finally:
                    os.close(handle)
        how = f"drop_caches refused ({error.strerror}): this bench's files evicted (fadvise)"
    return f"{how}, {cached_mib(work):.0f} MiB of {work} still cached"


def cached_mib(work: Path) -> float:
    """How much of the store, index and model files the page cache holds (``fincore``)."""
    files = [str(path) for path in work.rglob("*") if path.is_file()]
    done = subprocess.run(
        ["fincore", "--bytes", "--noheadings", "--raw", "--output", "RES", *files],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return sum(int(line) for line in done.stdout.split()) / 2**20


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def build(
    work: Path, data: Path, papers: int, featured: int, env: dict[str, str], url: str | None = None
) -> list[str]:
    """The store (SQLite in ``work``, or ``url``) and ``work``'s search index; the paper ids."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    url = url or f"sqlite:///{work / 'paperfeed.db'}"
    env = {**env, "PAPERFEED_DB": url}
    snapshot = work / "snapshot.jsonl"
    build_file(data, snapshot, papers)
    started = time.perf_counter()
    for command in (["init"], ["ingest", "arxiv-snapshot", str(snapshot)]):
        subprocess.run([sys.executable, "-m", "paperfeed", *command], env=env, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
    snapshot.unlink()
    print(f"imported the {papers:,}-line file in {time.perf_counter() - started:.0f} s")
    engine = make_engine(url)
    rng = random.Random(20261125)
    with engine.connect() as conn:
        all_ids = list(conn.scalars(select(Paper.id)))
    chosen = rng.sample(all_ids, featured)
    now = dt.datetime.now(dt.UTC)
    with write_transaction(engine) as conn:
        conn.execute(
            insert(FeedEntry),
            [
                {"paper_id": paper_id, "day": LAST_DAY - dt.timedelta(days=n // PER_DAY),
                 "submitter": f"member{rng.randrange(1000)}", "submitter_name": None,
                 "submitted_at": now, "hidden": False}
                for n, paper_id in enumerate(chosen)
            ],
        )  # fmt: skip
        votes = np.random.default_rng(7).zipf(1.8, len(chosen)).clip(0, 500) - 1
        conn.execute(
            update(Paper)
            .where(Paper.id == bindparam("paper"))
            .values(upvotes=bindparam("votes"), num_comments=bindparam("b_comments")),
            [
                {"paper": paper_id, "votes": count, "b_comments": count // 7}
                for paper_id, count in zip(chosen, votes.tolist(), strict=True)
            ],
        )
    print(f"featured {featured:,} papers, {PER_DAY} a day, synthetic Zipf upvotes")
    build_index(work, all_ids, url)
    return all_ids


def build_index(home: Path, ids: list[str], url: str) -> None:
    """Keyword index by the indexer; vectors: 5,000 real embeddings plus noise for the rest."""
    started = time.perf_counter()
    folder = indexer._new_generation(home)
    indexer._switch(home, folder)
    engine = make_engine(url)
    state = indexer.IndexState(embedder="all-MiniLM-L6-v2-int8")
    indexer._follow_keywords(engine, folder, state, None)
    with engine.connect() as conn:
        sample = indexer.load_papers(conn, ids[:5_000])
    embedder = MiniLMEmbedder(home / "models")
    base = embedder.embed_documents([p.text for p in sample])
    rng = np.random.default_rng(20261125)
    vectors = VectorIndex(folder, embedder.dimensions, indexer.VECTOR_DTYPE)
    for start in range(0, len(ids), 50_000):
        rows = np.arange(start, min(start + 50_000, len(ids)))
        chunk = base[rows % len(base)] + rng.normal(0, 0.02, (len(rows), base.shape[1])).astype(
            np.float32
        )
        chunk /= np.linalg.norm(chunk, axis=1, keepdims=True)
        vectors.index.add(np.asarray([paper_key(ids[i]) for i in rows], dtype=np.uint64), chunk)
    vectors.save()
    with engine.connect() as conn:
        last = conn.execute(
            select(Paper.updated_at, Paper.id)
            .order_by(Paper.updated_at.desc(), Paper.id.desc())
            .limit(1)
        ).one()
    state.vector_cursor = (last.updated_at, last.id)
    state.save(folder)
    print(
        f"index built in {time.perf_counter() - started:.0f} s (keyword: real indexer; vectors: 5,000 real + noisy copies)"
    )


def wrk(
    base: str, paths: list[str], seconds: int, connections: int, work: Path
) -> dict[str, float]:
    script = work / "paths.lua"
    script.write_text(WRK_SCRIPT)
    listing = work / "paths.txt"
    listing.write_text("\n".join(paths) + "\n")
    done = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), base],
        capture_output=True, text=True, check=True,
        env={**os.environ, "PATHS_FILE": str(listing)},
    )  # fmt: skip
    out = done.stdout
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return {
        "p50": _ms(re.search(r"50%\s+([\d.]+\w+)", out)),
        "p99": _ms(re.search(r"99%\s+([\d.]+\w+)", out)),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),  # type: ignore[index]
        "errors": errors,
    }


def _ms(match: re.Match[str] | None) -> float:
    assert match is not None
    value = match[1]
    number = float(re.match(r"[\d.]+", value)[0])  # type: ignore[index]
    unit = value[len(re.match(r"[\d.]+", value)[0]) :]  # type: ignore[index]
    return number * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            said = server.stderr.read().decode() if server.stderr else "(see its log)"
            sys.exit(f"the server stopped: {said}")
        try:
            urllib.request.urlopen(base + "/about", timeout=2).read()  # noqa: S310
            return
        except OSError:
            time.sleep(0.2)
    sys.exit("the server did not start")


def wait_until_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    """Poll ``/readyz`` until it says 200, as a load balancer would."""
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the server stopped (see {base}'s serve.log)")
        try:
            urllib.request.urlopen(base + "/readyz", timeout=2).read()  # noqa: S310
            return
        except OSError:  # (503 raises HTTPError, an OSError, too)
            time.sleep(0.2)
    sys.exit("the server did not get ready")


if __name__ == "__main__":
    main()
