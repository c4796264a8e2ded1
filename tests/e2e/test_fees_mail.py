"""``#billable`` by mail, through Dovecot: recorded on the ticket, reported back, and the
month's fees follow it."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.test_engineer_mail import Desk, desk, engineer_mail

__all__ = ["desk"]
pytestmark = pytest.mark.dovecot

FEES = "\n[fees]\ndefault_rate = 60000\n"


def test_billable_no_by_mail_takes_the_ticket_off_the_bill(desk: Desk) -> None:
    desk.ws.config.write_text(desk.ws.config.read_text() + FEES)
    tracking, notice = desk.open_claim()
    reply_to = notice["Reply-To"].addresses[0].addr_spec
    mail = engineer_mail(tracking, "#time 30m\n#billable no\n#resolve\n", to=reply_to)
    desk.dovecot.deliver(mail)
    desk.cycle()
    [result] = [m for m in desk.mail_to("alice@example.com") if "명령" in m["Subject"]]
    assert "#billable no" in result.get_content()
    kinds = [e["type"] for e in desk.ticket(tracking)["events"]]  # type: ignore[union-attr]
    assert "billable_changed" in kinds
    month = datetime.now(ZoneInfo("Asia/Seoul")).strftime("%Y-%m")
    code, out, err = desk.ws.cli(desk.capsys, "fees", "--month", month)
    assert code == 0, err
    [row] = json.loads(out)
    assert (row["customer"], row["tickets"], row["minutes"]) == ("acme.co.kr", 1, 30)
    assert (row["billable_minutes"], row["amount"]) == (0, 0)
