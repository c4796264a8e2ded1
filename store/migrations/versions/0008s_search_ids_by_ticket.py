"""search documents numbered by ticket (``ticket_id * 2**20 + n``, a 64-bit id), so a
search streams the newest tickets first and stops at a full page; the index is rebuilt

Revision ID: 0008s
Revises: 0008m
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ticketd.store import search

revision = "0008s"
down_revision = "0008m"
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        op.alter_column("search_documents", "id", type_=sa.BigInteger(), server_default=None)
    search.clear(connection)
    search.fill_all(connection)


def downgrade() -> None:
    """The ids stay as they are (older code numbers new documents after them)."""
