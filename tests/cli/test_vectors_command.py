"""``paperfeed vectors export`` and ``import`` as a user runs them: vectors embedded in one
store, moved to a fresh one through a Parquet file, give the same search results there without
running the model on papers; a file of another model, or of another size, is refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from paperfeed.search.embedder import BUNDLED
from tests.cli.test_search_command import paperfeed
from tests.conftest import FIXTURES

PAPERS = FIXTURES / "arxiv-more-1-head300.jsonl"
QUERIES = ["hand gesture recognition", "graph neural networks", "protein structure"]


def store(home: Path, model_dir: Path) -> None:
    shutil.copytree(model_dir, home / "models")
    assert paperfeed(home, "init").returncode == 0
    assert paperfeed(home, "ingest", "arxiv-snapshot", PAPERS).returncode == 0


def found(home: Path, mode: str) -> dict[str, list[str]]:
    """Each of :data:`QUERIES`' results in ``mode`` (one batch search: one process)."""
    batch = home / "queries.jsonl"
    batch.write_text("".join(json.dumps({"query_id": q, "text": q}) + "\n" for q in QUERIES))
    done = paperfeed(home, "search", "--queries", batch, "--mode", mode, "--json", "--limit", "20")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    return {line["query_id"]: line["results"] for line in lines}


def test_exported_vectors_imported_into_a_fresh_store_search_alike(
    tmp_path: Path, model_dir: Path
) -> None:
    first, second, file = tmp_path / "first", tmp_path / "second", tmp_path / "vectors.parquet"
    store(first, model_dir)
    assert paperfeed(first, "index").returncode == 0  # embeds, then indexes
    exported = paperfeed(first, "vectors", "export", file)
    assert exported.returncode == 0 and "Wrote 300 vectors" in exported.stdout, exported.stderr
    assert pq.read_table(file).column("vector").type == pa.list_(pa.float16(), BUNDLED.dimensions)

    store(second, model_dir)
    imported = paperfeed(second, "vectors", "import", file)
    assert imported.returncode == 0 and "Imported 300 vectors" in imported.stdout, imported.stderr
    built = paperfeed(second, "index", "--no-embed")
    assert built.returncode == 0, built.stderr
    assert "Embedded" not in built.stdout
    nothing = paperfeed(second, "embed")  # every imported vector is current: nothing to embed
    assert "nothing to embed" in nothing.stdout, nothing.stdout + nothing.stderr
    for mode in ("semantic", "hybrid"):
        results = found(first, mode)
        assert len(results) == len(QUERIES) and any(results.values()), mode
        assert results == found(second, mode), mode


def test_a_file_of_another_model_or_size_is_refused(tmp_path: Path, model_dir: Path) -> None:
    home = tmp_path / "home"
    store(home, model_dir)
    for model, size in (("other-model", BUNDLED.dimensions), (BUNDLED.name, 8)):
        file = tmp_path / f"{model}-{size}.parquet"
        schema = pa.schema(
            [("paper_id", pa.string()), ("model", pa.string()), ("text_hash", pa.string()),
             ("vector", pa.list_(pa.float16(), size))],
            metadata={b"paperfeed.model": model.encode(), b"paperfeed.dimensions": str(size).encode()},
        )  # fmt: skip
        vectors = pa.FixedSizeListArray.from_arrays(pa.array([0.5] * size, pa.float16()), size)
        table = pa.Table.from_arrays(
            [pa.array(["1904.11093"]), pa.array([model]), pa.array([""]), vectors], schema=schema
        )
        pq.write_table(table, file)
        refused = paperfeed(home, "vectors", "import", file)
        assert refused.returncode == 1
        assert f"holds vectors by {model} ({size} dimensions)" in refused.stderr
        assert (
            f"this store's model is {BUNDLED.name} ({BUNDLED.dimensions} dimensions)"
            in refused.stderr
        )
    not_parquet = tmp_path / "notes.parquet"
    not_parquet.write_text("hello")
    refused = paperfeed(home, "vectors", "import", not_parquet)
    assert refused.returncode == 1 and "is not a Parquet file" in refused.stderr


def test_an_unknown_model_is_refused_before_any_command(tmp_path: Path) -> None:
    home = tmp_path / "home"
    for command in (["status"], ["embed"], ["index"]):
        shown = paperfeed(home, "--model", "all-MiniLM-L7", *command)
        assert shown.returncode == 1, (command, shown.stdout)
        assert "--model:" in shown.stderr and "all-MiniLM-L6-v2-int8" in shown.stderr, shown.stderr
