"""Bulk inserts and look-ups straight through the driver, for the import's hot path.

An import writes about eight rows per paper (the paper, its authors, its categories). Building
SQLAlchemy parameter dictionaries for each costs more than SQLite spends storing them, so the
plain-column tables are written here as tuples with the driver's ``executemany``. Table and
column names come from our own models, never from input; every value is a bound parameter.
The SQL (``INSERT … ON CONFLICT DO NOTHING``, ``IN (…)``) means the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Column, Connection, Table

_T = TypeVar("_T")
CHUNK = 5_000


DO_NOTHING = "ON CONFLICT DO NOTHING"


def insert_rows(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    *,
    on_conflict: str = "",
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order), with an optional ``ON CONFLICT`` clause.

    Values pass through each column type's bind processor, so dates and timestamps are stored
    exactly as SQLAlchemy stores them and read back alike.
    """
    if not rows:
        return
    unknown = set(columns) - set(table.c.keys())
    if unknown:
        raise ValueError(f"{table.name} has no column {sorted(unknown)}")
    mark = _placeholder(conn)
    # Names come from the model (checked above); values are bound parameters.
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"  # noqa: S608
    dialect = conn.dialect
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
    ]
    if any(processors):
        rows = [
            tuple(
                v if p is None or v is None else p(v) for p, v in zip(processors, row, strict=True)
            )
            for row in rows
        ]
    conn.exec_driver_sql(f"{sql} {on_conflict}", rows)


def lookup(
    conn: Connection, key: Column[Any], value: Column[Any], keys: Sequence[Any]
) -> dict[Any, Any]:
    """``{key: value}`` for the rows whose ``key`` is in ``keys``, in chunks drivers accept."""
    found: dict[Any, Any] = {}
    mark = _placeholder(conn)
    for chunk in chunks(keys):
        marks = ", ".join([mark] * len(chunk))
        sql = f"SELECT {key.name}, {value.name} FROM {key.table.name} WHERE {key.name} IN ({marks})"  # noqa: S608
        found.update((row[0], row[1]) for row in conn.exec_driver_sql(sql, tuple(chunk)))
    return found


def chunks(items: Sequence[_T], size: int = CHUNK) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _placeholder(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"
