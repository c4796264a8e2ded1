"""Reading an mbox file or a Maildir folder as a stream of raw messages, in constant
memory (``mailbox.mbox`` builds a table of every message first; this never does)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path


class NotAMailbox(Exception):
    """The path is neither an mbox file nor a Maildir folder."""


class MailFile:
    """Messages of ``path`` one at a time; ``total`` and each item's ``done`` are in the
    same unit (bytes of an mbox, messages of a Maildir) for a progress bar."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.is_dir():
            if not (path / "cur").is_dir() and not (path / "new").is_dir():
                raise NotAMailbox(f"{path} is a folder but not a Maildir (no cur/ or new/)")
            self.is_maildir = True
            self.total = sum(1 for _ in self._maildir_files())
        elif path.is_file():
            self.is_maildir = False
            self.total = path.stat().st_size
        else:
            raise NotAMailbox(f"no such mbox file or Maildir folder: {path}")

    def __iter__(self) -> Iterator[tuple[bytes, int]]:
        return self._maildir() if self.is_maildir else self._mbox()

    def _maildir_files(self) -> Iterator[os.DirEntry[str]]:
        for sub in ("new", "cur"):
            folder = self.path / sub
            if folder.is_dir():
                with os.scandir(folder) as entries:
                    for entry in entries:
                        if entry.is_file() and not entry.name.startswith("."):
                            yield entry

    def _maildir(self) -> Iterator[tuple[bytes, int]]:
        for done, entry in enumerate(sorted(self._maildir_files(), key=lambda e: e.name), 1):
            yield Path(entry.path).read_bytes(), done

    def _mbox(self) -> Iterator[tuple[bytes, int]]:
        """Split on ``From `` lines; the blank line before each separator is the
        separator's, not the message's (as ``mailbox.mbox`` reads it)."""
        lines: list[bytes] = []
        position = 0
        with self.path.open("rb") as handle:
            for line in handle:
                position += len(line)
                if line.startswith(b"From "):
                    if lines:
                        yield _message(lines), position - len(line)
                    lines = []
                    continue
                lines.append(line)
        if lines:
            yield _message(lines), position


def _message(lines: list[bytes]) -> bytes:
    if lines and lines[-1] in (b"\n", b"\r\n"):
        lines = lines[:-1]
    return b"".join(lines)
