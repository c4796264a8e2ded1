"""``ticketd purge --requester``: after it, no table holds the person's address, name or
a word they wrote, and the reports count the same."""

from __future__ import annotations

import contextlib
import json
import subprocess
import zlib
from pathlib import Path

import pytest
from sqlalchemy import MetaData, select

from tests.builders import claim
from tests.e2e.support import Workspace, write_config, write_mbox
from ticketd.store.db import make_engine

KIM = "Kim Minsu <Kim@Acme.co.kr>"
SECRETS = ("kim@acme.co.kr", "minsu", "zebrafinch", "quokkaword", "wombatfile")


def _feed(ws: Workspace, capsys: pytest.CaptureFixture[str], name: str, *mails: bytes) -> None:
    mbox = write_mbox(ws.root / f"{name}.mbox", mails)
    assert ws.cli(capsys, "import", str(mbox))[0] == 0
    assert ws.cli(capsys, "run", "--once")[0] == 0


def _traces(url: str) -> list[str]:
    """Every table and column where one of ``SECRETS`` is found (compressed pages too)."""
    engine = make_engine(url)
    found = []
    try:
        meta = MetaData()
        meta.reflect(engine)
        with engine.connect() as connection:
            for table in meta.sorted_tables:
                for row in connection.execute(select(table)):
                    for column, value in zip(table.columns, row, strict=True):
                        text = _text(value)
                        found += [f"{table.name}.{column.name}: {s}" for s in SECRETS if s in text]
    finally:
        engine.dispose()
    return found


def _text(value: object) -> str:
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        with contextlib.suppress(zlib.error):
            value = zlib.decompress(value)
        return value.decode("latin-1").lower()
    return str(value).lower()


def test_purge_erases_a_requester_everywhere_and_keeps_the_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = write_config(tmp_path)
    _feed(
        ws,
        capsys,
        "first",
        claim(
            "Zebrafinch order broken",
            "My zebrafinch cage arrived broken. Minsu, 010-1234-5678.",
            KIM,
            headers={"Cc": "Lee <lee@acme.co.kr>"},
            attachments=[("photo.txt", "text/plain", b"wombatfile pixels")],
        ),
        claim(
            "Billing question",
            "Please check the invoice.",
            "Park <park@bigcorp.co.kr>",
            headers={"Cc": KIM},
        ),
        claim(
            "Out of office",
            "I am away (zebrafinch).",
            KIM,
            headers={"Auto-Submitted": "auto-replied"},
        ),
    )
    listed = ws.cli_json(capsys, "ticket", "list")
    theirs = next(t for t in listed if t["requester"] == "kim@acme.co.kr")
    other = next(t for t in listed if t["requester"] == "park@bigcorp.co.kr")
    _feed(
        ws,
        capsys,
        "reply",
        claim(f"Re: [{other['tracking']}] Billing question", "Quokkaword from Kim.", KIM),
    )
    assert _traces(ws.database_url)
    before = ws.cli(capsys, "report", "--format", "json")[1]
    events_before = [
        e["type"] for e in ws.cli_json(capsys, "ticket", "show", theirs["tracking"])["events"]
    ]

    refused = subprocess.run(
        ["ticketd", "--config", str(ws.config), "purge", "--requester", "kim@acme.co.kr"],
        input="no\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 1 and refused.stderr.startswith("error: ")
    assert _traces(ws.database_url)

    code, out, err = ws.cli(capsys, "purge", "--requester", "KIM@acme.co.kr", "--yes")
    assert code == 0, err
    assert "messages=" in out and "raw mail=" in out and "attachments=1" in out

    assert _traces(ws.database_url) == [], _traces(ws.database_url)
    assert ws.cli(capsys, "report", "--format", "json")[1] == before
    shown = ws.cli_json(capsys, "ticket", "show", theirs["tracking"])
    assert shown["requester"].startswith("purged-") and shown["requester"].endswith("@invalid")
    assert [e["type"] for e in shown["events"]] == events_before
    assert (
        ws.cli_json(capsys, "ticket", "show", other["tracking"])["requester"]
        == "park@bigcorp.co.kr"
    )

    code, out, _ = ws.cli(capsys, "purge", "--requester", "kim@acme.co.kr", "--yes")
    assert code == 0 and out.rstrip().endswith(": nothing")
    assert json.loads(ws.cli(capsys, "report", "--format", "json")[1]) == json.loads(before)
