"""``pip install .`` and ``pip install -e .`` into clean virtual environments both give a
working ``ticketd`` with its templates, static files and migrations."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def pip(env: Path, *args: str) -> None:
    subprocess.run(
        [str(env / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps",
         "--no-build-isolation", *args],
        check=True, capture_output=True, cwd=ROOT,
    )  # fmt: skip


def test_wheel_carries_data_files(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True,
    )  # fmt: skip
    [wheel] = tmp_path.glob("ticketd-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "ticketd/daemon/cli.py",
        "ticketd/store/migrations/env.py",
        "ticketd/store/migrations/script.py.mako",
        "ticketd/store/migrations/versions/0001_initial_schema.py",
        "ticketd/store/migrations/versions/0002_public_pages.py",
        "ticketd/notifications/templates/ko/acknowledgement.txt",
        "ticketd/notifications/templates/html/layout.html",
        "ticketd/web/templates/ticket.html",
        "ticketd/web/static/style.css",
    ):
        assert expected in names
    assert not any(name.startswith(("daemon/", "web/", "mail/")) for name in names)


@pytest.mark.parametrize("editable", [False, True], ids=["install", "editable"])
def test_clean_venv_install_runs(tmp_path: Path, editable: bool) -> None:
    env = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=True).create(env)
    pip(env, *(["-e", "."] if editable else ["."]))
    script = env / "bin" / "ticketd"
    shown = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=True)
    for command in ("init", "run", "import", "ticket", "check-config", "quarantine"):
        assert command in shown.stdout
    checked = subprocess.run(
        [str(script), "--config", str(ROOT / "config.example.toml"), "check-config"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    where = subprocess.run(
        [str(env / "bin" / "python"), "-c",
         "import ticketd.web.app as m, ticketd.daemon as d; print(m.__file__, d.__file__)"],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    ).stdout  # fmt: skip
    assert ("/work" in where or str(ROOT) in where) if editable else str(env) in where
