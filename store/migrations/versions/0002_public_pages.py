"""published status pages

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "public_pages",
        sa.Column("tracking", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("generation", sa.String(length=64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tracking"], ["tickets.tracking"], name=op.f("fk_public_pages_tracking_tickets")
        ),
        sa.PrimaryKeyConstraint("tracking", "language", name=op.f("pk_public_pages")),
    )


def downgrade() -> None:
    op.drop_table("public_pages")
