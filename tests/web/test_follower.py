"""A serving node indexes what the store gains by itself, within seconds."""

from __future__ import annotations

import json
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from paperfeed.config import Settings
from paperfeed.ingest import ingest_file
from paperfeed.search.embedder import HashingEmbedder
from paperfeed.web.app import create_app


def test_new_papers_become_searchable_without_running_index(
    engine: Engine, site_home: Path, db_url: str
) -> None:
    settings = Settings(
        home=site_home, db=db_url, base_url="http://testserver", index_every="0.3s", embed=True
    )
    with TestClient(create_app(settings, HashingEmbedder)) as client:

        def found(mode: str) -> bool:
            body = client.get(
                "/api/v1/search", params={"q": "zeolite catalysis", "mode": mode}
            ).json()
            return any(r["id"] == "2611.00001" for r in body["results"])

        assert not found("keyword")
        fresh = site_home.parent / "fresh.jsonl"
        fresh.write_text(json.dumps({"id": "2611.00001", "title": "Zeolite catalysis at scale",
                                     "abstract": "Zeolite catalysis for everyone."}) + "\n")  # fmt: skip
        ingest_file(engine, "jsonl", fresh)
        deadline = time.monotonic() + 20
        while not (found("keyword") and found("semantic")):
            assert time.monotonic() < deadline, "the node did not index the new paper"
            time.sleep(0.2)
