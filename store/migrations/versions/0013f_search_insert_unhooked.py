"""new search documents are indexed with their insert, not by an AFTER INSERT trigger
(FTS5 wrote every document a trigger indexed as a segment of its own; see
``store.search.INSERT_FTS``)

Revision ID: 0013f
Revises: 0012t
"""

from __future__ import annotations

from alembic import op

from ticketd.store import search

revision = "0013f"
down_revision = "0012t"
branch_labels = None
depends_on = None

TRIGGER = "search_documents_ai"


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {TRIGGER}")


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "sqlite" and search.has_fts(connection):
        connection.exec_driver_sql(
            f"CREATE TRIGGER {TRIGGER} AFTER INSERT ON search_documents BEGIN "
            f"INSERT INTO {search.FTS}(rowid, text) VALUES (new.id, new.text); END"
        )
