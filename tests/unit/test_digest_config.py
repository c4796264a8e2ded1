"""``[digest]`` in the configuration: the example's documented block loads; defaults."""

from __future__ import annotations

from datetime import time
from pathlib import Path

from ticketd.daemon.config import load_config
from ticketd.mail.message import Address

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def with_digest(tmp_path: Path, block: str | None = None) -> Path:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    start = lines.index(next(line for line in lines if line.startswith("# [digest]")))
    documented = [line.removeprefix("# ") for line in lines[start:] if line.startswith("#")]
    path = tmp_path / "ticketd.toml"
    path.write_text("\n".join([*lines, "", *(block or "\n".join(documented)).splitlines()]))
    return path


def test_the_documented_block_loads(tmp_path: Path) -> None:
    digest = load_config(with_digest(tmp_path), {}).digest
    assert digest is not None
    assert digest.at == time(9, 0) and digest.timezone == "Asia/Seoul"
    assert digest.weekdays == frozenset(range(5)) and digest.language == "ko"
    assert digest.recipients == (Address("bob@example.com", "Bob"),)


def test_defaults_every_manager_every_day_and_without_time_no_digest(tmp_path: Path) -> None:
    digest = load_config(with_digest(tmp_path, '[digest]\ntime = "18:30"'), {}).digest
    assert digest is not None and digest.at == time(18, 30)
    assert digest.weekdays == frozenset(range(7))
    assert [r.email for r in digest.recipients] == ["bob@example.com"]
    assert load_config(with_digest(tmp_path, "[digest]"), {}).digest is None
    assert load_config(EXAMPLE, {}).digest is None
