"""when retention removed an attachment's file (the row stays, so the ticket says so)

Revision ID: 0011p
Revises: 0011w
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011p"
down_revision = "0011w"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attachments") as batch:
        batch.add_column(sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attachments") as batch:
        batch.drop_column("removed_at")
