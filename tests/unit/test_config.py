"""Configuration: the example runs as is, and every problem names its key."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ticketd.daemon.cli import main
from ticketd.daemon.config import ConfigError, load_config
from ticketd.routing.model import Priority

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ticketd.toml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")
    return path


def problems(path: Path, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ or {})
    return caught.value.problems


def test_the_example_loads_and_resolves_paths_against_its_folder() -> None:
    config = load_config(EXAMPLE, {})
    assert config.database.url == f"sqlite:///{ROOT / 'var' / 'ticketd.db'}"
    assert config.outbound.maildir == ROOT / "var" / "outbox"
    assert config.outbound.retry_seconds == 30
    assert config.support_address == "support@example.com"
    assert config.smtp_listener is not None and config.mailbox is None
    assert [e.email for e in config.engineers] == ["alice@example.com", "bob@example.com"]


def test_every_key_documented_in_the_example_is_known(tmp_path: Path) -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    start = lines.index("# [mailbox]")
    block = []
    for line in lines[start:]:
        if not line.startswith("#"):
            break
        block.append(line.removeprefix("# "))
    path = tmp_path / "with-mailbox.toml"
    path.write_text("\n".join([*lines, "", *block]) + "\n", encoding="utf-8")
    assert problems(path) == [
        "mailbox.password_env: environment variable TICKETD_IMAP_PASSWORD is not set"
    ]
    config = load_config(path, {"TICKETD_IMAP_PASSWORD": "pw"})
    assert config.mailbox is not None and config.mailbox.cafile == tmp_path / "certs/imap-ca.pem"


def test_unknown_keys_are_errors_at_every_level(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "\n[smtp_listener]", "\n[smtp_listener]\nlistn = 1\n#"
    )
    path.write_text(
        text + '\n[colour]\nx = 1\n[[engineers]]\nemail = "c@example.com"\nnmae = "C"\n'
    )
    found = problems(path)
    assert "smtp_listener.listn: unknown key (did you mean `listen`?)" in found
    assert "colour: unknown key" in found
    assert "engineers[2].nmae: unknown key (did you mean `name`?)" in found


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    text = (
        EXAMPLE.read_text(encoding="utf-8")
        .replace('tracking_prefix = "SUP"', 'tracking_prefix = "sup1"')
        .replace('language = "ko"', 'language = "fr"')
        .replace('timezone = "Asia/Seoul"', 'timezone = "Mars/Olympus"')
        .replace('listen = "127.0.0.1:2525"', 'listen = "localhost"')
        .replace('owner = "alice@example.com"', 'owner = "mallory@example.com"')
    )
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    found = problems(path)
    assert "service.tracking_prefix: must be 2-5 capital letters" in found
    assert "service.language: must be one of ko, en" in found
    assert any(p.startswith("service.timezone: unknown time zone") for p in found)
    assert any(p.startswith("smtp_listener.listen: expected host:port") for p in found)
    assert "routing.rules[0].owner: mallory@example.com is not an engineer" in found


def test_secrets_from_env_and_file_never_appear_in_errors_or_repr(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        'secret_key = "change-me-this-example-key-is-public"', 'secret_key_env = "TD_SECRET"'
    )
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    assert problems(path) == ["web.secret_key_env: environment variable TD_SECRET is not set"]
    config = load_config(path, {"TD_SECRET": "s3cr3t-value-long-enough"})
    assert config.web.secret_key == "s3cr3t-value-long-enough"
    assert "s3cr3t" not in repr(config)
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "web.key").write_text("from-a-file-0123456789\n")
    path.write_text(
        text.replace('secret_key_env = "TD_SECRET"', 'secret_key_file = "keys/web.key"')
    )
    assert load_config(path, {}).web.secret_key == "from-a-file-0123456789"


def test_bad_toml_names_the_position(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[service\nname = 1\n")
    [problem] = problems(path)
    assert "invalid TOML" in problem and "line 1" in problem


def test_check_config_prints_every_problem_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "[mailboxx]\nhost = 1\n")
    assert main(["--config", str(path), "check-config"]) == 2
    out, err = capsys.readouterr()
    assert "mailboxx: unknown key (did you mean `mailbox`?)" in out.splitlines()
    assert err.count("\n") == 1 and err.startswith("error: 1 problem in")
    assert main(["--config", str(EXAMPLE), "check-config"]) == 0
    assert "ok" in capsys.readouterr().out


def test_run_refuses_to_start_on_a_bad_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.toml"
    path.write_text(EXAMPLE.read_text().replace("port = 25", 'port = "twenty-five"'))
    assert main(["--config", str(path), "run", "--once"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: invalid configuration: outbound.port: expected an integer")


def listener_config(tmp_path: Path, lines: str) -> Path:
    """The example with ``lines`` as its whole [smtp_listener] section."""
    text = EXAMPLE.read_text(encoding="utf-8")
    start, end = text.index("\n[smtp_listener]"), text.index("\n[outbound]")
    path = tmp_path / "c.toml"
    path.write_text(f"{text[:start]}\n[smtp_listener]\n{lines}\n{text[end:]}", encoding="utf-8")
    return path


def test_listener_limits_and_trusted_relays(tmp_path: Path) -> None:
    example = load_config(EXAMPLE, {}).smtp_listener
    assert example is not None
    settings = example.settings
    assert (settings.max_sessions, settings.max_sessions_per_peer) == (100, 20)
    assert (settings.timeout_seconds, settings.max_session_seconds) == (60, 600)
    assert settings.trusted_relays == ()
    path = listener_config(
        tmp_path,
        "max_sessions = 5\nmax_sessions_per_peer = 2\n"
        'timeout_seconds = 1.5\ntrusted_relays = ["192.0.2.25", "10.1.0.0/16", "2001:db8::/32"]',
    )
    listener = load_config(path, {}).smtp_listener
    assert listener is not None
    assert listener.settings.max_sessions == 5 and listener.settings.timeout_seconds == 1.5
    assert [str(n) for n in listener.settings.trusted_relays] == [
        "192.0.2.25/32", "10.1.0.0/16", "2001:db8::/32"
    ]  # fmt: skip
    assert listener.settings.trusts(("10.1.2.3", 25)) and listener.settings.trusts(
        ("::ffff:192.0.2.25", 25, 0, 0)
    )
    assert not listener.settings.trusts(("10.2.0.1", 25))


def test_bad_trusted_relays_and_limits_name_their_key(tmp_path: Path) -> None:
    path = listener_config(
        tmp_path,
        'trusted_relays = ["mx.example.com", "10.1.0.1/16", 7]\n'
        "max_sessions = 0\ntimeout_seconds = 0",
    )
    found = problems(path)
    assert (
        "smtp_listener.trusted_relays[0]: expected an IP address or network, got 'mx.example.com'"
        in found
    )
    hint = "has host bits set (did you mean 10.1.0.0/16?)"
    assert f"smtp_listener.trusted_relays[1]: '10.1.0.1/16' {hint}" in found
    assert "smtp_listener.trusted_relays[2]: expected an IP address or network, got 7" in found
    assert "smtp_listener.max_sessions: must be between 1 and 100000" in found
    assert "smtp_listener.timeout_seconds: must be at least 1" in found
    assert "smtp_listener.trusted_relays: expected a list of strings, got '127.0.0.1'" in problems(
        listener_config(tmp_path, 'trusted_relays = "127.0.0.1"')
    )


def test_staff_session_hours_defaults_to_12_and_is_checked(tmp_path: Path) -> None:
    assert load_config(EXAMPLE, {}).web.staff_session_hours == 12
    text = EXAMPLE.read_text(encoding="utf-8")
    path = tmp_path / "ticketd.toml"
    path.write_text(text.replace("staff_session_hours = 12", "staff_session_hours = 1.5"))
    assert load_config(path, {}).web.staff_session_hours == 1.5
    path.write_text(text.replace("staff_session_hours = 12", "staff_session_hours = 0"))
    assert any("web.staff_session_hours" in p for p in problems(path))


def sla(tmp_path: Path, lines: str) -> Path:
    path = tmp_path / "sla.toml"
    text = EXAMPLE.read_text(encoding="utf-8").replace("[sla]\n", f"[sla]\n{lines}\n")
    path.write_text(text, encoding="utf-8")
    return path


def test_business_time_keys_load(tmp_path: Path) -> None:
    path = sla(
        tmp_path,
        'business_hours = { mon = "09:00-12:00,13:00-18:00", fri = "09:00-18:00", sat = "" }\n'
        'holidays = "KR"\nextra_holidays = ["2027-05-04", 2027-05-06]\n'
        'extra_workdays = ["2027-02-13"]\npriority_hours = { urgent = 4, high = 8 }\n'
        "next_response_hours = 8",
    )
    config = load_config(path, {}).sla
    assert config.business_hours is not None and len(config.business_hours["mon"]) == 2
    assert config.business_hours["sat"] == ()
    assert config.holidays == "KR"
    assert config.extra_holidays == {date(2027, 5, 4), date(2027, 5, 6)}
    assert config.extra_workdays == {date(2027, 2, 13)}
    assert config.priority_hours == {Priority.URGENT: 4.0, Priority.HIGH: 8.0}
    assert config.next_response_hours == 8.0
    assert load_config(EXAMPLE, {}).sla.next_response_hours is None


def test_bad_business_time_keys_are_named(tmp_path: Path) -> None:
    path = sla(
        tmp_path,
        'business_hours = { mon = "9-18", funday = "09:00-10:00" }\nholidays = "XX"\n'
        'extra_workdays = ["13 Feb"]\npriority_hours = { critical = 2, high = "8" }',
    )
    assert problems(path) == [
        "sla.holidays: unknown country code 'XX'",
        "sla.business_hours.mon: expected ranges like 09:00-18:00, got '9-18'",
        "sla.business_hours.funday: unknown day"
        " (expected one of mon, tue, wed, thu, fri, sat, sun)",
        "sla.business_hours: no day is open",
        "sla.extra_workdays[0]: expected a date (YYYY-MM-DD), got '13 Feb'",
        "sla.priority_hours.critical: unknown priority (expected one of low, normal, high, urgent)",
        "sla.priority_hours.high: expected a number of hours, got '8'",
    ]


def test_code_rules_need_a_well_formed_path_but_not_an_existing_code(tmp_path: Path) -> None:
    config = load_config(EXAMPLE, {})
    [rule] = config.code_rules
    assert (rule.code, rule.mode.value, rule.when.subject_contains) == (
        "배송/파손",
        "suggest",
        ("파손", "broken"),
    )
    bad = """
[[codes.rules]]
body_contains = ["refund"]
code = "a/b/c/d"
mode = "always"

[[codes.rules]]
subject_contains = ["x"]
"""
    assert problems(write(tmp_path, bad)) == [
        "codes.rules[1].mode: must be one of set, suggest",
        "codes.rules[1].code: a code has at most 3 levels",
        "codes.rules[2].code: missing",
    ]
