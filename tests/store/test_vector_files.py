"""Vectors to and from Parquet files, against files nobody exported: a file is checked whole
before anything is written, so a bad row anywhere leaves the store as it was; a vector that is
no direction (NaN, infinite, zero) or a paper given twice is refused; a page of papers the
store lacks is skipped, not a crash; an export that fails leaves no file behind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, delete

from paperfeed.models import PaperKeyphrases, PaperVector
from paperfeed.search.embedder import HashingEmbedder
from paperfeed.search.workers import embed_backlog
from paperfeed.store import vector_files
from paperfeed.store.engine import write_transaction
from paperfeed.store.keyphrases import keyphrases_of
from paperfeed.store.vector_files import ParquetRefused, export_vectors, import_vectors
from tests.store.test_vectors import MODEL, store, stored

PAPERS = [(f"2401.{n:05d}", f"Paper {n} on graphs", f"Abstract {n} about graph networks") for n in range(30)]  # fmt: skip


@pytest.fixture
def exported(engine: Engine, tmp_path: Path) -> pa.Table:
    """The store's 30 papers, embedded; their vectors exported and read back."""
    store(engine, PAPERS)
    embed_backlog(engine, HashingEmbedder())
    assert export_vectors(engine, MODEL, tmp_path / "all.parquet") == len(PAPERS)
    return pq.read_table(tmp_path / "all.parquet")


def write(table: pa.Table, path: Path) -> Path:
    pq.write_table(table, path)
    return path


def with_vectors(table: pa.Table, matrix: np.ndarray) -> pa.Table:
    """``table`` with these vectors (as float32: a crafted file need not be float16)."""
    values = pa.array(matrix.astype(np.float32).ravel(), pa.float32())
    vectors = pa.FixedSizeListArray.from_arrays(values, MODEL.dimensions)
    index = table.schema.get_field_index("vector")
    changed = table.set_column(index, pa.field("vector", vectors.type), vectors)
    return changed.replace_schema_metadata(table.schema.metadata)


def matrix_of(table: pa.Table) -> np.ndarray:
    flat = table.column("vector").combine_chunks().values.to_numpy(zero_copy_only=False)
    return np.asarray(flat, dtype=np.float32).reshape(table.num_rows, MODEL.dimensions)


def test_a_bad_row_at_the_end_leaves_every_vector_as_it_was(
    engine: Engine, tmp_path: Path, exported: pa.Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vector_files, "PAGE", 7)  # several pages: the bad row is on the last
    before = stored(engine)
    junk = np.zeros((len(PAPERS), MODEL.dimensions), dtype=np.float32)
    junk[:, 0] = 1.0  # a valid direction, but not the papers' own
    table = with_vectors(exported, junk)
    models = [MODEL.name] * (len(PAPERS) - 1) + ["evil"]
    table = table.set_column(1, table.schema.field("model"), pa.array(models, pa.string()))
    with pytest.raises(ParquetRefused, match="mixes models: found a row by 'evil'"):
        import_vectors(engine, MODEL, write(table, tmp_path / "evil.parquet"))
    assert stored(engine) == before


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda m: m.__setitem__((3, 0), np.nan), "is not a usable direction"),
        (lambda m: m.__setitem__(3, np.nan), "is not a usable direction"),
        (lambda m: m.__setitem__((3, 5), np.inf), "is not a usable direction"),
        (lambda m: m.__setitem__(3, 0.0), "is not a usable direction"),
        (lambda m: m.__setitem__(3, 1e6), "is not a usable direction"),  # inf as float16
    ],
)
def test_a_vector_that_is_no_direction_is_refused(
    engine: Engine, tmp_path: Path, exported: pa.Table, damage: object, message: str
) -> None:
    before = stored(engine)
    matrix = matrix_of(exported)
    damage(matrix)  # type: ignore[operator]
    with pytest.raises(ParquetRefused, match=message) as refused:
        import_vectors(engine, MODEL, write(with_vectors(exported, matrix), tmp_path / "v.parquet"))
    assert PAPERS[3][0] in str(refused.value)
    assert stored(engine) == before


def test_a_paper_given_twice_is_refused(engine: Engine, tmp_path: Path, exported: pa.Table) -> None:
    twice = pa.concat_tables([exported, exported.slice(4, 1)])
    with pytest.raises(ParquetRefused, match=f"holds paper '{PAPERS[4][0]}' twice"):
        import_vectors(engine, MODEL, write(twice, tmp_path / "twice.parquet"))


def test_a_file_of_papers_the_store_lacks_imports_nothing_and_says_so(
    engine: Engine, tmp_path: Path, exported: pa.Table
) -> None:
    before = stored(engine)
    ids = pa.array([f"9999.{n:05d}" for n in range(exported.num_rows)], pa.string())
    strangers = exported.set_column(0, exported.schema.field("paper_id"), ids)
    done = import_vectors(engine, MODEL, write(strangers, tmp_path / "strangers.parquet"))
    assert (done.imported, done.unknown) == (0, len(PAPERS))
    assert stored(engine) == before


