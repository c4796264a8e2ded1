"""indexes the reports read: events by kind and time, tickets by close time

Revision ID: 0010b
Revises: 0009c
"""

from __future__ import annotations

from alembic import op

revision = "0010b"
down_revision = "0009c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_events_type_at"), "events", ["type", "at"])
    op.create_index(op.f("ix_tickets_closed_at"), "tickets", ["closed_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_tickets_closed_at"), table_name="tickets")
    op.drop_index(op.f("ix_events_type_at"), table_name="events")
