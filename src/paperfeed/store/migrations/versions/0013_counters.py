"""budget counters for limits that hold across nodes and parallel requests

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 16:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "budget_counters",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_budget_counters")),
    )
    op.create_index(op.f("ix_budget_counters_window_end"), "budget_counters", ["window_end"])


def downgrade() -> None:
    op.drop_index(op.f("ix_budget_counters_window_end"), table_name="budget_counters")
    op.drop_table("budget_counters")
