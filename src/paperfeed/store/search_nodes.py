"""How far each serving node's search index has followed the store, and per model how far the
embedding workers have got: what ``paperfeed status`` and ``paperfeed check`` show.

Each node writes its own row (its cursors) after catching up; the store works out the lag from
them, so an operator sees every node from any machine.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, distinct, func, select

from paperfeed.models import Paper, PaperVector, SearchNode, VectorJob, table_of
from paperfeed.store.engine import write_transaction
from paperfeed.store.vectors import insert_for

nodes = table_of(SearchNode)


@dataclass(frozen=True, slots=True)
class ModelStatus:
    model: str
    papers: int
    with_vectors: int  # papers whose vector is current (their text has not changed since)
    waiting: int  # papers without a current vector
    workers: int  # workers holding a live claim now


@dataclass(frozen=True, slots=True)
class NodeStatus:
    name: str
    model: str | None
    keyword_lag: int  # papers changed after the node's keyword cursor
    vector_lag: int  # stored vectors written after the node's vector cursor
    reported_at: dt.datetime


def report_node(
    engine: Engine,
    name: str,
    model: str,
    keyword_cursor_at: dt.datetime | None,
    vector_cursor_at: dt.datetime | None,
    now: dt.datetime,
) -> None:
    """Write (or replace) node ``name``'s row."""
    values = {
        "name": name, "model": model, "keyword_cursor_at": keyword_cursor_at,
        "vector_cursor_at": vector_cursor_at, "vectors": 0, "reported_at": now,
    }  # fmt: skip
    with write_transaction(engine) as conn:
        statement = insert_for(conn)(nodes).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=["name"], set_={k: v for k, v in values.items() if k != "name"}
        )
        conn.execute(statement)


def model_status(conn: Connection, model: str, now: dt.datetime) -> ModelStatus:
    papers = int(conn.scalar(select(func.count()).select_from(Paper)) or 0)
    current = conn.scalar(
        select(func.count())
        .select_from(PaperVector)
        .join(Paper, Paper.id == PaperVector.paper_id)
        .where(PaperVector.model == model, PaperVector.paper_updated_at >= Paper.updated_at)
    )
    workers = conn.scalar(
        select(func.count(distinct(VectorJob.worker))).where(
            VectorJob.model == model, VectorJob.lease_until > now
        )
    )
    with_vectors = int(current or 0)
    return ModelStatus(model, papers, with_vectors, papers - with_vectors, int(workers or 0))


def models_in_store(conn: Connection) -> list[str]:
    stored = set(conn.scalars(select(PaperVector.model).distinct()))
    return sorted(stored | set(conn.scalars(select(VectorJob.model).distinct())))


def nodes_serving(conn: Connection, model: str, since: dt.datetime) -> list[str]:
    """The nodes that reported, since ``since``, an index of ``model``'s vectors."""
    query = select(nodes.c.name).where(nodes.c.model == model, nodes.c.reported_at >= since)
    return list(conn.scalars(query.order_by(nodes.c.name)))


def node_status(conn: Connection) -> list[NodeStatus]:
    out = []
    for row in conn.execute(select(nodes).order_by(nodes.c.name)):
        keyword_lag = select(func.count()).select_from(Paper)
        if row.keyword_cursor_at is not None:
            keyword_lag = keyword_lag.where(Paper.updated_at > row.keyword_cursor_at)
        vector_lag = (
            select(func.count())
            .select_from(PaperVector)
            .where(PaperVector.model == (row.model or ""))
        )
        if row.vector_cursor_at is not None:
            vector_lag = vector_lag.where(PaperVector.created_at > row.vector_cursor_at)
        out.append(
            NodeStatus(
                row.name, row.model, int(conn.scalar(keyword_lag) or 0),
                int(conn.scalar(vector_lag) or 0), row.reported_at,
            )
        )  # fmt: skip
    return out
