"""report figures kept per local day, the UTC dates whose figures changed, and whether a
ticket's first reply came after its due time (the due time is cleared by the reply)

Revision ID: 0010k
Revises: 0010b
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010k"
down_revision = "0010b"
branch_labels = None
depends_on = None


LATE_BACKFILL = """
UPDATE tickets SET first_response_late = (sla_breached_at IS NOT NULL)
WHERE first_response_at IS NOT NULL
"""


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("first_response_late", sa.Boolean(), nullable=True))
    op.execute(LATE_BACKFILL)
    op.create_table(
        "report_days",
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("timezone", "day", name=op.f("pk_report_days")),
    )
    op.create_table(
        "report_stale",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_report_stale")),
    )


def downgrade() -> None:
    op.drop_table("report_stale")
    op.drop_table("report_days")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("first_response_late")
