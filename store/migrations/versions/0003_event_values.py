"""events carry their value (the new status) instead of having it parsed from the summary

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("value", sa.String(length=64), nullable=True))
    events = sa.table("events", sa.column("id"), sa.column("type"), sa.column("summary"), sa.column("value"))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(events.c.id, events.c.summary).where(events.c.type == "status_changed")
    ).all()
    for event_id, summary in rows:
        status = summary.partition("→")[2].partition(":")[0].strip()
        connection.execute(
            events.update().where(events.c.id == event_id).values(value=status[:64] or None)
        )


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("value")
