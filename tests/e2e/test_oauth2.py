"""OAuth2 end to end: ``run --once`` reading a Dovecot that only takes XOAUTH2 tokens,
``check-config`` naming the missing keys, and ``ticketd oauth2 authorize``."""

from __future__ import annotations

import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.builders import claim
from tests.e2e.support import Workspace, write_config
from tests.fixtures.dovecot import DovecotServer
from tests.fixtures.oauth2_server import CLIENT_ID, OAuth2Server

Capsys = pytest.CaptureFixture[str]


def oauth2_workspace(tmp_path: Path, port: int, server: OAuth2Server, token: str = "") -> Workspace:
    secret = ""
    if token:
        (tmp_path / "refresh-token").write_text(token + "\n", encoding="utf-8")
        secret = 'oauth2_refresh_token_file = "refresh-token"'
    section = f"""
[mailbox]
address = "support@example.com"
host = "127.0.0.1"
port = {port}
security = "none"
username = "support"
auth = "oauth2"
oauth2_provider = "custom"
oauth2_token_url = "{server.token_url}"
oauth2_authorize_url = "{server.authorize_url}"
oauth2_device_url = "{server.device_url}"
oauth2_client_id = "{CLIENT_ID}"
oauth2_scope = "mail"
{secret}
"""
    return write_config(tmp_path, mailbox_section=section)


@pytest.mark.dovecot
def test_run_once_reads_the_mailbox_with_an_oauth2_token(
    tmp_path: Path, dovecot_oauth2: DovecotServer, oauth2_server: OAuth2Server, capsys: Capsys
) -> None:
    refresh = oauth2_server.new_refresh_token()
    dovecot_oauth2.deliver(claim(subject="Broken pump", body="It leaks"))
    ws = oauth2_workspace(tmp_path, dovecot_oauth2.port, oauth2_server, refresh)
    code, out, err = ws.cli(capsys, "run", "--once")
    assert code == 0, err
    assert "processed 1 messages" in out
    assert [t["subject"] for t in ws.cli_json(capsys, "ticket", "list")] == ["Broken pump"]

    oauth2_server.revoke_refresh(refresh)
    code, out, err = ws.cli(capsys, "run", "--once")
    assert code == 1
    assert err.splitlines()[-1].startswith(
        "error: mailbox: mailbox.oauth2_refresh_token: the token endpoint refused"
    )
    assert refresh not in err
    assert [line for line in err.splitlines() if line.startswith("error:")] == [
        err.splitlines()[-1]
    ]


def test_check_config_names_the_missing_oauth2_keys(
    tmp_path: Path, oauth2_server: OAuth2Server, capsys: Capsys
) -> None:
    ws = oauth2_workspace(tmp_path, 993, oauth2_server)
    ws.config.write_text(
        ws.config.read_text().replace(f'oauth2_client_id = "{CLIENT_ID}"', ""), encoding="utf-8"
    )
    code, out, err = ws.cli(capsys, "check-config")
    assert code == 2
    assert "mailbox.oauth2_client_id: missing" in out + err
    assert "mailbox.oauth2_refresh_token: missing" in out + err
    assert "mailbox.password" not in out + err


def authorizing(ws: Workspace, *flags: str) -> subprocess.Popen[str]:
    command = ["ticketd", "--config", str(ws.config), "oauth2", "authorize", "--for", "mailbox"]
    return subprocess.Popen(
        [*command, *flags], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def printed_url(process: subprocess.Popen[str], prefix: str) -> str:
    """The first line of the process's output that starts with ``prefix``."""
    assert process.stdout is not None
    line = ""
    while not line.startswith(prefix):
        line = process.stdout.readline().strip()
        assert line or process.poll() is None, process.stderr.read()  # type: ignore[union-attr]
    return line


def refresh_token_printed(process: subprocess.Popen[str], server: OAuth2Server) -> str:
    try:
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    token = out.strip().splitlines()[-1]
    assert token in server.refresh_tokens
    assert "mailbox.oauth2_refresh_token_file" in out
    return token


def test_authorize_device_flow_polls_until_the_user_enters_the_code(
    tmp_path: Path, oauth2_server: OAuth2Server
) -> None:
    ws = oauth2_workspace(tmp_path, 993, oauth2_server)
    process = authorizing(ws, "--device")
    line = printed_url(process, f"{oauth2_server.url}/verify")
    code = line.rpartition("code: ")[2]
    with urllib.request.urlopen(f"{oauth2_server.url}/verify?user_code={code}", timeout=10):
        pass
    refresh_token_printed(process, oauth2_server)


def test_authorize_gets_the_first_refresh_token_by_the_loopback_redirect(
    tmp_path: Path, oauth2_server: OAuth2Server
) -> None:
    ws = oauth2_workspace(tmp_path, 993, oauth2_server)
    process = authorizing(ws)
    url = printed_url(process, oauth2_server.authorize_url)
    assert "code_challenge_method=S256" in url
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A" in url
    with urllib.request.urlopen(url, timeout=10) as page:  # the browser, redirected
        assert b"Authorized" in page.read()
    refresh_token_printed(process, oauth2_server)
