"""Shared pytest configuration: fixtures that start real servers live in tests/fixtures/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("ticketd", deadline=None)
settings.load_profile("ticketd")
"""Properties are checked for what they assert, never for how fast one example runs: on a
shared CI machine a slow example is not a failure (benchmarks in bench/ measure speed)."""

pytest_plugins = [
    "tests.fixtures.dovecot",
    "tests.fixtures.smtp_sink",
    "tests.fixtures.oauth2_server",
    "tests.fixtures.postgres",
    "tests.fixtures.database",
]


@pytest.fixture(autouse=True)
def _database_lane(new_database: Callable[[Path], str]) -> Iterator[None]:
    """Workspaces written by ``tests.e2e.support.write_config`` use the lane's database."""
    from tests.e2e import support

    support.NEW_DATABASE = new_database
    yield
    support.NEW_DATABASE = support.sqlite_database
