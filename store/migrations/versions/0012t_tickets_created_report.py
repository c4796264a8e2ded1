"""tickets' creation index widened to cover what a day's report reads of the tickets
created on it (channel, code, type, owner, first response), so today's live figures are
read from the index alone

Revision ID: 0012t
Revises: 0012r
"""

from __future__ import annotations

from alembic import op

revision = "0012t"
down_revision = "0012r"
branch_labels = None
depends_on = None

COVERED = [
    "created_at",
    "channel",
    "code_id",
    "type",
    "owner",
    "first_response_late",
    "first_response_at",
    "first_response_due_at",
]


def upgrade() -> None:
    op.drop_index(op.f("ix_tickets_created_at"), table_name="tickets")
    op.create_index("ix_tickets_created_report", "tickets", COVERED)


def downgrade() -> None:
    op.drop_index("ix_tickets_created_report", table_name="tickets")
    op.create_index(op.f("ix_tickets_created_at"), "tickets", ["created_at"])
