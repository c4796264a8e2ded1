"""the staff workspace's sign-in links, sessions and API tokens (kept as SHA-256 digests)

Revision ID: 0007a
Revises: 0007s
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007a"
down_revision = "0007s"
branch_labels = None
depends_on = None


def _at(name: str, nullable: bool = False) -> sa.Column[sa.DateTime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "sign_in_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("next_path", sa.Text(), server_default="", nullable=False),
        _at("created_at"),
        _at("expires_at"),
        _at("used_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_links")),
        sa.UniqueConstraint("digest", name=op.f("uq_sign_in_links_digest")),
    )
    op.create_index("ix_sign_in_links_email_created", "sign_in_links", ["email", "created_at"])
    op.create_table(
        "staff_sessions",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        _at("created_at"),
        _at("expires_at"),
        _at("ended_at", nullable=True),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_staff_sessions")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        _at("created_at"),
        _at("last_used_at", nullable=True),
        _at("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("digest", name=op.f("uq_api_tokens_digest")),
    )


def downgrade() -> None:
    op.drop_table("api_tokens")
    op.drop_table("staff_sessions")
    op.drop_index("ix_sign_in_links_email_created", table_name="sign_in_links")
    op.drop_table("sign_in_links")
