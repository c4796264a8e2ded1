"""The client corpus through ``ticketd import``: one ticket per claim, each with the subject
and requester a person reads, and one acknowledgement addressed to that person by name."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.e2e.support import Workspace, write_config
from tests.fixtures.clients import CLIENTS, EXPECTED

Capsys = pytest.CaptureFixture[str]
HISTORY = "\n[ingest]\nacknowledge_max_age_hours = 1000000\n"
"""The fixtures carry their real dates; acknowledge them as if they had just arrived."""


def maildir_of_the_corpus(root: Path) -> Path:
    folder = root / "corpus"
    for sub in ("cur", "new", "tmp"):
        (folder / sub).mkdir(parents=True)
    for name in EXPECTED:
        (folder / "new" / name).write_bytes((CLIENTS / name).read_bytes())
    return folder


def addressed_to(mail: EmailMessage) -> list[tuple[str, str]]:
    """(address, display name) of each To, as a mail client shows them."""
    return [(a.addr_spec.lower(), a.display_name) for a in mail["To"].addresses]


def test_every_client_claim_is_one_ticket_read_right(tmp_path: Path, capsys: Capsys) -> None:
    ws: Workspace = write_config(tmp_path, extra=HISTORY)
    code, out, err = ws.cli(capsys, "import", str(maildir_of_the_corpus(tmp_path)))
    assert code == 0, err
    assert f"imported {len(EXPECTED)} messages" in out
    assert ws.cli(capsys, "run", "--once")[0] == 0

    tickets = ws.cli_json(capsys, "ticket", "list")
    expected = sorted(reading.email for reading in EXPECTED.values())
    assert sorted(t["requester"] for t in tickets) == expected
    by_requester = {t["requester"]: t["tracking"] for t in tickets}
    to_requesters = [
        (to, shown_name, mail)
        for mail in ws.sent_mail()
        for to, shown_name in addressed_to(mail)
        if to in by_requester
    ]
    assert sorted(to for to, _, _ in to_requesters) == expected  # one mail each, no more
    acknowledgements = {to: (shown_name, mail) for to, shown_name, mail in to_requesters}
    for name, reading in EXPECTED.items():
        shown = ws.cli_json(capsys, "ticket", "show", by_requester[reading.email])
        assert (shown["subject"], shown["requester"]) == (reading.subject, reading.email), name
        assert [e["type"] for e in shown["events"]].count("created") == 1, name
        shown_name, ack = acknowledgements[reading.email]
        assert shown_name == reading.name, name
        assert f"[{shown['tracking']}]" in str(ack["Subject"]), name
    assert ws.cli_json(capsys, "quarantine", "list") == []
