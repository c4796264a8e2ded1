"""A customer rates in a real headless Chromium against a running ``ticketd run``: the
resolution mail caught at the SMTP sink, its "아쉬워요" link followed, the Korean
confirmation page (screenshot kept) sent with a comment, the owner told at the sink."""

from __future__ import annotations

import re
import smtplib
from pathlib import Path
from typing import Any

import pytest

from tests.builders import SUPPORT, claim
from tests.e2e.support import running, text_of, write_config
from tests.e2e.test_daemon_recovery import eventually
from tests.e2e.test_workspace_browser import mails_to
from tests.fixtures.smtp_sink import SmtpSink
from tests.netutil import free_port
from tests.web.test_browser import ARTIFACTS, browser
from ticketd.daemon.actions import StoreActions
from ticketd.daemon.config import load_config
from ticketd.daemon.wiring import build
from ticketd.routing.actions import ActionRequest
from ticketd.routing.model import Role
from ticketd.routing.workspace import StaffUser

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["browser"]
CUSTOMER = "kim@acme.co.kr"


def resolve(config: Path, tracking: str) -> str:
    """``#resolve`` as the owner from the workspace; returns the owner's address."""
    components = build(load_config(config))
    try:
        with components.store.write() as writer:
            ref = writer.lookup.ticket_to_act_on(tracking)
            assert ref is not None and ref.owner
            version = writer.lookup.version(ref.id)
        [owner] = [e for e in components.config.engineers if e.email == ref.owner]
        user = StaffUser(owner.email, owner.name, Role(owner.role))
        request = ActionRequest(("#resolve",), "")
        result = StoreActions(components).act(user, tracking, version, request)
        assert not result.refused, result
        return owner.email
    finally:
        components.close()


def test_a_customer_rates_from_the_resolution_mail_in_korean(
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
            subject="결제가 안 됩니다", body="카드 결제가 계속 실패합니다.", sender=CUSTOMER
        )
        with smtplib.SMTP("127.0.0.1", smtp_port) as client:
            client.sendmail(CUSTOMER, [SUPPORT], mail)
        [ack] = eventually(lambda: mails_to(smtp_sink, CUSTOMER))
        tracking = re.search(r"\[(SUP-[0-9A-Z]{4}-[0-9A-Z]{4})\]", str(ack["Subject"])).group(1)
        owner = resolve(ws.config, tracking)
        [resolved] = eventually(
            lambda: [m for m in mails_to(smtp_sink, CUSTOMER) if "/rate?" in text_of(m)], 20
        )
        link = re.search(
            rf"아쉬워요: ({re.escape(site)}/t/{tracking}/rate\?\S+)", text_of(resolved)
        )
        assert link is not None
        browser.get(link.group(1))
        assert browser.find_element(By.CSS_SELECTOR, "input[value='bad']").is_selected()
        assert "만족도 평가" in browser.find_element(By.TAG_NAME, "h1").text
        browser.find_element(By.ID, "comment").send_keys("답변이 너무 늦었습니다.")
        ARTIFACTS.mkdir(exist_ok=True)
        screenshot = ARTIFACTS / "rate-ko.png"
        assert browser.save_screenshot(str(screenshot)) and screenshot.stat().st_size > 5000
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= browser.execute_script("return window.innerWidth")
        browser.find_element(By.CSS_SELECTOR, "form[action^='/t/'] button").click()
        eventually(lambda: "평가가 접수되었습니다" in browser.page_source, 10)
        [told] = eventually(
            lambda: [
                m for m in mails_to(smtp_sink, owner) if "답변이 너무 늦었습니다" in text_of(m)
            ],
            20,
        )
        assert f"{site}/staff/t/{tracking}" in text_of(told)
    shown = ws.subprocess("ticket", "show", tracking, "--json")
    assert '"type": "csat"' in shown.stdout
