"""``ticketd import`` and ``ticketd run`` collect cycles less often once started
(``daemon/collector.py``): the start-up objects frozen, the youngest generation collected
every ``YOUNG`` allocations instead of Python's 700."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builders import claim
from tests.e2e.support import write_config, write_mbox
from ticketd.daemon.collector import YOUNG


@pytest.fixture
def untuned() -> Iterator[None]:
    """Python's own collector settings before and after the test."""
    before = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_an_import_runs_with_the_collector_tuned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], untuned: None
) -> None:
    ws = write_config(tmp_path)
    mbox = write_mbox(tmp_path / "in.mbox", [claim(subject="배송 문의")])
    code, _, err = ws.cli(capsys, "import", str(mbox))
    assert code == 0, err
    assert gc.get_threshold()[0] == YOUNG
    assert gc.get_freeze_count() > 0
