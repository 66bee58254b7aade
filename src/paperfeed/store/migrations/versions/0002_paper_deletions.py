"""paper deletions (tombstones the search indexer follows)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 08:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "paper_deletions",
        sa.Column("paper_id", sa.String(length=100), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("paper_id", name=op.f("pk_paper_deletions")),
    )
    op.create_index(
        op.f("ix_paper_deletions_deleted_at"), "paper_deletions", ["deleted_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_paper_deletions_deleted_at"), table_name="paper_deletions")
    op.drop_table("paper_deletions")
