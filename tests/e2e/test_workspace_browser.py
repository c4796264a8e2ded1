"""The workspace as an engineer uses it, in a real headless Chromium against a running
``ticketd run``: the sign-in link caught at the SMTP sink, the queue, a Korean search, the
ticket, a reply with a file that the customer receives at the sink and sees on the status
page. Screenshots of the queue and the ticket (Korean, phone and desktop) are kept."""

from __future__ import annotations

import re
import smtplib
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.builders import SUPPORT, claim
from tests.e2e.support import running, text_of, write_config
from tests.e2e.test_daemon_recovery import eventually
from tests.fixtures.smtp_sink import SmtpSink
from tests.netutil import free_port
from tests.web.test_browser import ARTIFACTS, browser

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["browser"]
CUSTOMER = "kim@acme.co.kr"
ENGINEER = "alice@example.com"


def mails_to(sink: SmtpSink, address: str) -> list[EmailMessage]:
    return [m for m in sink.messages() if address in str(m["To"])]


def resize(driver: Any, width: int, height: int, *, mobile: bool) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
    )
    eventually(lambda: driver.execute_script("return window.innerWidth") == width, 5)


def screenshots(driver: Any, name: str) -> None:
    """The page in Korean on a phone and on a desktop, kept under test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    for label, width, height, mobile in (("phone", 390, 844, True), ("desktop", 1280, 900, False)):
        resize(driver, width, height, mobile=mobile)
        scroll = driver.execute_script("return document.documentElement.scrollWidth")
        assert scroll <= width, f"{name} scrolls sideways on a {label}"
        path = ARTIFACTS / f"workspace-{name}-ko-{label}.png"
        assert driver.save_screenshot(str(path)) and path.stat().st_size > 5000
    resize(driver, 390, 844, mobile=True)


def test_an_engineer_signs_in_finds_the_claim_and_answers_it_with_a_file(
    tmp_path: Path, smtp_sink: SmtpSink, browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    smtp_port, web_port = free_port(), free_port()
    site = f"http://127.0.0.1:{web_port}"
    ws = write_config(
        tmp_path,
        listener=f'[smtp_listener]\nlisten = "127.0.0.1:{smtp_port}"\n',
        relay_port=smtp_sink.port,
        relay_retry_seconds=1,
    )
    text = ws.config.read_text(encoding="utf-8")
    text = text.replace('listen = "127.0.0.1:0"', f'listen = "127.0.0.1:{web_port}"')
    ws.config.write_text(text.replace("http://127.0.0.1:8080", site), encoding="utf-8")
    assert ws.subprocess("init").returncode == 0
    with running(ws, smtp_port, web_port):
        mail = claim(
            subject="로그인이 안 됩니다",
            body="어제부터 관리자 화면에 로그인이 안 됩니다. 확인 부탁드립니다.",
            sender=CUSTOMER,
        )
        with smtplib.SMTP("127.0.0.1", smtp_port) as client:
            client.sendmail(CUSTOMER, [SUPPORT], mail)
        [ack] = eventually(lambda: mails_to(smtp_sink, CUSTOMER))
        tracking = re.search(r"\[(SUP-[0-9A-Z]{4}-[0-9A-Z]{4})\]", str(ack["Subject"])).group(1)
        status_link = re.search(rf"{re.escape(site)}/t/{tracking}\?k=\S+", text_of(ack)).group(0)

        browser.get(f"{site}/staff/?lang=ko")
        assert "/staff/login" in browser.current_url
        browser.find_element(By.NAME, "email").send_keys(ENGINEER)
        browser.find_element(By.CSS_SELECTOR, "form[action='/staff/login'] button").click()
        sign_in = eventually(
            lambda: (
                mails_to(smtp_sink, ENGINEER)
                and [m for m in mails_to(smtp_sink, ENGINEER) if "/staff/login/" in text_of(m)]
            )
        )
        link = re.search(rf"{re.escape(site)}/staff/login/\S+", text_of(sign_in[-1])).group(0)
        browser.get(link)
        assert browser.current_url == f"{site}/staff/?lang=ko"
        assert "Alice" in browser.find_element(By.CSS_SELECTOR, ".who").text
        browser.get(f"{site}/staff/?tab=open")
        assert "로그인이 안 됩니다" in browser.page_source
        screenshots(browser, "queue")

        browser.get(f"{site}/staff/search?q=로그인")
        browser.find_element(By.PARTIAL_LINK_TEXT, "로그인이 안 됩니다").click()
        eventually(lambda: f"/staff/t/{tracking}" in browser.current_url, 10)
        assert (
            "관리자 화면에 로그인이 안 됩니다"
            in browser.find_element(By.CSS_SELECTOR, ".timeline").text
        )
        screenshots(browser, "ticket")

        attachment = tmp_path / "설정방법.txt"
        attachment.write_text("관리자 > 보안 > 비밀번호 초기화", encoding="utf-8")
        browser.find_element(By.ID, "reply-text").send_keys(
            "비밀번호를 초기화해 드렸습니다. 첨부한 안내를 확인해 주세요."
        )
        browser.find_element(By.ID, "reply-files").send_keys(str(attachment))
        browser.find_element(By.CSS_SELECTOR, "form.reply button").click()
        eventually(lambda: "비밀번호를 초기화해 드렸습니다" in browser.page_source, 10)

        def the_reply() -> list[EmailMessage]:
            return [m for m in mails_to(smtp_sink, CUSTOMER) if "초기화해 드렸습니다" in text_of(m)]

        [reply] = eventually(the_reply)
        files = [part.get_filename() for part in reply.iter_attachments()]
        assert files == ["설정방법.txt"]
        assert tracking in str(reply["Subject"])
        browser.get(status_link)
        assert "비밀번호를 초기화해 드렸습니다" in browser.page_source