def test_files_of_the_wrong_shape_are_refused_with_a_reason(
    engine: Engine, tmp_path: Path, exported: pa.Table
) -> None:
    metadata = exported.schema.metadata
    ragged = pa.array(
        [[0.5] * (MODEL.dimensions - (n == 2)) for n in range(len(PAPERS))], pa.list_(pa.float32())
    )
    cases = {
        "lacks the text column 'text_hash'": exported.drop_columns(["text_hash"]),
        "lacks the text column 'paper_id'": exported.drop_columns(["paper_id"]),
        "'vector' column is not a list of numbers": exported.set_column(
            3, "vector", pa.array(["x"] * len(PAPERS))
        ).replace_schema_metadata(metadata),
        f"holds a vector of {MODEL.dimensions - 1} numbers": exported.set_column(
            3, "vector", ragged
        ).replace_schema_metadata(metadata),
        "has a row without a text_hash": exported.set_column(
            2, "text_hash", pa.array([None] * len(PAPERS), pa.string())
        ).replace_schema_metadata(metadata),
        "(0 dimensions)": exported.replace_schema_metadata(
            {**metadata, b"paperfeed.dimensions": b"abc"}
        ),
    }
    before = stored(engine)
    for message, table in cases.items():
        with pytest.raises(ParquetRefused, match=message.replace("(", r"\(").replace(")", r"\)")):
            import_vectors(engine, MODEL, write(table, tmp_path / "bad.parquet"))
    damaged = tmp_path / "damaged.parquet"
    data = bytearray((tmp_path / "all.parquet").read_bytes())
    data[len(data) // 3 : len(data) // 3 + 2000] = b"\xff" * 2000
    damaged.write_bytes(bytes(data))
    with pytest.raises(ParquetRefused):
        import_vectors(engine, MODEL, damaged)
    with pytest.raises(ParquetRefused, match="is a folder"):
        import_vectors(engine, MODEL, tmp_path)
    assert stored(engine) == before


def test_an_export_that_cannot_be_written_leaves_nothing(engine: Engine, tmp_path: Path) -> None:
    store(engine, PAPERS[:3])
    embed_backlog(engine, HashingEmbedder())
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ParquetRefused, match="is a folder"):
        export_vectors(engine, MODEL, out)
    with pytest.raises(ParquetRefused, match="is not a folder"):
        export_vectors(engine, MODEL, out / "missing" / "v.parquet")
    with pytest.raises(ParquetRefused, match="cannot write"):
        export_vectors(engine, MODEL, out / ("x" * 300 + ".parquet"))
    assert list(out.iterdir()) == []


def test_keyphrases_travel_with_the_vectors_of_papers_whose_text_is_current(
    engine: Engine, tmp_path: Path, exported: pa.Table
) -> None:
    """A store that imports vectors gets the papers' keyphrases (``ai_keywords``) too: its
    workers skip papers whose vector is current, so nothing else would ever compute them."""
    with engine.connect() as conn:
        before = keyphrases_of(conn, [paper_id for paper_id, _, _ in PAPERS])
    assert len(before) == len(PAPERS) and all(before.values())
    assert (
        exported.column("keyphrases").to_pylist()[0]
        == before[exported.column("paper_id")[0].as_py()]
    )
    with write_transaction(engine) as conn:  # the same papers, as a fresh store holds them
        conn.execute(delete(PaperKeyphrases))
        conn.execute(delete(PaperVector))
    store(engine, [(PAPERS[0][0], PAPERS[0][1], "A new abstract since the export.")])
    done = import_vectors(engine, MODEL, tmp_path / "all.parquet")
    assert done.imported == len(PAPERS)
    with engine.connect() as conn:
        after = keyphrases_of(conn, [paper_id for paper_id, _, _ in PAPERS])
    assert after == {k: v for k, v in before.items() if k != PAPERS[0][0]}  # its text changed

    older = exported.drop_columns(["keyphrases"]).replace_schema_metadata(exported.schema.metadata)
    assert import_vectors(engine, MODEL, write(older, tmp_path / "older.parquet")).imported == 30


@pytest.mark.parametrize(
    ("phrases", "message"),
    [
        (["a", None], "has an empty keyphrase"),
        (["x" * 10_000_000], "over 200 characters"),
        (["a\nb"], "with control characters"),
        (["a\x00b"], "with control characters"),
        ([f"p{n}" for n in range(200_000)], "200,000 keyphrases"),
    ],
)
def test_keyphrases_a_page_would_show_are_checked_before_anything_is_written(
    engine: Engine,
    tmp_path: Path,
    exported: pa.Table,
    monkeypatch: pytest.MonkeyPatch,
    phrases: list[str | None],
    message: str,
) -> None:
    """A file's keyphrases end up on paper pages and in the API: a null in a list once crashed
    the import after its earlier pages were written; 10 MB phrases were served whole."""
    monkeypatch.setattr(vector_files, "PAGE", 7)  # the bad row is on the last page
    with engine.connect() as conn:
        before = (stored(engine), keyphrases_of(conn, [p for p, _, _ in PAPERS]))
    lists = exported.column("keyphrases").to_pylist()
    lists[0], lists[-1] = ["marker"], phrases
    table = exported.set_column(
        4, exported.schema.field("keyphrases"), pa.array(lists, pa.list_(pa.string()))
    )
    with pytest.raises(ParquetRefused, match=message):
        import_vectors(engine, MODEL, write(table, tmp_path / "phrases.parquet"))
    with engine.connect() as conn:
        assert (stored(engine), keyphrases_of(conn, [p for p, _, _ in PAPERS])) == before


def test_a_vector_that_float16_rounds_to_zero_is_refused(
    engine: Engine, tmp_path: Path, exported: pa.Table
) -> None:
    matrix = matrix_of(exported)
    matrix[3] = 1e-9  # a direction in float32, all zeros as the store keeps it
    with pytest.raises(ParquetRefused, match="is not a usable direction"):
        import_vectors(engine, MODEL, write(with_vectors(exported, matrix), tmp_path / "t.parquet"))
