"""title keys for arXiv papers too, so a paper without an arXiv id that arrives after its
arXiv record is merged into it

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 10:00:00

0019 keyed only the papers without an arXiv id, so only an arXiv record arriving later could
find its twin. Keying the arXiv papers lets a captured or ``source:id`` paper find the arXiv
record stored before it. The keys are computed in Python (the same
:func:`paperfeed.normalize.title_key` the import uses), a page of papers at a time in id
order, so the migration's memory stays flat on a store of millions of papers.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from paperfeed.normalize import title_key

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAGE = 10_000


def upgrade() -> None:
    conn = op.get_bind()
    after = ""
    while True:
        rows = conn.execute(
            sa.text(
                "SELECT id, title FROM papers WHERE id > :after AND id NOT LIKE '%:%' "
                "ORDER BY id LIMIT :page"
            ),
            {"after": after, "page": PAGE},
        ).all()
        if not rows:
            return
        keyed = [{"key": key, "id": row.id} for row in rows if (key := title_key(row.title))]
        if keyed:
            conn.execute(sa.text("UPDATE papers SET title_key = :key WHERE id = :id"), keyed)
        after = rows[-1].id


def downgrade() -> None:
    op.execute("UPDATE papers SET title_key = NULL WHERE id NOT LIKE '%:%'")
