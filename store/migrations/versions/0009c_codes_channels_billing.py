"""classification codes, and on tickets their code, billability, channel and close time

Revision ID: 0009c
Revises: 0008s
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009c"
down_revision = "0008s"
branch_labels = None
depends_on = None


def _at(name: str, nullable: bool = False) -> sa.Column[sa.DateTime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


CHANNEL_BACKFILL = """
UPDATE tickets SET channel = (
    SELECT inbound.source FROM inbound
    WHERE inbound.ticket_id = tickets.id ORDER BY inbound.id LIMIT 1
)
"""

CLOSED_BACKFILL = """
UPDATE tickets SET closed_at = (
    SELECT max(events.at) FROM events
    WHERE events.ticket_id = tickets.id AND events.type = 'status_changed'
      AND events.value = 'closed'
) WHERE status = 'closed'
"""


def upgrade() -> None:
    op.create_table(
        "codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("label_ko", sa.Text(), server_default="", nullable=False),
        sa.Column("label_en", sa.Text(), server_default="", nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=320), server_default="", nullable=False),
        _at("created_at"),
        _at("retired_at", nullable=True),
        sa.ForeignKeyConstraint(["parent_id"], ["codes.id"], name=op.f("fk_codes_parent_id_codes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_codes")),
    )
    op.create_index(op.f("ix_codes_parent"), "codes", ["parent_id"])
    op.create_index(op.f("ix_codes_path"), "codes", ["path"])
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("code_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("billable", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("channel", sa.String(length=16), nullable=True))
        batch.add_column(_at("closed_at", nullable=True))
        batch.create_foreign_key(op.f("fk_tickets_code_id_codes"), "codes", ["code_id"], ["id"])
    op.create_index(op.f("ix_tickets_created_at"), "tickets", ["created_at"])
    op.create_index(op.f("ix_tickets_code"), "tickets", ["code_id"])
    op.execute(CHANNEL_BACKFILL)
    op.execute(CLOSED_BACKFILL)


def downgrade() -> None:
    op.drop_index(op.f("ix_tickets_code"), table_name="tickets")
    op.drop_index(op.f("ix_tickets_created_at"), table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_constraint(op.f("fk_tickets_code_id_codes"), type_="foreignkey")
        batch.drop_column("closed_at")
        batch.drop_column("channel")
        batch.drop_column("billable")
        batch.drop_column("code_id")
    op.drop_index(op.f("ix_codes_path"), table_name="codes")
    op.drop_index(op.f("ix_codes_parent"), table_name="codes")
    op.drop_table("codes")
