"""One real browser (headless Debian Chromium via Selenium): look a ticket up from the form
on a phone-sized window and keep a screenshot of the Korean status page; the protected
resend form works from our own page."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from tests.netutil import free_port
from tests.web.test_app import NUMBER, REQUESTER, FakeAttachments, FakeMailer, FakeReader, Health
from ticketd.web.app import create_app
from ticketd.web.ports import WebSettings

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def mailer() -> FakeMailer:
    return FakeMailer()


@pytest.fixture
def site(mailer: FakeMailer) -> Iterator[str]:
    app = create_app(
        WebSettings(
            "Example 고객지원",
            "ko",
            "Asia/Seoul",
            "browser-secret-0123456789",
            "SUP",
            "http://127.0.0.1",
        ),
        FakeReader(),
        attachments=FakeAttachments(),
        mailer=mailer,
        health=Health(),
        metrics=Health(),
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def browser() -> Iterator[object]:
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        if os.environ.get("CI") == "true":
            pytest.fail("chromium and chromium-driver are not installed")
        pytest.skip("chromium and chromium-driver are not installed")
    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chrome-")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or ""
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--lang=ko-KR", f"--user-data-dir={profile}",
    ):  # fmt: skip
        options.add_argument(flag)
    options.add_experimental_option(
        "mobileEmulation", {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 2}}
    )
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_lookup_from_the_form_on_a_phone(site: str, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    browser.get(f"{site}/?lang=ko")
    field = browser.find_element(By.ID, "tracking")
    field.send_keys(NUMBER.lower().replace("-", ""))
    browser.find_element(By.CSS_SELECTOR, "form[action='/lookup'] button").click()
    deadline = time.monotonic() + 10
    while f"/t/{NUMBER}" not in browser.current_url and time.monotonic() < deadline:
        time.sleep(0.1)
    assert browser.current_url.endswith(f"/t/{NUMBER}?lang=ko")
    assert browser.find_element(By.ID, "status").text == "상태: 처리 중"
    assert "<script>" not in browser.page_source.replace("&lt;script&gt;", "")
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= browser.execute_script("return window.innerWidth") == 390
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "status-page-ko.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 5000


def test_the_resend_form_posts_from_our_own_page(site: str, browser, mailer: FakeMailer) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    browser.get(f"{site}/?lang=en")
    browser.find_element(By.ID, "r-tracking").send_keys(NUMBER)
    browser.find_element(By.ID, "r-email").send_keys(REQUESTER)
    browser.find_element(By.CSS_SELECTOR, "form[action^='/resend'] button").click()
    deadline = time.monotonic() + 10
    while not mailer.calls and time.monotonic() < deadline:
        time.sleep(0.1)
    assert mailer.calls == [(NUMBER, REQUESTER)]
    assert "the link is on its way" in browser.page_source
