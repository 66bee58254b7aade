"""no real record refused for a field's length: names, categories, DOIs as TEXT on PostgreSQL

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 16:30:00

SQLite never enforces VARCHAR lengths, so there the columns stay as declared (see
``models.unlimited``); PostgreSQL does, and refused a real author name of 512 characters.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("authors", "name", 500),
    ("papers", "primary_category", 40),
    ("papers", "doi", 300),
    ("papers", "submitter", 500),
    ("paper_authors", "affiliation", 500),
    ("paper_categories", "category", 40),
    ("follows", "target", 500),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, length in COLUMNS:
        op.alter_column(table, column, type_=sa.Text(), existing_type=sa.String(length))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, length in COLUMNS:
        op.alter_column(table, column, type_=sa.String(length), existing_type=sa.Text())
