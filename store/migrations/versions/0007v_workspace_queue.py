"""the staff queue: a stored first-response due time, the requester's domain, the queue's
indexes; resolved_at also for tickets closed straight from an open status

Revision ID: 0007v
Revises: 0007a
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "0007v"
down_revision = "0007a"
branch_labels = None
depends_on = None

BACKFILL_HOURS = 24.0
"""``[sla].first_response_hours``' default: the due time of stored unanswered tickets."""
QUEUED = "status IN ('open', 'pending', 'waiting') AND merged_into IS NULL"
SORTS = {"created": "created_at", "due": "first_response_due_at", "updated": "updated_at"}
CHUNK = 5000

tickets = sa.table(
    "tickets",
    sa.column("id", sa.Integer()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("first_response_due_at", sa.DateTime(timezone=True)),
    sa.column("first_response_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("first_response_due_at", sa.DateTime(timezone=True)))
        batch.add_column(
            sa.Column("requester_domain", sa.String(length=255), server_default="", nullable=False)
        )
    _backfill()
    where = {"sqlite_where": sa.text(QUEUED), "postgresql_where": sa.text(QUEUED)}
    for name, column in SORTS.items():
        op.create_index(f"ix_tickets_queue_{name}", "tickets", [column, "id"], **where)
        op.create_index(
            f"ix_tickets_queue_owner_{name}", "tickets", ["owner", column, "id"], **where
        )
        op.create_index(f"ix_tickets_status_{name}", "tickets", ["status", column, "id"])
    op.create_index("ix_tickets_queue_load", "tickets", ["owner", "status"], **where)
    op.create_index("ix_tickets_requester", "tickets", ["requester_email", "created_at", "id"])
    op.create_index("ix_tickets_domain", "tickets", ["requester_domain", "created_at", "id"])
    op.create_index("ix_tickets_resolved_at", "tickets", ["resolved_at"])


def _backfill() -> None:
    connection = op.get_bind()
    domain = (
        "substr(requester_email, instr(requester_email, '@') + 1)"
        if connection.dialect.name == "sqlite"
        else "split_part(requester_email, '@', 2)"
    )
    op.execute(f"UPDATE tickets SET requester_domain = lower({domain})")
    op.execute(
        "UPDATE tickets SET resolved_at = updated_at WHERE status = 'closed' AND resolved_at IS NULL"
    )
    unanswered = (
        sa.select(tickets.c.id, tickets.c.created_at)
        .where(tickets.c.first_response_at.is_(None))
        .order_by(tickets.c.id)
    )
    rows = connection.execute(unanswered).all()
    update = (
        sa.update(tickets)
        .where(tickets.c.id == sa.bindparam("pk"))
        .values(first_response_due_at=sa.bindparam("due"))
    )
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        connection.execute(
            update, [{"pk": pk, "due": at + timedelta(hours=BACKFILL_HOURS)} for pk, at in chunk]
        )


def downgrade() -> None:
    for name in SORTS:
        for index in (
            f"ix_tickets_queue_{name}",
            f"ix_tickets_queue_owner_{name}",
            f"ix_tickets_status_{name}",
        ):
            op.drop_index(index, table_name="tickets")
    for index in ("ix_tickets_queue_load", "ix_tickets_requester", "ix_tickets_domain", "ix_tickets_resolved_at"):
        op.drop_index(index, table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("requester_domain")
        batch.drop_column("first_response_due_at")
