"""Streaming mbox and Maildir reading gives exactly what the stdlib ``mailbox`` gives."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest

from tests.builders import claim
from ticketd.mail.mailfiles import MailFile, NotAMailbox

MESSAGES = [
    claim(subject="one", body="From the start of a line\nstill body\n"),
    claim(subject="둘", body="본문\n\n\nwith blank lines at the end\n\n"),
    claim(subject="three", body="x" * 5000),
]


def test_mbox_matches_the_stdlib(tmp_path: Path) -> None:
    path = tmp_path / "box.mbox"
    box = mailbox.mbox(path)
    for data in MESSAGES:
        box.add(data)
    box.flush()
    expected = [box.get_bytes(key) for key in box.iterkeys()]
    box.close()
    source = MailFile(path)
    got = list(source)
    assert [data for data, _ in got] == expected
    assert got[-1][1] == source.total == path.stat().st_size
    assert [done for _, done in got] == sorted(done for _, done in got)


def test_maildir_reads_new_and_cur(tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "md")
    keys = [box.add(data) for data in MESSAGES]
    message = box.get_message(keys[0])
    message.set_subdir("cur")
    box[keys[0]] = message
    source = MailFile(tmp_path / "md")
    got = sorted(data for data, _ in source)
    assert source.total == 3
    assert [g.replace(b"\r\n", b"\n") for g in got] == sorted(
        box.get_bytes(k).replace(b"\r\n", b"\n") for k in box.iterkeys()
    )


def test_anything_else_is_refused(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    for path in (tmp_path / "folder", tmp_path / "missing.mbox"):
        with pytest.raises(NotAMailbox):
            MailFile(path)
