"""ticket followers; every envelope recipient of an outbox mail; 'suppressed' events

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "followers",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_followers_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("ticket_id", "email", name=op.f("pk_followers")),
    )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("recipients", sa.Text(), server_default="", nullable=False))
    op.execute("UPDATE outbox SET recipients = recipient")
    op.execute("UPDATE events SET type = 'suppressed' WHERE type = 'notice_suppressed'")


def downgrade() -> None:
    op.execute("UPDATE events SET type = 'notice_suppressed' WHERE type = 'suppressed'")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("recipients")
    op.drop_table("followers")
