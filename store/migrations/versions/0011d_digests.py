"""the managers' daily digests sent: one row per period end

Revision ID: 0011d
Revises: 0010s
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011d"
down_revision = "0010s"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digests",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("start_day", sa.Date(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_digests")),
    )


def downgrade() -> None:
    op.drop_table("digests")
