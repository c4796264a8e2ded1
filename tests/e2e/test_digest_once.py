"""The managers' digest through ``run --once`` on the wall clock: due at once (``time =
"00:00"``), mailed to every manager, and never twice for one day."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.builders import claim
from tests.e2e.support import text_of, write_config, write_mbox

Capsys = pytest.CaptureFixture[str]


def test_run_once_twice_sends_one_digest_per_manager(tmp_path: Path, capsys: Capsys) -> None:
    ws = write_config(tmp_path, extra='\n[digest]\ntime = "00:00"\n')
    ws.cli(capsys, "import", str(write_mbox(tmp_path / "a.mbox", [claim()])))
    code, out, err = ws.cli(capsys, "run", "--once")
    assert code == 0, err
    assert "digests=1" in out or "digests=1" in err
    assert ws.cli(capsys, "run", "--once")[0] == 0
    digests = [m for m in ws.sent_mail() if m["X-Ticketd-Digest"]]
    assert [str(m["To"]) for m in digests] == ["Bob <bob@example.com>"]  # the one manager
    text = text_of(digests[0])
    assert "Bob 님, 안녕하세요." in text
    assert "■ 담당자별 미해결 티켓" in text
    assert "http://127.0.0.1:8080/staff/dashboard" in text


def test_recipients_and_weekdays_are_checked_naming_the_key(tmp_path: Path, capsys: Capsys) -> None:
    ws = write_config(
        tmp_path,
        extra='\n[digest]\ntime = "9:00"\nweekdays = ["mon", "funday"]\nrecipients = ["nobody"]\n',
    )
    code, out, err = ws.cli(capsys, "check-config")
    assert code != 0
    report = out + err
    assert "digest.time: expected HH:MM" in report
    assert "digest.weekdays: unknown weekday 'funday'" in report
    assert "digest.recipients: not an email address: 'nobody'" in report
