"""kept report days no longer count codes on their own: a code's count is the sum of its
``code_type`` rows, so the ``code`` rows go (a report reads a fifth fewer rows)

Revision ID: 0012u
Revises: 0012t
"""

from __future__ import annotations

from alembic import op

revision = "0012u"
down_revision = "0012t"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM report_counts WHERE measure = 'code'")


def downgrade() -> None:
    """The earlier version reads ``code`` rows: forget every kept day, which its poller
    keeps again."""
    for table in ("report_responses", "report_counts", "report_days"):
        op.execute(f"DELETE FROM {table}")
