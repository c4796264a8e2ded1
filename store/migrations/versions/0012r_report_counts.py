"""report days kept as counts (measure, key) and response-time value counts, by day and
summed by week and month, instead of JSON; the days kept as JSON are dropped, to be gathered again by the next refresh

Revision ID: 0012r
Revises: 0011p
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012r"
down_revision = "0011p"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM report_days")
    with op.batch_alter_table("report_days") as batch:
        batch.drop_column("figures")
    op.create_table(
        "report_counts",
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("block", sa.String(length=1), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("measure", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=320), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("timezone", "block", "day", "measure", "key", name=op.f("pk_report_counts")),
    )
    op.create_table(
        "report_responses",
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("block", sa.String(length=1), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("owner", sa.String(length=320), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "timezone", "block", "day", "owner", "seconds", name=op.f("pk_report_responses")
        ),
    )


def downgrade() -> None:
    op.drop_table("report_responses")
    op.drop_table("report_counts")
    op.execute("DELETE FROM report_days")
    with op.batch_alter_table("report_days") as batch:
        batch.add_column(sa.Column("figures", sa.Text(), nullable=False, server_default=""))
