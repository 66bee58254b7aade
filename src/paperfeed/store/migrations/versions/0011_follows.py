"""follows, and the digest settings that use them: follows, similar papers, "nothing new" mails

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 11:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "follows",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_follows_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "kind", "target", name=op.f("pk_follows")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(
            sa.Column("follows", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch.add_column(sa.Column("similar", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(
            sa.Column("send_empty", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_index(op.f("ix_papers_created_at"), "papers", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_papers_created_at"), table_name="papers")
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("send_empty")
        batch.drop_column("similar")
        batch.drop_column("follows")
    op.drop_table("follows")
