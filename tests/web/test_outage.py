"""PostgreSQL stopped under a running site: pages and the API answer 503 with a clear message
at once (no hang, no stack trace), and the site comes back by itself when the server does."""

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


def test_a_stopped_database_gives_503_then_the_site_recovers(tmp_path: Path) -> None:
    with own_postgres() as server:
        engine = make_engine(server.url)
        upgrade(engine)
        fill_store(engine, tmp_path)
        engine.dispose()
        app = create_app(
            Settings(home=tmp_path, db=server.url, base_url="http://testserver"), HashingEmbedder
        )
        with TestClient(app) as site:
            assert site.get("/").status_code == 200
            assert site.get("/papers/1812.06145").status_code == 200

            server.stop()
            for path in ("/", "/papers/1812.06145", "/search?q=gesture"):
                started = time.monotonic()
                down = site.get(path)
                assert time.monotonic() - started < 1.0, path
                assert down.status_code == 503 and "The database is not answering" in down.text, (
                    path
                )
                assert down.headers["retry-after"] == "5" and "Traceback" not in down.text
            api = site.get("/api/daily_papers")
            assert api.status_code == 503 and "not answering" in api.json()["detail"]

            server.start()
            assert site.get("/").status_code == 200  # by itself: no restart of the site
            assert site.get("/api/daily_papers").status_code == 200
