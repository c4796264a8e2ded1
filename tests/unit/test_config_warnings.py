"""``check-config`` warnings (valid but unsafe settings) and did-you-mean for unknown keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from ticketd.daemon.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
SAFE_KEY = 'secret_key = "change-me-this-example-key-is-public"'
Capsys = pytest.CaptureFixture[str]


def config(tmp_path: Path, *replacements: tuple[str, str], extra: str = "") -> Path:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        SAFE_KEY, 'secret_key = "a-private-key-nobody-else-has-0123"'
    )
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "ticketd.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path


def check(path: Path, capsys: Capsys) -> tuple[int, list[str]]:
    code = main(["--config", str(path), "check-config"])
    out, err = capsys.readouterr()
    assert out.startswith(f"{path}: ok")
    return code, [line for line in err.splitlines() if line]


def test_a_private_key_on_loopback_has_no_warnings(tmp_path: Path, capsys: Capsys) -> None:
    assert check(config(tmp_path), capsys) == (0, [])


def test_the_public_example_key_is_a_warning(capsys: Capsys) -> None:
    code, [warning] = check(EXAMPLE, capsys)
    assert code == 0
    assert warning.startswith("warning: [web].secret_key: the public example key")
    assert "secret_key_env" in warning


def test_a_loopback_base_url_behind_a_public_listen_is_a_warning(
    tmp_path: Path, capsys: Capsys
) -> None:
    public = config(tmp_path, ('listen = "127.0.0.1:8080"', 'listen = "0.0.0.0:8080"'))
    code, [warning] = check(public, capsys)
    assert code == 0
    assert warning.startswith("warning: [web].base_url: http://127.0.0.1:8080 is on loopback")
    fixed = config(
        tmp_path,
        ('listen = "127.0.0.1:8080"', 'listen = "0.0.0.0:8080"'),
        ('base_url = "http://127.0.0.1:8080"', 'base_url = "https://help.example.com"'),
    )
    assert check(fixed, capsys) == (0, [])


def test_plain_imap_and_smtp_off_loopback_are_warnings(tmp_path: Path, capsys: Capsys) -> None:
    mailbox = (
        '\n[mailbox]\naddress = "support@example.com"\nhost = "imap.example.com"\nport = 143\n'
        'security = "none"\nusername = "support"\npassword = "pw"\n'
    )
    remote = config(
        tmp_path,
        ('transport = "maildir"', 'transport = "smtp"'),
        ('host = "127.0.0.1"                  # SMTP relay', 'host = "smtp.example.com" #'),
        extra=mailbox,
    )
    code, warnings = check(remote, capsys)
    assert code == 0
    assert warnings == [
        'warning: [mailbox].security: "none" to imap.example.com, not on loopback, sends the '
        'password and every mail unencrypted; use "ssl" or "starttls"',
        'warning: [outbound].security: "none" to smtp.example.com, not on loopback, sends every '
        'mail unencrypted; use "ssl" or "starttls"',
    ]
    local = config(
        tmp_path,
        ('transport = "maildir"', 'transport = "smtp"'),
        extra=mailbox.replace("imap.example.com", "localhost"),
    )
    assert check(local, capsys) == (0, [])


def test_a_misspelt_key_suggests_the_closest_one_in_check_config_and_at_start_up(
    tmp_path: Path, capsys: Capsys
) -> None:
    path = config(
        tmp_path,
        ('language = "ko"', 'langauge = "ko"'),
        ('secret_key = "a-private', 'secret_kye = "a-private'),
    )
    assert main(["--config", str(path), "check-config"]) == 2
    out, _ = capsys.readouterr()
    assert "service.langauge: unknown key (did you mean `language`?)" in out.splitlines()
    assert "web.secret_kye: unknown key (did you mean `secret_key`?)" in out.splitlines()
    assert main(["--config", str(path), "run", "--once"]) == 2
    _, err = capsys.readouterr()
    assert err.count("\n") == 1
    assert "service.langauge: unknown key (did you mean `language`?)" in err


def test_an_unknown_section_suggests_the_closest_section(tmp_path: Path, capsys: Capsys) -> None:
    path = config(tmp_path, ("[outbound]", "[outbund]"))
    assert main(["--config", str(path), "check-config"]) == 2
    out, _ = capsys.readouterr()
    assert "outbund: unknown key (did you mean `outbound`?)" in out.splitlines()
