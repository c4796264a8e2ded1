"""Upgrades: a database made by the first schema, holding data, is brought to the newest
revision by ``ticketd init`` (on both databases), and ticketd reads what it held."""

from __future__ import annotations

import json
import os
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import text

from tests.e2e.support import write_config
from ticketd.routing import tracking
from ticketd.store.db import MIGRATIONS, current_revision, head_revision, make_engine

CREATED = datetime(2025, 3, 2, 1, 0, tzinfo=UTC)
NUMBER = tracking.generate("SUP", os.urandom)
ROWS = [
    (
        "INSERT INTO tickets (id, tracking, status, priority, subject, requester_email, "
        "requester_name, owner, language, fingerprint, duplicate_count, minutes_worked, "
        "created_at, updated_at, first_response_at, last_customer_at) VALUES (1, :number, "
        "'open', 'high', '로그인 오류', 'kim@acme.co.kr', 'Kim', 'alice@example.com', 'ko', "
        "'f1', 0, 45, :created, :replied, :replied, :created)"
    ),
    (
        "INSERT INTO inbound (id, source, message_id, raw_sha256, raw, size, received_at, "
        "state, attempts, reason, disposition, ticket_id, processed_at) VALUES (1, 'imap', "
        "'<m1@acme.co.kr>', 'r1', :raw, 10, :created, 'done', 1, '', 'new', 1, :created)"
    ),
    (
        "INSERT INTO messages (id, ticket_id, message_id, direction, inbound_id, author, "
        "subject, body, public, at) VALUES (1, 1, '<m1@acme.co.kr>', 'in', 1, "
        "'kim@acme.co.kr', '로그인 오류', '관리자 페이지가 열리지 않습니다', :yes, :created)"
    ),
    "INSERT INTO blobs (sha256, data) VALUES ('b1', :file)",
    (
        "INSERT INTO attachments (id, ticket_id, message_ref, filename, content_type, size, "
        "sha256) VALUES (1, 1, 1, 'screen.png', 'image/png', 4, 'b1')"
    ),
    (
        "INSERT INTO events (id, ticket_id, type, at, actor, public, summary, message_ref) "
        "VALUES (1, 1, 'created', :created, 'kim@acme.co.kr', :yes, '', 1), "
        "(2, 1, 'assigned', :created, 'ticketd', :no, 'alice@example.com', NULL), "
        "(3, 1, 'reply_sent', :replied, 'alice@example.com', :yes, '', NULL)"
    ),
    "INSERT INTO claims (fingerprint, ticket_id, at) VALUES ('f1', 1, :created)",
    (
        "INSERT INTO outbox (id, message_id, ticket_id, kind, sender, recipient, automatic, "
        "data, state, attempts, last_error, created_at, next_attempt_at, sent_at) VALUES "
        "(1, '<o1@example.com>', 1, 'acknowledgement', 'support@example.com', "
        "'kim@acme.co.kr', :yes, :mail, 'sent', 1, '', :created, :created, :created)"
    ),
]


def test_init_upgrades_the_first_schema_with_data_to_head(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = write_config(tmp_path)
    engine = make_engine(ws.database_url)
    alembic = AlembicConfig()
    alembic.set_main_option("script_location", str(MIGRATIONS))
    values = {
        "number": NUMBER,
        "created": CREATED,
        "replied": CREATED + timedelta(hours=2),
        "raw": zlib.compress(b"From: kim@acme.co.kr\r\n\r\nhello"),
        "file": b"\x89PNG",
        "mail": b"Subject: ack",
        "yes": True,
        "no": False,
    }
    with engine.begin() as connection:
        alembic.attributes["connection"] = connection
        command.upgrade(alembic, "0001")
        for statement in ROWS:
            connection.execute(text(statement), values)
    assert current_revision(engine) == "0001"
    code, _, err = ws.cli(capsys, "ticket", "list")
    assert code == 1 and "ticketd init" in err

    code, out, err = ws.cli(capsys, "init")
    assert code == 0 and "database ready" in out, err
    assert current_revision(engine) == head_revision()
    engine.dispose()

    shown = ws.cli_json(capsys, "ticket", "show", NUMBER)
    assert (shown["status"], shown["priority"], shown["subject"]) == ("open", "high", "로그인 오류")
    assert (shown["requester"], shown["owner"]) == ("kim@acme.co.kr", "alice@example.com")
    assert [e["type"] for e in shown["events"]] == ["created", "assigned", "reply_sent"]
    assert [t["tracking"] for t in ws.cli_json(capsys, "ticket", "list")] == [NUMBER]
    code, out, _ = ws.cli(capsys, "report", "--from", "2025-03-01", "--to", "2025-03-03")
    assert code == 0 and sum(p["new"] for p in json.loads(out)["periods"]) == 1
    code, _, _ = ws.cli(capsys, "reindex")
    assert code == 0
    assert ws.cli(capsys, "init")[0] == 0
