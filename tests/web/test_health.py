"""``/healthz`` and ``/readyz``: ready only once the node is warm (store answers, model
loaded, indexes open and read), 503 with the reason before that, and while the store is down."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from paperfeed.config import Settings
from paperfeed.search.embedder import HashingEmbedder
from paperfeed.store.engine import make_engine
from paperfeed.store.migrate import upgrade
from paperfeed.web.app import create_app
from tests.postgres_server import own_postgres
from tests.web.conftest import fill_store


def ready_within(site: TestClient, seconds: float) -> dict[str, object]:
    deadline = time.monotonic() + seconds
    while True:
        answer = site.get("/readyz")
        if answer.status_code == 200 or time.monotonic() > deadline:
            body: dict[str, object] = answer.json()
            return body
        assert answer.status_code == 503 and answer.json()["reason"]
        time.sleep(0.05)


def test_ready_once_warm(site_home: Path, db_url: str) -> None:
    settings = Settings(home=site_home, db=db_url, base_url="http://testserver")
    with TestClient(create_app(settings, HashingEmbedder)) as site:
        assert site.get("/healthz").text == "ok\n"
        assert ready_within(site, 30) == {"ready": True}


def test_not_ready_without_an_index(engine: object, db_url: str, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, db=db_url, base_url="http://testserver")
    with TestClient(create_app(settings, HashingEmbedder)) as site:
        time.sleep(1.0)
        answer = site.get("/readyz")
        assert answer.status_code == 503
        assert answer.json() == {"ready": False, "reason": "there is no search index yet"}
        assert site.get("/healthz").status_code == 200


def test_not_ready_while_the_store_is_down(tmp_path: Path) -> None:
    with own_postgres() as server:
        engine = make_engine(server.url)
        upgrade(engine)
        fill_store(engine, tmp_path)
        engine.dispose()
        settings = Settings(home=tmp_path, db=server.url, base_url="http://testserver")
        with TestClient(create_app(settings, HashingEmbedder)) as site:
            assert ready_within(site, 30) == {"ready": True}
            server.stop()
            down = site.get("/readyz")
            assert down.status_code == 503
            assert down.json() == {"ready": False, "reason": "the store is not answering"}
            assert site.get("/healthz").status_code == 200
            server.start()
            assert ready_within(site, 30) == {"ready": True}
