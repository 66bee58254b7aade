"""Stored vectors to and from Parquet files, so a store can be embedded on a bigger machine,
or its vectors moved to another installation, without running the model again.

A file holds one model's vectors: columns ``paper_id``, ``model``, ``text_hash`` (of the text
that was embedded), ``vector`` (float16, a fixed-size list) and ``keyphrases`` (the paper's
keyphrases from the same model pass, the public API's ``ai_keywords``: a store that imports
only vectors would never get them, as its workers skip papers whose vector is current), and the
model's name and dimensions in the file's metadata. Files written before keyphrases were added
import without them. An import refuses another model or size; a paper whose text
in this store differs from the one embedded is imported as stale, and the next worker embeds
it again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from numpy.typing import NDArray
from sqlalchemy import Connection, Engine, Row, Select, select

from paperfeed.models import Paper, PaperKeyphrases, PaperVector, table_of
from paperfeed.store.bulk import chunks
from paperfeed.store.engine import write_transaction
from paperfeed.store.keyphrases import save_keyphrases, split_phrases
from paperfeed.store.vectors import (
    STORED_DTYPE,
    Embedded,
    VectorCursor,
    after,
    embedded_text,
    text_hash,
    write_vectors,
)

PAGE = 20_000
MODEL_KEY = b"paperfeed.model"
DIMENSIONS_KEY = b"paperfeed.dimensions"
#: An imported vector whose text differs from this store's is marked checked at this time, so
#: every paper change since makes the workers look at it again.
NEVER = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class ParquetRefused(ValueError):
    """The file is not one this store can take; the message says why."""


class Model(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def dimensions(self) -> int: ...


@dataclass(slots=True)
class Imported:
    imported: int = 0
    unknown: int = 0  # rows of papers this store does not hold


def _schema(model_name: str, dimensions: int) -> pa.Schema:
    return pa.schema(
        [
            ("paper_id", pa.string()),
            ("model", pa.string()),
            ("text_hash", pa.string()),
            ("vector", pa.list_(pa.float16(), dimensions)),
            ("keyphrases", pa.list_(pa.string())),
        ],
        metadata={MODEL_KEY: model_name.encode(), DIMENSIONS_KEY: str(dimensions).encode()},
    )


def export_vectors(engine: Engine, model: Model, path: Path) -> int:
    """Write every stored vector by ``model`` to ``path`` (written under a temporary name and
    renamed at the end: an export that fails leaves neither half a file nor the temporary)."""
    try:
        if path.is_dir():
            raise ParquetRefused(f"{path} is a folder: name the file to write")
        if not path.parent.is_dir():
            raise ParquetRefused(f"{path.parent} is not a folder")
    except OSError as error:  # a name too long
        raise ParquetRefused(f"cannot write {path}: {error.strerror or error}") from None
    schema = _schema(model.name, model.dimensions)
    partial = path.with_name(path.name + ".partial")
    cursor: VectorCursor | None = None
    written = 0
    try:
        with pq.ParquetWriter(partial, schema) as writer:
            while True:
                with engine.connect() as conn:
                    rows = list(conn.execute(_page(model.name, cursor)).all())
                if not rows:
                    break
                writer.write_table(_table(schema, model, rows))
                cursor = (rows[-1].created_at, rows[-1].paper_id)
                written += len(rows)
        partial.replace(path)
    except OSError as error:
        raise ParquetRefused(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        partial.unlink(missing_ok=True)
    return written


def _page(model_name: str, cursor: VectorCursor | None) -> Select[Any]:
    table, phrases = table_of(PaperVector), table_of(PaperKeyphrases)
    query = (
        select(
            table.c.paper_id,
            table.c.text_hash,
            table.c.vector,
            table.c.created_at,
            phrases.c.phrases,
        )
        .outerjoin(
            phrases,
            (phrases.c.paper_id == table.c.paper_id) & (phrases.c.model == table.c.model),
        )
        .where(table.c.model == model_name)
        .order_by(table.c.created_at, table.c.paper_id)
        .limit(PAGE)
    )
    if cursor is not None:
        query = query.where(after(cursor))
    return query


def _table(schema: pa.Schema, model: Model, rows: list[Row[Any]]) -> pa.Table:
    flat = np.frombuffer(b"".join(bytes(row.vector) for row in rows), dtype=STORED_DTYPE)
    vectors = pa.FixedSizeListArray.from_arrays(pa.array(flat, pa.float16()), model.dimensions)
    return pa.Table.from_arrays(
        [
            pa.array([row.paper_id for row in rows], pa.string()),
            pa.array([model.name] * len(rows), pa.string()),
            pa.array([row.text_hash for row in rows], pa.string()),
            vectors,
            pa.array(
                [split_phrases(row.phrases) if row.phrases is not None else None for row in rows],
                pa.list_(pa.string()),
            ),
        ],
        schema=schema,
    )


def import_vectors(engine: Engine, model: Model, path: Path) -> Imported:
    """Store the vectors of ``path`` for the papers this store holds; :class:`ParquetRefused`
    for a file of another model or size, or one that is not ours or is damaged.

    The whole file is checked before anything is written (a bad row near the end once left the
    rows before it imported): every row by the model, each paper once, every vector of the
    model's size, finite as float16 and not zero (a NaN vector is never near anything, and an
    infinite one near everything)."""
    parquet = _open(path)
    _check(parquet.schema_arrow, model, path)
    seen: set[str] = set()
    for batch in _batches(parquet, path):
        _valid(batch, model, path, seen)
    done = Imported()
    for batch in _batches(parquet, path):
        ids = batch.column("paper_id").to_pylist()
        hashes = batch.column("text_hash").to_pylist()
        matrix = _matrix(batch, model)
        phrases = (
            batch.column("keyphrases").to_pylist() if "keyphrases" in batch.schema.names else []
        )
        with write_transaction(engine) as conn:
            texts = _store_texts(conn, ids)
            items = [
                Embedded(
                    paper_id, hashes[row],
                    texts[paper_id][1] if texts[paper_id][0] == hashes[row] else NEVER,
                    matrix[row],
                )
                for row, paper_id in enumerate(ids) if paper_id in texts
            ]  # fmt: skip
            now = dt.datetime.now(dt.UTC)
            write_vectors(conn, model.name, model.dimensions, items, now)
            # Keyphrases of the text this store holds only: a stale paper gets new ones when a
            # worker embeds it again.
            current = {
                paper_id: phrases[row]
                for row, paper_id in enumerate(ids)
                if phrases and phrases[row] is not None
                and paper_id in texts and texts[paper_id][0] == hashes[row]
            }  # fmt: skip
            if current:
                save_keyphrases(conn, current, model.name, now)
        done.imported += len(items)
        done.unknown += len(ids) - len(items)
    return done


_COLUMNS = {"paper_id": pa.types.is_string, "model": pa.types.is_string,
            "text_hash": pa.types.is_string}  # fmt: skip


def _open(path: Path) -> pq.ParquetFile:
    try:
        if path.is_dir():
            raise ParquetRefused(f"{path} is a folder, not a file")
        if not path.is_file():
            raise ParquetRefused(f"{path}: no such file")
    except OSError as error:  # a name too long
        raise ParquetRefused(f"cannot read {path}: {error.strerror or error}") from None
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise ParquetRefused(f"{path} is not a Parquet file ({error})") from None


def _batches(parquet: pq.ParquetFile, path: Path) -> Iterator[pa.RecordBatch]:
    try:
        yield from parquet.iter_batches(batch_size=PAGE)
    except (pa.ArrowException, OSError) as error:
        raise ParquetRefused(f"{path} is damaged: {error}") from None


def _check(schema: pa.Schema, model: Model, path: Path) -> None:
    metadata = schema.metadata or {}
    if MODEL_KEY not in metadata or "vector" not in schema.names:
        raise ParquetRefused(f"{path} was not written by `paperfeed vectors export`")
    name = metadata[MODEL_KEY].decode(errors="replace")
    try:
        dimensions = int(metadata.get(DIMENSIONS_KEY, b"0"))
    except ValueError:
        dimensions = 0
    if (name, dimensions) != (model.name, model.dimensions):
        raise ParquetRefused(
            f"{path} holds vectors by {name} ({dimensions} dimensions), but this store's model is "
            f"{model.name} ({model.dimensions} dimensions): vectors of different models cannot "
            "be mixed; embed with `paperfeed embed` instead"
        )
    for column, right in _COLUMNS.items():
        if column not in schema.names or not right(schema.field(column).type):
            raise ParquetRefused(f"{path} lacks the text column {column!r}")
    if "keyphrases" in schema.names:
        phrases = schema.field("keyphrases").type
        if not (pa.types.is_list(phrases) and pa.types.is_string(phrases.value_type)):
            raise ParquetRefused(f"{path}: its 'keyphrases' column is not a list of texts")
    vector = schema.field("vector").type
    if not (pa.types.is_list(vector) or pa.types.is_fixed_size_list(vector)) or not (
        pa.types.is_floating(vector.value_type)
    ):
        raise ParquetRefused(f"{path}: its 'vector' column is not a list of numbers")


def _valid(batch: pa.RecordBatch, model: Model, path: Path, seen: set[str]) -> None:
    """Refuse a batch with a row of another model, a paper seen before, a missing value or a
    vector that is not of the model's size, finite and non-zero."""
    for column in ("paper_id", "model", "text_hash", "vector"):
        if batch.column(column).null_count:
            raise ParquetRefused(f"{path} has a row without a {column}")
    others = sorted({name for name in batch.column("model").to_pylist() if name != model.name})
    if others:
        raise ParquetRefused(f"{path} mixes models: found a row by {others[0]!r}")
    for paper_id in batch.column("paper_id").to_pylist():
        if paper_id in seen:
            raise ParquetRefused(f"{path} holds paper {paper_id!r} twice")
        seen.add(paper_id)
    if "keyphrases" in batch.schema.names:
        _valid_phrases(batch.column("keyphrases").to_pylist(), path)
    lengths = pc.list_value_length(batch.column("vector")).to_numpy(zero_copy_only=False)
    if len(lengths) and (lengths != model.dimensions).any():
        raise ParquetRefused(
            f"{path} holds a vector of {int(lengths[lengths != model.dimensions][0])} numbers; "
            f"{model.name}'s have {model.dimensions}"
        )
    matrix = _matrix(batch, model)
    ids = batch.column("paper_id").to_pylist()
    with np.errstate(over="ignore", invalid="ignore"):  # refused below, not warned about
        stored = matrix.astype(STORED_DTYPE)  # as the store keeps them: 1e-9 becomes 0 there
    bad = ~np.isfinite(stored).all(axis=1) | ~stored.any(axis=1)
    if bad.any():
        raise ParquetRefused(
            f"{path}: the vector of {ids[int(np.argmax(bad))]!r} is not a usable direction "
            "(zero, NaN, infinite or too large for float16)"
        )


