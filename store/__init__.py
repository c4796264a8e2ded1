"""Database storage: schema, sessions, and the only writers of ticket state."""
