"""Fill a private Dovecot's INBOX with a corpus fast: files, not IMAP APPEND.

The corpus is written as a Maildir (``bench/corpus.py``: names and mtimes in arrival order)
next to the server, its files are renamed into the server's ``cur/``, and a
``dovecot-uidlist`` is written that gives them UIDs 1..N in arrival order, as a live mailbox
would have. Dovecot reads that list on the first SELECT. 100,000 messages take seconds this
way, against minutes by APPEND. INTERNALDATE is the file's mtime: the corpus's own dates, so
the mailbox is history (older than ``acknowledge_max_age_hours``), as a real one is.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from bench.corpus import CORPUS_NAMES, Truth, write_corpus
from tests.fixtures.dovecot import DovecotServer, _give_to_mail_user


def fill_inbox(server: DovecotServer, messages: int, seed: int, staging: Path) -> Truth:
    """Put ``messages`` corpus messages into the (empty, never selected) INBOX of ``server``;
    ``staging`` must be on the server's file system, /tmp (the files are renamed)."""
    truth = write_corpus(messages, staging, "maildir", seed)
    new = staging / CORPUS_NAMES["maildir"] / "new"
    names = sorted(os.listdir(new))  # "<stamp>.M<index:07d>P0.corpus": arrival order
    cur = server.maildir / "cur"
    for name in names:
        target = cur / f"{name}:2,"
        os.rename(new / name, target)
        _give_to_mail_user(target)
    uidlist = server.maildir / "dovecot-uidlist"
    with uidlist.open("w", encoding="ascii") as out:
        out.write(f"3 V{int(time.time())} N{len(names) + 1} G{secrets.token_hex(16)}\n")
        out.writelines(f"{uid} :{name}:2,\n" for uid, name in enumerate(names, 1))
    _give_to_mail_user(uidlist)
    return truth
