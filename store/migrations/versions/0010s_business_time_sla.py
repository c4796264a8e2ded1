"""business-time SLA: the first response's reminder instant, the next-reply clock

Revision ID: 0010s
Revises: 0010k
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010s"
down_revision = "0010k"
branch_labels = None
depends_on = None

COLUMNS = (
    "first_response_remind_at",
    "next_response_remind_at",
    "next_response_due_at",
    "next_response_reminded_at",
    "next_response_breached_at",
)

TICKETS = sa.table(
    "tickets",
    sa.column("id", sa.Integer),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("first_response_due_at", sa.DateTime(timezone=True)),
    sa.column("first_response_remind_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_tickets_next_response_due"), "tickets", ["next_response_due_at"])
    pending = op.get_bind().execute(
        sa.select(TICKETS.c.id, TICKETS.c.created_at, TICKETS.c.first_response_due_at).where(
            TICKETS.c.first_response_due_at.is_not(None)
        )
    )
    remind = [
        {
            "pk": row.id,
            "remind": row.created_at + (row.first_response_due_at - row.created_at) * 0.75,
        }
        for row in pending
    ]
    if remind:
        op.get_bind().execute(
            TICKETS.update()
            .where(TICKETS.c.id == sa.bindparam("pk"))
            .values(first_response_remind_at=sa.bindparam("remind")),
            remind,
        )


def downgrade() -> None:
    op.drop_index(op.f("ix_tickets_next_response_due"), table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
