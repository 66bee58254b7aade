"""what a capture says about a paper without naming it, and merging papers into arXiv records

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 06:00:00

Papers taken from a capture of the public site have no arXiv id: the capture counts their
authors and shows a date without a year. ``num_authors`` and ``date_shown`` keep that as
shown. ``title_key`` (a digest of the normalised title, only for papers without an arXiv id)
lets an arXiv record with the same title find and absorb such a paper; ``paper_redirects``
keeps the absorbed paper's address answering.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from paperfeed.normalize import title_key

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("papers") as table:
        table.add_column(sa.Column("num_authors", sa.Integer(), nullable=True))
        table.add_column(sa.Column("date_shown", sa.String(40), nullable=True))
        table.add_column(sa.Column("title_key", sa.String(32), nullable=True))
    op.create_index(
        "ix_papers_title_key",
        "papers",
        ["title_key"],
        postgresql_where=sa.text("title_key IS NOT NULL"),
        sqlite_where=sa.text("title_key IS NOT NULL"),
    )
    _backfill_title_keys()
    op.create_table(
        "paper_redirects",
        sa.Column("old_id", sa.String(length=100), nullable=False),
        sa.Column("new_id", sa.String(length=100), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["new_id"],
            ["papers.id"],
            name=op.f("fk_paper_redirects_new_id_papers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("old_id", name=op.f("pk_paper_redirects")),
    )
    op.create_index(op.f("ix_paper_redirects_new_id"), "paper_redirects", ["new_id"])


def _backfill_title_keys() -> None:
    """Key the papers stored without an arXiv id (``source:id``; arXiv ids have no colon)."""
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, title FROM papers WHERE id LIKE '%:%'")).all()
    if rows:
        conn.execute(
            sa.text("UPDATE papers SET title_key = :key WHERE id = :id"),
            [{"key": title_key(row.title), "id": row.id} for row in rows],
        )


def downgrade() -> None:
    op.drop_index(op.f("ix_paper_redirects_new_id"), table_name="paper_redirects")
    op.drop_table("paper_redirects")
    op.drop_index("ix_papers_title_key", table_name="papers")
    with op.batch_alter_table("papers") as table:
        table.drop_column("title_key")
        table.drop_column("date_shown")
        table.drop_column("num_authors")
