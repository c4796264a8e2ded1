"""The import contracts in pyproject.toml bite: a copy of the source tree with one forbidden
import per contract breaks every one of them (and the real tree keeps them, in CI)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("daemon", "mail", "routing", "notifications", "web", "store")
PROBES = {
    # the mail edges are the bottom layer: they may not look up into the core
    "mail/probe_layers.py": "import ticketd.routing.model\n",
    # the pure core may not use randomness, files or sockets itself
    "routing/probe_io.py": "import secrets\n",
    # pages and notices never talk to the database
    "web/probe_database.py": "import sqlalchemy\n",
    # outside the store, nobody touches the tables
    "daemon/probe_tables.py": "from ticketd.store.schema import tickets\n",
}
INNER_PROBE = "from ticketd.daemon import service\n"  # the runner may not reach up into the service


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(lint_imports), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def copy_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    (tree / "ticketd").mkdir(parents=True)
    shutil.copy(ROOT / "ticketd" / "__init__.py", tree / "ticketd")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            tree / "ticketd" / package,
            ignore=shutil.ignore_patterns("__pycache__", "templates", "static", "*.mako"),
        )
    return tree


def test_each_contract_breaks_on_its_forbidden_import(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    clean = lint(tree)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    for name, line in PROBES.items():
        (tree / "ticketd" / name).write_text(line, encoding="utf-8")
    runner = tree / "ticketd" / "daemon" / "runner.py"
    runner.write_text(runner.read_text(encoding="utf-8") + INNER_PROBE, encoding="utf-8")
    probed = lint(tree)
    assert probed.returncode != 0
    assert "Contracts: 0 kept, 5 broken." in probed.stdout, probed.stdout
