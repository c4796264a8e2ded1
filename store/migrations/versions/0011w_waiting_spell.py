"""the waiting spell: when a ticket went to ``waiting`` and when the customer was reminded

Revision ID: 0011w
Revises: 0011d
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011w"
down_revision = "0011d"
branch_labels = None
depends_on = None

COLUMNS = ("waiting_since", "waiting_reminded_at")
TICKETS = sa.table(
    "tickets",
    sa.column("status", sa.String),
    sa.column("updated_at", sa.DateTime(timezone=True)),
    sa.column("waiting_since", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_tickets_waiting_since"), "tickets", ["waiting_since"])
    op.get_bind().execute(
        TICKETS.update()
        .where(TICKETS.c.status == "waiting")
        .values(waiting_since=TICKETS.c.updated_at)
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_tickets_waiting_since"), table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
