"""``[retention]``: raw mail and attachment files past their days are removed by the
scheduled job (``run --once`` runs it); tickets and their texts stay, and so does a file a
newer attachment shares and mail still held for review."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from tests.builders import claim
from tests.e2e.support import Workspace, write_config, write_mbox
from ticketd.store.db import make_engine
from ticketd.store.schema import attachments, blobs, inbound, messages, tickets

SHARED = b"the same manual, sent twice"


def _feed(ws: Workspace, capsys: pytest.CaptureFixture[str], name: str, *mails: bytes) -> None:
    mbox = write_mbox(ws.root / f"{name}.mbox", mails)
    assert ws.cli(capsys, "import", "--no-notify", str(mbox))[0] == 0


def _age(url: str, subject: str, days: int) -> None:
    """Make one ticket's mail ``days`` old (processed and received then)."""
    then = datetime.now(UTC) - timedelta(days=days)
    engine = make_engine(url)
    with engine.begin() as connection:
        ticket = select(tickets.c.id).where(tickets.c.subject == subject).scalar_subquery()
        connection.execute(update(messages).where(messages.c.ticket_id == ticket).values(at=then))
        connection.execute(
            update(inbound).where(inbound.c.ticket_id == ticket).values(processed_at=then)
        )
    engine.dispose()


def _state(url: str) -> dict[str, object]:
    engine = make_engine(url)
    with engine.connect() as connection:
        raw = {
            row.subject or row.state: row.raw is not None
            for row in connection.execute(
                select(inbound.c.state, inbound.c.raw, tickets.c.subject).select_from(
                    inbound.outerjoin(tickets, tickets.c.id == inbound.c.ticket_id)
                )
            )
        }
        files = {
            row.filename: (row.removed_at is not None, len(row.data))
            for row in connection.execute(
                select(attachments.c.filename, attachments.c.removed_at, blobs.c.data).join(
                    blobs, blobs.c.sha256 == attachments.c.sha256
                )
            )
        }
    engine.dispose()
    return {"raw": raw, "files": files}


def test_retention_removes_old_raw_mail_and_files_and_keeps_the_tickets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = write_config(tmp_path, extra="\n[retention]\nraw_mail_days = 30\nattachments_days = 30\n")
    _feed(
        ws,
        capsys,
        "mail",
        claim(
            "Old order",
            "The old order text.",
            attachments=[
                ("old.pdf", "application/pdf", b"old scan"),
                ("manual-old.txt", "text/plain", SHARED),
            ],
        ),
        claim(
            "New order",
            "The new order text.",
            "Lee <lee@acme.co.kr>",
            attachments=[
                ("manual-new.txt", "text/plain", SHARED),
            ],
        ),
        claim(
            "Away",
            "Auto reply.",
            "Park <park@acme.co.kr>",
            headers={"Auto-Submitted": "auto-replied"},
        ),
    )
    _age(ws.database_url, "Old order", 40)
    code, out, err = ws.cli(capsys, "run", "--once")
    assert code == 0, err
    assert "retention: raw=1 files=2" in out

    state = _state(ws.database_url)
    assert state["raw"] == {"Old order": False, "New order": True, "held": True}
    assert state["files"] == {
        "old.pdf": (True, 0),
        "manual-old.txt": (True, len(SHARED)),
        "manual-new.txt": (False, len(SHARED)),
    }
    old = next(t for t in ws.cli_json(capsys, "ticket", "list") if t["subject"] == "Old order")
    shown = ws.cli_json(capsys, "ticket", "show", old["tracking"])
    assert any("The old order text." in (e["text"] or "") for e in shown["events"])
    files = {a["filename"]: a["removed"] for e in shown["events"] for a in e["attachments"]}
    assert files == {"old.pdf": True, "manual-old.txt": True}

    code, out, _ = ws.cli(capsys, "run", "--once")
    assert code == 0 and "retention: raw=0 files=0" in out
