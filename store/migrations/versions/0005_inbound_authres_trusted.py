"""inbound rows say whether their Authentication-Results can be believed

Mail a client handed straight to the SMTP listener carries headers its sender wrote. Rows
stored before this revision do not say who handed them over, so SMTP ones count as
untrusted (their commands still work by the signed reply address).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound") as batch:
        batch.add_column(
            sa.Column("authres_trusted", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    inbound = sa.table("inbound", sa.column("source"), sa.column("authres_trusted", sa.Boolean()))
    op.execute(inbound.update().where(inbound.c.source == "smtp").values(authres_trusted=False))


def downgrade() -> None:
    with op.batch_alter_table("inbound") as batch:
        batch.drop_column("authres_trusted")
