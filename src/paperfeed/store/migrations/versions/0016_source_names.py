"""what a source says as it says it: an organization's handle, authors it hides

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 17:40:00

The Daily Papers API names an organization by its handle (``caltech``) beside its full name,
and lists authors it hides with ``hidden: true``; the compatible API sends both back as given.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organizations") as table:
        table.add_column(sa.Column("handle", sa.String(200), nullable=True))
    with op.batch_alter_table("paper_authors") as table:
        table.add_column(
            sa.Column("hidden", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("paper_authors") as table:
        table.drop_column("hidden")
    with op.batch_alter_table("organizations") as table:
        table.drop_column("handle")
