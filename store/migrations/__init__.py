"""Alembic migrations for the ticketd schema."""
