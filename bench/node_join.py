"""A new node joins a store that already holds every paper's vector: how long until it answers.

How the data is made (as ``bench/search_latency.py`` makes it): the real arXiv records of the
shared data folder are stored over and over with new ids (``bench:N``) until ``--papers``
(default 1,000,000); titles, abstracts, authors and categories are real. ``--embedded``
(default 5,000) real records are embedded by a real ``paperfeed embed`` worker (code path of
``embed_backlog``, on a small store of their own: that run gives one worker's throughput);
every other paper's stored vector is the vector of one of those plus Gaussian noise (sigma
0.02 per dimension, renormalised), written straight into ``paper_vectors`` as float16.

Then a node starts from nothing — an empty data directory, ``paperfeed serve`` on the store —
and the bench polls it: the time until keyword search answers, until semantic search answers
(exactly, from the vectors read so far), until the HNSW graph is built and searches use it,
and the node's peak RSS and PSS (all its processes). Also printed: the store's size per million
vectors. Usage:

    python bench/node_join.py [--data ../shared/data] [--papers 1000000] [--db URL] [--work DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import psutil
from sqlalchemy import text

import paperfeed.search  # noqa: F401  (loads ONNX Runtime before usearch)
from paperfeed.models import PaperVector, table_of
from paperfeed.search.documents import IndexedPaper
from paperfeed.search.embedder import MiniLMEmbedder
from paperfeed.search.workers import embed_backlog
from paperfeed.sources.record import PaperRecord
from paperfeed.store.bulk import insert_rows
from paperfeed.store.engine import make_engine, write_transaction
from paperfeed.store.migrate import upgrade
from paperfeed.store.papers import upsert_papers
from paperfeed.store.vectors import encode, text_hash, vectors_since

sys.path.insert(0, str(Path(__file__).parent))
from index_build import real_papers

ROOT = Path(__file__).resolve().parents[1]
BATCH = 5_000
QUERY = "graph neural networks for molecules"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--papers", type=int, default=1_000_000)
    parser.add_argument("--embedded", type=int, default=5_000)
    parser.add_argument("--db", default=None, help="the store (default: SQLite in --work)")
    parser.add_argument("--work", type=Path, default=None, help="default: a temporary folder")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds for the join")
    parser.add_argument("--prepare-only", action="store_true", help="make the store, stop")
    parser.add_argument("--join-only", action="store_true", help="join the store in --work")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; load average at start {os.getloadavg()}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="paperfeed-join-") as temp:
        work = args.work or Path(temp)
        work.mkdir(parents=True, exist_ok=True)
        url = args.db or f"sqlite:///{work / 'store.db'}"
        models = work / "models"
        if not args.join_only:
            base = worker_throughput(work, models, args.data, args.embedded)
            fill_store(url, args.data, args.papers, base)
            store_size(url, work, args.papers)
        if args.join_only:  # (the preparing run's figure was taken on a busier machine)
            started = time.perf_counter()
            engine = make_engine(url)
            upgrade(engine)  # a store prepared by an older paperfeed: its migrations first
            engine.dispose()
            print(
                f"store migrated to this paperfeed's schema in {time.perf_counter() - started:.0f} s"
            )
            (work / "worker.db").unlink(missing_ok=True)
            worker_throughput(work, models, args.data, args.embedded)
        if not args.prepare_only:
            shutil.rmtree(work / "node", ignore_errors=True)
            join(url, work / "node", models, args.timeout)
    print(f"load average at the end {os.getloadavg()}")


def worker_throughput(work: Path, models: Path, data: Path, count: int) -> np.ndarray:
    """One worker embeds ``count`` real papers into a small store; their vectors come back."""
    engine = make_engine(f"sqlite:///{work / 'worker.db'}")
    upgrade(engine)
    real = list(real_papers(data, count))
    with write_transaction(engine) as conn:
        upsert_papers(conn, [record(p, p.id) for p in real], "bench", dt.datetime.now(dt.UTC))
    embedder = MiniLMEmbedder(models)
    report = embed_backlog(engine, embedder)
    print(f"one worker (paperfeed embed's code, SQLite, {embedder.name}): {report.embedded:,} "
          f"papers in {report.seconds:.0f} s = {report.rate:.1f} papers/s")  # fmt: skip
    with engine.connect() as conn:
        stored = {
            row.paper_id: row.vector for row in vectors_since(conn, embedder.name, 384, None, count)
        }
    engine.dispose()
    return np.stack([stored[p.id].astype(np.float32) for p in real])


def record(paper: IndexedPaper, paper_id: str) -> PaperRecord:
    return PaperRecord(id=paper_id, title=paper.title, abstract=paper.abstract,
                       authors=list(paper.authors), categories=list(paper.categories))  # fmt: skip


def fill_store(url: str, data: Path, total: int, base: np.ndarray) -> None:
    engine = make_engine(url)
    upgrade(engine)
    real = list(real_papers(data, 200_000))
    rng = np.random.default_rng(20261125)
    table = table_of(PaperVector)
    started = time.perf_counter()
    for start in range(0, total, BATCH):
        rows = range(start, min(start + BATCH, total))
        now = dt.datetime.now(dt.UTC)
        papers = [record(real[n % len(real)], f"bench:{n}") for n in rows]
        noise = rng.normal(0, 0.02, (len(papers), base.shape[1])).astype(np.float32)
        chunk = base[np.asarray(rows) % len(base)] + noise
        chunk /= np.linalg.norm(chunk, axis=1, keepdims=True)
        with write_transaction(engine) as conn:
            upsert_papers(conn, papers, "bench", now)
            insert_rows(conn, table, ("paper_id", "model", "dimensions", "vector", "text_hash",
                                      "paper_updated_at", "created_at"),
                        [(p.id, "all-MiniLM-L6-v2-int8", 384, encode(v),
                          text_hash(f"{p.title}. {p.abstract}"), now, now)
                         for p, v in zip(papers, chunk, strict=True)])  # fmt: skip
    print(
        f"store: {total:,} papers with their vectors written in {time.perf_counter() - started:.0f} s"
    )
    engine.dispose()


def store_size(url: str, work: Path, total: int) -> None:
    engine = make_engine(url)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            size = int(conn.scalar(text("SELECT pg_total_relation_size('paper_vectors')")) or 0)
            what = "paper_vectors with its indexes"
        else:
            size = int(conn.scalar(text(
                "SELECT SUM(pgsize) FROM dbstat WHERE name IN "
                "('paper_vectors', 'ix_paper_vectors_model_cursor', 'sqlite_autoindex_paper_vectors_1')"
            )) or 0)  # fmt: skip
            what = "paper_vectors with its indexes (SQLite dbstat)"
    engine.dispose()
    print(f"store size of the vectors: {size / 2**30:.2f} GiB for {total:,} = "
          f"{size / total * 1e6 / 2**30:.2f} GiB per million vectors ({what})")  # fmt: skip


def join(url: str, home: Path, models: Path, timeout: float) -> None:
    home.mkdir(parents=True)
    shutil.copytree(models, home / "models")  # for the words of queries; papers are never embedded
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PAPERFEED_HOME": str(home),
        "PAPERFEED_DB": url,
        "PAPERFEED_RATE_LIMITS": "0",
    }
    command = [
        sys.executable,
        "-m",
        "paperfeed",
        "serve",
        "--port",
        str(port),
        "--index-every",
        "1s",
    ]
    started = time.monotonic()
    log = (home.parent / "node.log").open("wb")
    node = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    marks: dict[str, float] = {}
    peak, peak_at, peak_pss = 0, 0.0, 0
    try:
        while len(marks) < 5 and time.monotonic() - started < timeout:
            rss, pss = _memory(node.pid)
            elapsed = time.monotonic() - started
            if rss > peak:
                peak, peak_at = rss, elapsed
            peak_pss = max(peak_pss, pss)
            if "answers" not in marks and _answers(base, "/healthz"):
                marks["answers"] = elapsed
            if "keyword" not in marks and _search(base, "keyword"):
                marks["keyword"] = elapsed
            if "semantic" not in marks and _search(base, "semantic"):
                marks["semantic"] = elapsed
            if "ready" not in marks and _answers(base, "/readyz"):
                marks["ready"] = elapsed
            if "graph" not in marks and _graph_built(home):
                marks["graph"] = elapsed
            time.sleep(0.5)
        for name, label in (("answers", "node answers HTTP"), ("keyword", "keyword search works"),
                            ("semantic", "semantic search answers"), ("ready", "/readyz says ready"),
                            ("graph", "HNSW graph built")):  # fmt: skip
            shown = f"{marks[name]:.0f} s" if name in marks else f"not within {timeout:.0f} s"
            print(f"new node, {label}: {shown}")
        print(f"new node, peak RSS (all its processes): {peak / 2**30:.2f} GiB, at {peak_at:.0f} s")
        # RSS counts a file's pages once per mapping (the flat chunks are mapped by the
        # searcher and by the graph's build); PSS shares them out, so it is the memory used.
        print(f"new node, peak PSS (all its processes): {peak_pss / 2**30:.2f} GiB")
    finally:
        node.send_signal(signal.SIGTERM)
        node.wait(30)


def _answers(base: str, path: str) -> bool:
    try:
        return httpx.get(base + path, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _search(base: str, mode: str) -> bool:
    try:
        answer = httpx.get(base + "/api/v1/search", params={"q": QUERY, "mode": mode}, timeout=30)
    except httpx.HTTPError:
        return False
    if answer.status_code != 200:
        return False
    body = answer.json()
    return bool(body["results"]) and not body.get("notes")


def _graph_built(home: Path) -> bool:
    current = home / "search" / "current"
    return (current / "vectors.usearch").exists() and not (current / "flat").exists()


def _memory(pid: int) -> tuple[int, int]:
    """RSS and PSS of the node and its children, summed."""
    rss = pss = 0
    try:
        process = psutil.Process(pid)
        for each in [process, *process.children(recursive=True)]:
            info = each.memory_full_info()
            rss, pss = rss + info.rss, pss + info.pss
    except psutil.Error:
        pass
    return rss, pss


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


if __name__ == "__main__":
    main()
