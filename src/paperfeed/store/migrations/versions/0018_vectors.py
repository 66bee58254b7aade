"""paper vectors in the store, the embedding workers' queue, and nodes' index positions

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 16:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "paper_vectors",
        sa.Column("paper_id", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("dimensions", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("text_hash", sa.String(length=32), nullable=False),
        sa.Column("paper_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.id"],
            name=op.f("fk_paper_vectors_paper_id_papers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("paper_id", "model", name=op.f("pk_paper_vectors")),
    )
    op.create_index(
        "ix_paper_vectors_model_cursor", "paper_vectors", ["model", "created_at", "paper_id"]
    )
    op.create_table(
        "vector_jobs",
        sa.Column("paper_id", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("worker", sa.String(length=200), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.id"],
            name=op.f("fk_vector_jobs_paper_id_papers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("paper_id", "model", name=op.f("pk_vector_jobs")),
    )
    op.create_index("ix_vector_jobs_model_lease", "vector_jobs", ["model", "lease_until"])
    op.create_table(
        "search_nodes",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("keyword_cursor_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("vector_cursor_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("vectors", sa.Integer(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_search_nodes")),
    )


def downgrade() -> None:
    op.drop_table("search_nodes")
    op.drop_index("ix_vector_jobs_model_lease", table_name="vector_jobs")
    op.drop_table("vector_jobs")
    op.drop_index("ix_paper_vectors_model_cursor", table_name="paper_vectors")
    op.drop_table("paper_vectors")
