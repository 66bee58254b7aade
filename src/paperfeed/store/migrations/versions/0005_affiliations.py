"""author affiliations on paper_authors (from the arXiv API)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 09:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN: SQLite supports it, and a batch rebuild would drop WITHOUT ROWID.
    op.add_column("paper_authors", sa.Column("affiliation", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("paper_authors") as batch:
        batch.drop_column("affiliation")
