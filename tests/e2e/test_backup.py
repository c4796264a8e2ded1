"""``ticketd backup``: a consistent SQLite copy taken while ticketd writes, restored as
docs/operations.md says (copy the file back, ``ticketd init``); PostgreSQL is pointed at
``pg_dump``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.builders import claim
from tests.e2e.support import Workspace, write_config, write_mbox
from tests.fixtures.database import LANE


def _trackings(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> list[str]:
    return sorted(t["tracking"] for t in ws.cli_json(capsys, "ticket", "list"))


def _restore(backup: Path, root: Path, capsys: pytest.CaptureFixture[str]) -> Workspace:
    """A new installation whose database is the backup copied into place."""
    root.mkdir()
    restored = write_config(root)
    database = root / "var" / "ticketd.db"
    database.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(backup, database)
    code, _, err = restored.cli(capsys, "init")
    assert code == 0, err
    return restored


@pytest.mark.sqlite_only
def test_a_backup_taken_while_ticketd_writes_restores_to_the_same_tickets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "live").mkdir()
    ws = write_config(tmp_path / "live")
    first = write_mbox(tmp_path / "first.mbox", [claim(f"Order {n}") for n in range(20)])
    assert ws.cli(capsys, "import", "--no-notify", str(first))[0] == 0
    more = write_mbox(tmp_path / "more.mbox", [claim(f"Invoice {n}") for n in range(300)])
    writer = subprocess.Popen(
        ["ticketd", "--config", str(ws.config), "import", "--no-notify", str(more)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    copy = tmp_path / "during.db"
    code, out, err = ws.cli(capsys, "backup", str(copy))
    _, import_err = writer.communicate(timeout=120)
    assert writer.returncode == 0, import_err
    assert code == 0, err
    assert "integrity ok" in out and str(copy.stat().st_size) in out

    during = _trackings(_restore(copy, tmp_path / "during", capsys), capsys)
    final = _trackings(ws, capsys)
    assert len(final) == 320
    assert len(during) >= 20 and set(during) <= set(final)

    code, _, err = ws.cli(capsys, "backup", str(copy))
    assert code == 2 and err.startswith("error: ") and "--force" in err
    assert ws.cli(capsys, "backup", "--force", str(copy))[0] == 0
    assert _trackings(_restore(copy, tmp_path / "after", capsys), capsys) == final


@pytest.mark.skipif(LANE != "postgres", reason="the PostgreSQL lane")
def test_postgresql_is_pointed_at_pg_dump_without_the_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = write_config(tmp_path)
    assert ws.cli(capsys, "init")[0] == 0
    code, out, err = ws.cli(capsys, "backup", str(tmp_path / "copy.dump"))
    assert code == 2 and out == ""
    assert err.startswith("error: ") and "pg_dump -Fc" in err and err.count("\n") == 1
    database = ws.database_url.rsplit("/", 1)[1]
    assert f"-d {database}" in err and "@" not in err
    assert not (tmp_path / "copy.dump").exists()