#: Keyphrases are a few short noun phrases (``search/keyphrases.py`` makes at most 10 of at
#: most 3 words); a file's are pages' text, so anything far beyond that is refused.
MAX_PHRASES, MAX_PHRASE_CHARS = 50, 200


def _valid_phrases(lists: list[list[str | None] | None], path: Path) -> None:
    for phrases in lists:
        if phrases is None:
            continue
        if len(phrases) > MAX_PHRASES:
            raise ParquetRefused(
                f"{path} gives a paper {len(phrases):,} keyphrases (at most {MAX_PHRASES})"
            )
        for phrase in phrases:
            if not isinstance(phrase, str) or not phrase.strip():
                raise ParquetRefused(f"{path} has an empty keyphrase")
            if len(phrase) > MAX_PHRASE_CHARS or any(c < " " for c in phrase):
                raise ParquetRefused(
                    f"{path} has a keyphrase over {MAX_PHRASE_CHARS} characters or with control "
                    "characters (a line break, NUL)"
                )


def _matrix(batch: pa.RecordBatch, model: Model) -> NDArray[np.float32]:
    values = pc.list_flatten(batch.column("vector")).to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.float32).reshape(batch.num_rows, model.dimensions)


def _store_texts(conn: Connection, paper_ids: list[str]) -> dict[str, tuple[str, dt.datetime]]:
    """For the papers the store holds: their embedded text's hash and change stamp."""
    found: dict[str, tuple[str, dt.datetime]] = {}
    for chunk in chunks(paper_ids):
        query = select(Paper.id, Paper.title, Paper.abstract, Paper.updated_at).where(
            Paper.id.in_(chunk)
        )
        for row in conn.execute(query):
            text = embedded_text(row.title, row.abstract)
            found[row.id] = (text_hash(text), row.updated_at)
    return found
