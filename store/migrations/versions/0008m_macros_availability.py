"""saved replies (macros) and engineers' availability set in the workspace

Revision ID: 0008m
Revises: 0007v
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008m"
down_revision = "0007v"
branch_labels = None
depends_on = None


def _at(name: str, nullable: bool = False) -> sa.Column[sa.DateTime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "macros",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name_key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("text_ko", sa.Text(), server_default="", nullable=False),
        sa.Column("text_en", sa.Text(), server_default="", nullable=False),
        sa.Column("commands", sa.Text(), server_default="", nullable=False),
        sa.Column("updated_by", sa.String(length=320), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        _at("retired_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_macros")),
        sa.UniqueConstraint("name_key", name=op.f("uq_macros_name_key")),
    )
    op.create_table(
        "availability",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("away", sa.Boolean(), nullable=False),
        _at("back_at", nullable=True),
        sa.Column("set_by", sa.String(length=320), nullable=False),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_availability")),
    )


def downgrade() -> None:
    op.drop_table("availability")
    op.drop_table("macros")
