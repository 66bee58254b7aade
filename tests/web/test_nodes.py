"""Two web nodes on one PostgreSQL, as deployed: real `paperfeed serve` processes on loopback
ports, each with its own data directory and search index. What happens through node A is seen
through node B (the paper, its vote, the search hit) within seconds; with node A killed, node B
still serves and still sends the digest."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import insert

from paperfeed.ingest_daily import ingest_daily_papers
from paperfeed.models import Subscription
from paperfeed.services import tokens
from paperfeed.services.accounts import confirm, confirmation_token, sign_up
from paperfeed.store.engine import make_engine, write_transaction
from paperfeed.store.migrate import upgrade
from tests.conftest import new_postgres_database
from tests.servers import Inbox, free_port, serve_process, smtp_server
from tests.sources.replay import Replay
from tests.sync.conftest import recorded
from tests.web.conftest import DAILY

SECRET = "the same key on every node"
TITLE = "Proceedings of Workshop AEW10: Concepts in Information Theory and Communications"


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"not within {seconds} s: {what}")


@pytest.fixture
def arxiv() -> Iterator[Replay]:
    server = Replay()
    server.add(
        "/api/query", {"id_list": "1707.08567"}, recorded("id_1707.08567_s0_m100_6a1afebfc6a3.json")
    )
    with server.running():
        yield server


def start_node(
    home: Path, url: str, model_dir: Path, inbox: Inbox, arxiv: Replay
) -> tuple[subprocess.Popen[bytes], str]:
    shutil.copytree(model_dir, home / "models")  # (spares each node the model's ONNX export)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ, "PAPERFEED_HOME": str(home), "PAPERFEED_DB": url, "PAPERFEED_SECRET_KEY": SECRET,
        "PAPERFEED_BASE_URL": base, "PAPERFEED_SMTP_HOST": "127.0.0.1", "PAPERFEED_SMTP_PORT": str(inbox.port),
        "PAPERFEED_SMTP_SECURITY": "none", "PAPERFEED_ARXIV_API_URL": arxiv.url + "/api/query",
        "PAPERFEED_DIGEST_CHECK_EVERY": "1",
    }  # fmt: skip
    built = subprocess.run(
        [sys.executable, "-m", "paperfeed", "index"], env=env, capture_output=True, timeout=300
    )
    assert built.returncode == 0, built.stderr  # a node's first index, as docs/deploy.md says
    process = serve_process(
        home / "node.log", env, port, "--index-every", "1s", "--digest-at", "00:00", "--embed"
    )  # (--embed: a submitted paper gets its vector, so the relevance floor can judge it)
    wait_for(
        lambda: httpx.get(base + "/", timeout=2).status_code == 200, 60, f"node on {base} answers"
    )
    return process, base


def test_two_nodes_share_one_postgresql(tmp_path: Path, model_dir: Path, arxiv: Replay) -> None:
    with new_postgres_database() as url, smtp_server() as inbox:
        engine = make_engine(url)
        upgrade(engine)
        ingest_daily_papers(engine, DAILY)
        now = dt.datetime.now(dt.UTC)
        with write_transaction(engine) as conn:
            member = sign_up(conn, "ada@lab.org", "ada", "Ada", "a long enough password", now)
            confirm(conn, SECRET, confirmation_token(conn, SECRET, member.id), now)
            token = tokens.create(conn, member, "script", now)
        nodes = []
        try:
            for name in ("a", "b"):
                nodes.append(start_node(tmp_path / name, url, model_dir, inbox, arxiv))
            (node_a, a), (_, b) = nodes
            auth = {"Authorization": f"Bearer {token}"}

            submitted = httpx.post(
                a + "/api/v1/submit", json={"arxiv": "1707.08567"}, headers=auth, timeout=30
            )
            assert submitted.status_code == 201, submitted.text
            paper = httpx.get(
                b + "/api/v1/papers/1707.08567", timeout=5
            ).json()  # the store is shared
            assert paper["title"] == TITLE and paper["upvotes"] == 1

            def found_on_b() -> bool:
                answer = httpx.get(
                    b + "/api/v1/search",
                    params={"q": "AEW10 workshop information theory"},
                    timeout=5,
                )
                return answer.status_code == 200 and "1707.08567" in [
                    h["id"] for h in answer.json()["results"]
                ]

            wait_for(found_on_b, 30, "node B's index follows the store and finds the paper")

            node_a.send_signal(signal.SIGKILL)
            node_a.wait(10)
            assert httpx.get(b + "/papers/1707.08567", timeout=5).status_code == 200
            with write_transaction(engine) as conn:
                conn.execute(insert(Subscription).values(
                    email="reader@lab.org", status="active", created_at=now, confirmed_at=now, cadence="daily",
                ))  # fmt: skip
            wait_for(
                lambda: any(
                    m["To"] == "reader@lab.org" and m["List-Unsubscribe"] for m in inbox.messages
                ),
                30,
                "node B sends the digest with node A gone",
            )
            digest = [m for m in inbox.messages if m["To"] == "reader@lab.org"]
            assert len(digest) == 1 and b in digest[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
        finally:
            for process, _ in nodes:
                process.kill()
                process.wait(10)
            engine.dispose()
