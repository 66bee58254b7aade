"""digests: subscription settings, deliveries and the ledger of papers sent

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 10:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("cadence", sa.String(length=10), server_default="daily", nullable=False)
        )
        batch.add_column(sa.Column("trending", sa.Integer(), server_default="10", nullable=False))
        batch.add_column(sa.Column("searches", sa.Text(), server_default="", nullable=False))
        batch.add_column(sa.Column("categories", sa.Text(), server_default="", nullable=False))
        batch.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_subscriptions_user_id_users"),
            "users",
            ["user_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("cadence", sa.String(length=10), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_deliveries_subscription_id_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint(
            "subscription_id", "cadence", "period", name=op.f("uq_deliveries_subscription_id")
        ),
    )
    op.create_table(
        "digest_items",
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.String(length=100), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_digest_items_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_digest_items_subscription_id_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subscription_id", "paper_id", name=op.f("pk_digest_items")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("digest_items")
    op.drop_table("deliveries")
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_constraint("fk_subscriptions_user_id_users", type_="foreignkey")
        for column in ("confirmed_at", "categories", "searches", "trending", "cadence", "user_id"):
            batch.drop_column(column)
