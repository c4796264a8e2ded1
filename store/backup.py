"""A consistent copy of the SQLite database while the daemon writes (``ticketd backup``).

The copy is taken with SQLite's online backup API a few pages at a time, so writers are
held up only for one step at a time; it is written beside its destination, checked with
``PRAGMA integrity_check`` and only then renamed into place. PostgreSQL is copied with
``pg_dump``, never by ticketd.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

PAGES_PER_STEP = 256
PAUSE_SECONDS = 0.005


class BackupRefused(Exception):
    """No copy was made; the message says why and what to do instead."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    pages: int


def backup(url: str, destination: Path, *, force: bool = False) -> BackupResult:
    """Copy the database of ``url`` to ``destination`` (refused if it exists, unless
    ``force``)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        name = parsed.database or "DBNAME"
        raise BackupRefused(
            f"the database is PostgreSQL: back it up with "
            f"`pg_dump -Fc -d {name} -f {destination}` (restore with `pg_restore -d {name}`)"
        )
    source = Path(parsed.database or "")
    if not source.is_file():
        raise BackupRefused(f"no database file at {source}")
    if destination.exists() and not force:
        raise BackupRefused(f"{destination} exists (pass --force to replace it)")
    partial = destination.with_name(f".{destination.name}.partial")
    partial.unlink(missing_ok=True)
    pages = _copy(source, partial)
    os.replace(partial, destination)
    return BackupResult(destination, destination.stat().st_size, pages)


def _copy(source: Path, target: Path) -> int:
    """The online backup of ``source`` into ``target``, checked; its page count."""
    done = 0

    def progress(_status: int, remaining: int, total: int) -> None:
        nonlocal done
        done = total - remaining

    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=PAGES_PER_STEP, progress=progress, sleep=PAUSE_SECONDS)
        dst.execute("PRAGMA journal_mode=DELETE")
        verdict = dst.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        dst.close()
        src.close()
    if verdict != "ok":
        target.unlink(missing_ok=True)
        raise BackupRefused(f"the copy failed its integrity check: {verdict}")
    return done
