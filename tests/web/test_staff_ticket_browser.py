"""The staff ticket page in a real headless Chromium, in Korean: one column on a phone,
timeline and side panel on a desktop; screenshots kept under test-artifacts/."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn

from tests.netutil import free_port
from tests.web.staff_support import Desk, desk
from tests.web.test_browser import ARTIFACTS, browser
from tests.web.test_staff_ticket import worked_ticket
from ticketd.daemon.web_server import build_web_app

pytestmark = pytest.mark.browser
__all__ = ["browser"]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Desk, str]]:
    port = free_port()
    with desk(tmp_path, stored=True, base_url=f"http://127.0.0.1:{port}") as d:
        app = build_web_app(d.components)
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        yield d, f"http://127.0.0.1:{port}"
        server.should_exit = True
        thread.join(10)


NAV_LINES = """
return [...document.querySelectorAll('.nav a')].map(a => {
  const range = document.createRange();
  range.selectNodeContents(a);
  return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
});
"""


def test_the_ticket_page_on_a_phone_and_a_desktop(served: tuple[Desk, str], browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    d, site = served
    d.clock.at = datetime.now(UTC)
    number = worked_ticket(d)
    assert d.ask_link("bob@example.com") == 200
    [token] = d.links("bob@example.com")
    browser.get(f"{site}/staff/login/{token}")
    browser.get(f"{site}/staff/t/{number}?lang=ko")
    assert browser.find_element(By.ID, "subject").text == "로그인이 안 됩니다"
    ARTIFACTS.mkdir(exist_ok=True)
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= browser.execute_script("return window.innerWidth") == 390
    side = browser.find_element(By.CSS_SELECTOR, ".side").rect
    timeline = browser.find_element(By.CSS_SELECTOR, ".timeline").rect
    assert side["y"] > timeline["y"] and side["x"] == timeline["x"]
    assert set(browser.execute_script(NAV_LINES)) == {1}  # each menu item whole, never "검 / 색"
    assert browser.save_screenshot(str(ARTIFACTS / "staff-ticket-ko-phone.png"))
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
    )
    deadline = time.monotonic() + 5
    while (
        browser.execute_script("return window.innerWidth") != 1280 and time.monotonic() < deadline
    ):
        time.sleep(0.1)
    assert browser.execute_script("return window.innerWidth") == 1280
    side = browser.find_element(By.CSS_SELECTOR, ".side").rect
    timeline = browser.find_element(By.CSS_SELECTOR, ".timeline").rect
    assert side["x"] > timeline["x"] + timeline["width"] - 1
    assert browser.save_screenshot(str(ARTIFACTS / "staff-ticket-ko-desktop.png"))
    assert (ARTIFACTS / "staff-ticket-ko-desktop.png").stat().st_size > 5000
