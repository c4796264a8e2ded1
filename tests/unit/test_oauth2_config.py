"""``auth = "oauth2"`` in [mailbox] and [outbound]: provider presets and named problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from ticketd.daemon.config import ConfigError, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
MAILBOX = """
[mailbox]
address = "support@example.co.kr"
host = "outlook.office365.com"
username = "support@example.co.kr"
auth = "oauth2"
"""


def config_with(tmp_path: Path, mailbox: str, outbound: str = "") -> Path:
    text = EXAMPLE.read_text(encoding="utf-8")
    if outbound:
        text = text.replace('transport = "maildir"', f'transport = "smtp"\n{outbound}', 1)
        text = text.replace('username = ""', 'username = "support@example.co.kr"', 1)
    path = tmp_path / "ticketd.toml"
    path.write_text(text + mailbox, encoding="utf-8")
    return path


def test_microsoft_presets_fill_in_the_tenant_and_each_protocols_scope(tmp_path: Path) -> None:
    keys = (
        'oauth2_provider = "microsoft"\noauth2_tenant = "example.co.kr"\noauth2_client_id = "app"\n'
    )
    path = config_with(
        tmp_path,
        MAILBOX + keys + 'oauth2_refresh_token_env = "IMAP_RT"\n',
        'auth = "oauth2"\n'
        + keys
        + 'oauth2_refresh_token_file = "smtp-rt"\noauth2_mechanism = "oauthbearer"\n',
    )
    (tmp_path / "smtp-rt").write_text("smtp-secret\n", encoding="utf-8")
    config = load_config(path, {"IMAP_RT": "imap-secret"})
    assert config.mailbox is not None and config.mailbox.oauth2 is not None
    imap, smtp = config.mailbox.oauth2, config.outbound.oauth2
    assert smtp is not None
    url = "https://login.microsoftonline.com/example.co.kr/oauth2/v2.0/token"
    assert imap.token_url == smtp.token_url == url
    assert imap.scope == "https://outlook.office.com/IMAP.AccessAsUser.All offline_access"
    assert smtp.scope == "https://outlook.office.com/SMTP.Send offline_access"
    assert (imap.refresh_token, smtp.refresh_token) == ("imap-secret", "smtp-secret")
    assert (imap.mechanism, smtp.mechanism) == ("xoauth2", "oauthbearer")
    assert imap.key == "mailbox.oauth2_refresh_token"
    assert "secret" not in repr(config)


def test_missing_oauth2_keys_are_named_and_no_password_is_asked_for(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(config_with(tmp_path, MAILBOX), {})
    assert caught.value.problems == [
        "mailbox.oauth2_token_url: missing",
        "mailbox.oauth2_client_id: missing",
        "mailbox.oauth2_refresh_token: missing (set oauth2_refresh_token, "
        "oauth2_refresh_token_env or oauth2_refresh_token_file)",
    ]


def test_oauth2_keys_without_auth_oauth2_are_unknown(tmp_path: Path) -> None:
    mailbox = MAILBOX.replace('auth = "oauth2"', 'password = "pw"\noauth2_client_id = "x"')
    with pytest.raises(ConfigError) as caught:
        load_config(config_with(tmp_path, mailbox), {})
    assert caught.value.problems == ["mailbox.oauth2_client_id: unknown key"]
