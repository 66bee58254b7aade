"""the daily feed: featured entries, vote and comment counters, pending subscriptions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("papers") as batch:
        batch.add_column(sa.Column("upvotes", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(
            sa.Column("num_comments", sa.Integer(), server_default="0", nullable=False)
        )
    op.create_table(
        "feed_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.String(length=100), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("submitter", sa.String(length=200), nullable=True),
        sa.Column("submitter_name", sa.String(length=500), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hidden", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.id"],
            name=op.f("fk_feed_entries_paper_id_papers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_entries")),
        sa.UniqueConstraint("paper_id", name=op.f("uq_feed_entries_paper_id")),
    )
    op.create_index("ix_feed_entries_day", "feed_entries", ["day", "id"], unique=False)
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
        sa.UniqueConstraint("email", name=op.f("uq_subscriptions_email")),
    )


def downgrade() -> None:
    op.drop_table("subscriptions")
    op.drop_index("ix_feed_entries_day", table_name="feed_entries")
    op.drop_table("feed_entries")
    with op.batch_alter_table("papers") as batch:
        batch.drop_column("num_comments")
        batch.drop_column("upvotes")
