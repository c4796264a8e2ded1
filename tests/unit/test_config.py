"""Configuration: the example runs as is, and every problem names its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from ticketd.daemon.cli import main
from ticketd.daemon.config import ConfigError, load_config

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
    assert "smtp_listener.listn: unknown key" in found
    assert "colour: unknown key" in found
    assert "engineers[2].nmae: unknown key" in found


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
    assert "mailboxx: unknown key" in out.splitlines()
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
