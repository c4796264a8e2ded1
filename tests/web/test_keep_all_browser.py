"""Korean on a phone (headless Chromium): lines wrap between words, never inside one
(``word-break: keep-all``); a screenshot of the page is kept."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from tests.netutil import free_port
from tests.web.test_app import NUMBER, SECRET, FakeAttachments, FakeMailer, FakeReader, Health
from tests.web.test_app import page as ticket_page
from tests.web.test_browser import ARTIFACTS, browser
from ticketd.routing.links import status_token
from ticketd.web.app import create_app
from ticketd.web.ports import TimelineEntry, WebSettings

__all__ = ["browser"]
pytestmark = pytest.mark.browser
SENTENCE = (
    "결제대행서비스에서 정기결제갱신요청이 반복적으로 실패하고 "
    "관리자페이지에서는 아무런 오류메시지도 표시되지 않습니다"
)
WORDS_ON_LINES = """
const [selector] = arguments;
const node = [...document.querySelector(selector).childNodes].find(n => n.nodeType === 3);
const tops = range => new Set([...range.getClientRects()].map(r => Math.round(r.top)));
const broken = [];
for (const found of node.textContent.matchAll(/\\S+/g)) {
  const range = document.createRange();
  range.setStart(node, found.index);
  range.setEnd(node, found.index + found[0].length);
  if (tops(range).size > 1) broken.push(found[0]);
}
const all = document.createRange();
all.selectNodeContents(node);
return [broken, tops(all).size];
"""


@pytest.fixture
def korean_site() -> Iterator[str]:
    created = ticket_page().timeline[0]
    reader = FakeReader(
        pages={
            NUMBER: ticket_page(
                subject=SENTENCE,
                timeline=(TimelineEntry(created.at, "created", "", "customer", SENTENCE),),
            )
        }
    )
    settings = WebSettings(
        "Example 고객지원", "ko", "Asia/Seoul", SECRET, "SUP", "http://127.0.0.1"
    )
    app = create_app(
        settings,
        reader,
        attachments=FakeAttachments(),
        mailer=FakeMailer(),
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


def test_korean_words_are_never_broken_on_a_phone(korean_site: str, browser) -> None:  # type: ignore[no-untyped-def]
    browser.get(f"{korean_site}/t/{NUMBER}?k={status_token(SECRET, NUMBER)}")
    for selector in ("h1.subject", ".timeline .text"):
        broken, lines = browser.execute_script(WORDS_ON_LINES, selector)
        assert lines > 1, f"{selector} fits on one line: the test proves nothing"
        assert broken == [], f"{selector}: words broken across lines: {broken}"
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "status-ko-phone.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 5000
