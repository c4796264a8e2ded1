"""A manager keeps the classification codes in a real headless Chromium against a running
``ticketd run``: signs in by the mailed link, adds a code with its labels on
``/staff/codes``, and the page (Korean, phone and desktop) is kept as screenshots."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.support import running, text_of, write_config
from tests.e2e.test_daemon_recovery import eventually
from tests.e2e.test_workspace_browser import mails_to, screenshots
from tests.fixtures.smtp_sink import SmtpSink
from tests.netutil import free_port
from tests.web.test_browser import browser

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["browser"]
MANAGER = "bob@example.com"


def test_a_manager_adds_a_code_on_the_codes_page(
    tmp_path: Path, smtp_sink: SmtpSink, browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    web_port = free_port()
    site = f"http://127.0.0.1:{web_port}"
    ws = write_config(tmp_path, relay_port=smtp_sink.port, relay_retry_seconds=1)
    text = ws.config.read_text(encoding="utf-8")
    text = text.replace('listen = "127.0.0.1:0"', f'listen = "127.0.0.1:{web_port}"')
    ws.config.write_text(text.replace("http://127.0.0.1:8080", site), encoding="utf-8")
    assert ws.subprocess("init").returncode == 0
    with running(ws, web_port):
        browser.get(f"{site}/staff/codes?lang=ko")
        browser.find_element(By.NAME, "email").send_keys(MANAGER)
        browser.find_element(By.CSS_SELECTOR, "form[action='/staff/login'] button").click()
        mails = eventually(
            lambda: [m for m in mails_to(smtp_sink, MANAGER) if "/staff/login/" in text_of(m)]
        )
        link = re.search(rf"{re.escape(site)}/staff/login/\S+", text_of(mails[-1])).group(0)
        browser.get(link)
        browser.get(f"{site}/staff/codes")
        browser.find_element(By.ID, "code-path").send_keys("배송/파손/교환요청")
        browser.find_element(By.ID, "code-ko").send_keys("교환 요청")
        browser.find_element(By.ID, "code-en").send_keys("Exchange request")
        browser.find_element(By.CSS_SELECTOR, "form.code-add button").click()
        eventually(lambda: "교환 요청" in codes_listed(browser), 10)
        assert "배송/파손/교환요청" in codes_listed(browser)
        screenshots(browser, "codes")


def codes_listed(browser: Any) -> str:
    """The text of the page's code list; empty while the page after the post loads (the
    old page's elements go stale under the reader)."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        return str(browser.find_element(By.CSS_SELECTOR, "ul.codes").text)
    except (NoSuchElementException, StaleElementReferenceException):
        return ""
