"""Shared pytest configuration: fixtures that start real servers live in tests/fixtures/."""

pytest_plugins = [
    "tests.fixtures.dovecot",
    "tests.fixtures.smtp_sink",
    "tests.fixtures.postgres",
]
