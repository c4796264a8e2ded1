"""the poller's leadership term (the fence on its commits); outbox rows claimed by one sender

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leadership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("term", sa.BigInteger(), nullable=False),
        sa.Column("holder", sa.String(length=300), nullable=False),
        sa.Column("elected_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leadership")),
    )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("claimer", sa.String(length=300), server_default="", nullable=False)
        )


def downgrade() -> None:
    op.execute("UPDATE outbox SET state = 'pending' WHERE state = 'sending'")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("claimer")
        batch.drop_column("claimed_at")
    op.drop_table("leadership")
