"""paper keyphrases, computed where papers are embedded

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 17:25:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "paper_keyphrases",
        sa.Column("paper_id", sa.String(length=100), nullable=False),
        sa.Column("phrases", sa.Text(), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.id"],
            name=op.f("fk_paper_keyphrases_paper_id_papers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("paper_id", name=op.f("pk_paper_keyphrases")),
    )


def downgrade() -> None:
    op.drop_table("paper_keyphrases")
