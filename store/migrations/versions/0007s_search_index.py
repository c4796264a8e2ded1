"""the search index: documents for subjects, message texts and notes (FTS5 trigram on
SQLite, pg_trgm on PostgreSQL), built from the stored texts

Revision ID: 0007s
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ticketd.store import search

revision = "0007s"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("message_ref", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_ref"],
            ["messages.id"],
            name=op.f("fk_search_documents_message_ref_messages"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_search_documents_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_documents")),
        sa.UniqueConstraint("message_ref", name=op.f("uq_search_documents_message_ref")),
    )
    op.create_index("ix_search_documents_ticket", "search_documents", ["ticket_id", "kind"])
    connection = op.get_bind()
    search.install(connection)
    search.fill_all(connection)


def downgrade() -> None:
    search.uninstall(op.get_bind())
    op.drop_index("ix_search_documents_ticket", table_name="search_documents")
    op.drop_table("search_documents")
