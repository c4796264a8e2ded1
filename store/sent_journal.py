"""Mail the relay accepted, noted outside SQLite's write lock.

SQLite has one writer at a time: while a batch of mail is ingested, a flush running beside
it could not mark a mail sent until the batch commits. So on SQLite the flush notes each
mail here the moment the relay accepted it (a line appended to ``<database>-sent``, which
outlives the process being killed), and the notes are folded into the outbox by the next
write transaction that claims mail, elects a poller or ends a flush (``Writer.fold_sent``);
the notes a fold took are removed from the file only once its transaction committed. A crash between
the relay's answer and the note still resends that one mail, with its Message-ID.

A note names the row and its Message-ID, and only a row still ``sending`` with both is
marked: folding a note twice, or a note left beside a restored backup, changes nothing.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
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
    """The complete notes in the file."""

    sent: tuple[Sent, ...]


class SentJournal:
    """The notes file of one SQLite database. Every access holds an exclusive ``flock`` on
    the file, so flushers in several threads or processes never lose a note, and the file
    is rewritten in place (never replaced), so a writer waiting for the lock appends to the
    file the next reader sees."""

    def __init__(self, path: Path) -> None:
        self.path = path

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
        with self._locked(os.O_WRONLY | os.O_APPEND | os.O_CREAT) as fd:
            os.write(fd, line)

    def read(self) -> Noted:
        """Every complete note in the file."""
        try:
            with self._locked(os.O_RDONLY) as fd:
                data = _all(fd)
        except FileNotFoundError:
            return Noted(())
        return Noted(tuple(sent for sent, _ in self._lines(data) if sent is not None))

    def discard(self, folded: Noted) -> None:
        """Forget the ``folded`` notes (their fold committed); every other note is kept. A
        line a killed process left unfinished goes too (nothing can finish it)."""
        if not folded.sent:
            return
        done = {(s.mail_id, s.message_id) for s in folded.sent}
        try:
            with self._locked(os.O_RDWR) as fd:
                kept = b"".join(
                    line
                    for sent, line in self._lines(_all(fd))
                    if sent is not None and (sent.mail_id, sent.message_id) not in done
                )
                os.ftruncate(fd, 0)
                if kept:
                    os.pwrite(fd, kept, 0)
        except FileNotFoundError:
            return

    def _lines(self, data: bytes) -> Iterator[tuple[Sent | None, bytes]]:
        """Each complete line with its note (None: unreadable, logged)."""
        for line in data.splitlines(keepends=True):
            if not line.endswith(b"\n"):
                return
            sent = _parse(line.decode("utf-8", "replace").rstrip("\n"))
            if sent is None:
                log.warning("sent journal %s: unreadable line %r skipped", self.path, line)
            yield sent, line

    @contextmanager
    def _locked(self, flags: int) -> Iterator[int]:
        fd = os.open(self.path, flags, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            os.close(fd)


def _all(fd: int) -> bytes:
    """The whole file behind ``fd``, from its start."""
    chunks, at = [], 0
    while chunk := os.pread(fd, 1 << 16, at):
        chunks.append(chunk)
        at += len(chunk)
    return b"".join(chunks)


def _parse(line: str) -> Sent | None:
    parts = line.split("\t")
    if len(parts) != 3 or not parts[0].isdigit():
        return None
    try:
        at = datetime.fromisoformat(parts[2])
    except ValueError:
        return None
    return Sent(int(parts[0]), parts[1], at)
