"""Mail the relay accepted, noted outside SQLite's write lock.

SQLite has one writer at a time: while a batch of mail is ingested, a flush running beside
it could not mark a mail sent until the batch commits. So on SQLite the flush notes each
mail here the moment the relay accepted it (a line appended to ``<database>-sent``, which
outlives the process being killed), and the notes are folded into the outbox by the next
write transaction that claims mail, elects a poller or ends a flush (``Writer.fold_sent``);
each fold is discarded from the file only once its transaction committed. A crash between
the relay's answer and the note still resends that one mail, with its Message-ID.

A note names the row and its Message-ID, and only a row still ``sending`` with both is
marked: folding a note twice, or a note left beside a restored backup, changes nothing.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Sent:
    """One note: the outbox row, its Message-ID and when the relay accepted it."""

    mail_id: int
    message_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Noted:
    """The notes in the file, and where they end (for ``SentJournal.discard``)."""

    sent: tuple[Sent, ...]
    end: int


class SentJournal:
    """The notes file of one SQLite database (safe to share between threads)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    @classmethod
    def beside(cls, engine: Engine) -> SentJournal | None:
        """The journal of a SQLite file database; None elsewhere (PostgreSQL marks mail
        sent in a transaction of its own: rows, not the database, are locked)."""
        database = engine.url.database
        if engine.dialect.name != "sqlite" or not database or database == ":memory:":
            return None
        path = Path(database)
        return cls(path.with_name(path.name + "-sent"))

    def note(self, mail_id: int, message_id: str, at: datetime) -> None:
        """Record that the relay accepted this mail (one ``write``: whole or not at all
        when the process is killed)."""
        line = f"{mail_id}\t{message_id}\t{at.isoformat()}\n".encode()
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)

    def read(self) -> Noted:
        """Every complete note in the file."""
        with self._lock:
            try:
                data = self.path.read_bytes()
            except FileNotFoundError:
                return Noted((), 0)
        end = data.rfind(b"\n") + 1
        sent = []
        for line in data[:end].decode("utf-8", "replace").splitlines():
            parsed = _parse(line)
            if parsed is None:
                log.warning("sent journal %s: unreadable line %r skipped", self.path, line)
            else:
                sent.append(parsed)
        return Noted(tuple(sent), end)

    def discard(self, end: int) -> None:
        """Forget the notes before ``end`` (they were folded and committed); notes added
        since are kept."""
        if end <= 0:
            return
        with self._lock:
            try:
                data = self.path.read_bytes()
            except FileNotFoundError:
                return
            rest = data[end:]
            if rest:
                tmp = self.path.with_name(self.path.name + ".tmp")
                tmp.write_bytes(rest)
                os.replace(tmp, self.path)
            else:
                os.truncate(self.path, 0)


def _parse(line: str) -> Sent | None:
    parts = line.split("\t")
    if len(parts) != 3 or not parts[0].isdigit():
        return None
    try:
        at = datetime.fromisoformat(parts[2])
    except ValueError:
        return None
    return Sent(int(parts[0]), parts[1], at)
