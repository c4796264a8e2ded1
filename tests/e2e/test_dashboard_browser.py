"""The dashboard in a real headless Chromium, in Korean: every chart drawn with a size,
no sideways scrolling on a phone, and screenshots kept under test-artifacts/."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.e2e.test_workspace_browser import resize
from tests.netutil import free_port
from tests.web.staff_support import Desk, desk
from tests.web.test_browser import ARTIFACTS, browser
from tests.web.test_staff_dashboard import figures

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["browser"]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Desk, str]]:
    """The dashboard's app (real store, in-memory figures) on a real port."""
    with desk(tmp_path, stored=True, reports=figures()) as d:
        port = free_port()
        config = uvicorn.Config(
            d.client.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        try:
            yield d, f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(10)


def test_the_dashboard_draws_every_chart_in_korean(served: tuple[Desk, str], browser: Any) -> None:
    from selenium.webdriver.common.by import By

    d, site = served
    before = set(d.links("bob@example.com"))
    assert d.ask_link("bob@example.com") == 200
    [token] = set(d.links("bob@example.com")) - before
    browser.get(f"{site}/staff/login/{token}")
    browser.get(f"{site}/staff/dashboard?from=2026-03-01&to=2026-03-02&by=day&lang=ko")
    assert "기간별 문의량" in browser.page_source
    ARTIFACTS.mkdir(exist_ok=True)
    for label, width, mobile in (("phone", 390, True), ("desktop", 1280, False)):
        resize(browser, width, 900, mobile=mobile)
        charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart")
        assert len(charts) >= 8
        for chart in charts:
            assert chart.is_displayed()
            assert chart.size["width"] > 100 and chart.size["height"] > 40, chart.size
        bars = browser.find_elements(By.CSS_SELECTOR, "svg.chart rect")
        assert bars and all(bar.size["height"] > 0 and bar.size["width"] > 0 for bar in bars)
        scroll = browser.execute_script("return document.documentElement.scrollWidth")
        assert scroll <= width, f"the dashboard scrolls sideways on a {label}"
        height = browser.execute_script("return document.documentElement.scrollHeight")
        resize(browser, width, min(int(height), 8000), mobile=mobile)
        path = ARTIFACTS / f"dashboard-ko-{label}.png"
        assert browser.save_screenshot(str(path)) and path.stat().st_size > 5000
