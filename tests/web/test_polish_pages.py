"""The pages' polish: the ticket's own language, the key kept across a language switch,
times with their zone, a mistyped number called mistyped, a favicon and a footer."""

from __future__ import annotations

import re

from tests.web.test_app import NUMBER, SECRET, FakeReader, client, page
from ticketd.routing.links import status_token
from ticketd.routing.tracking import ALPHABET

ENGLISH = {"Accept-Language": "en-US,en;q=0.9"}


def test_a_korean_ticket_opens_in_korean_for_an_english_browser_unless_asked() -> None:
    c = client()
    assert '<html lang="ko">' in c.get(f"/t/{NUMBER}", headers=ENGLISH).text
    assert '<html lang="en">' in c.get(f"/t/{NUMBER}?lang=en", headers=ENGLISH).text
    english = client(FakeReader(pages={NUMBER: page(language="en")}))
    assert '<html lang="en">' in english.get(f"/t/{NUMBER}", headers={"Accept-Language": "ko"}).text


def test_the_ticket_language_picks_the_published_copy() -> None:
    reader = FakeReader(published={(NUMBER, "ko"): b"<p>ko copy</p>", (NUMBER, "en"): b"en"})
    c = client(reader)
    assert c.get(f"/t/{NUMBER}", headers=ENGLISH).text == "<p>ko copy</p>"
    assert c.get(f"/t/{NUMBER}?lang=en", headers=ENGLISH).text == "en"


def test_switching_language_keeps_the_signed_key() -> None:
    key = status_token(SECRET, NUMBER)
    html = client().get(f"/t/{NUMBER}?k={key}").text
    [switch] = re.findall(r'<a class="lang" href="([^"]+)"', html)
    assert switch == f"?k={key}&amp;lang=en"
    switched = client().get(f"/t/{NUMBER}?k={key}&lang=en").text
    assert "Support replied" in switched and "캐시를 지워 주세요" in switched


def test_times_show_their_timezone() -> None:
    html = client().get(f"/t/{NUMBER}").text
    assert "2026-11-24 09:30 KST" in html
    dubai = client(timezone="Asia/Dubai").get(f"/t/{NUMBER}").text
    assert "2026-11-24 04:30 UTC+04:00" in dubai


def mistype(number: str) -> str:
    """The number with its second symbol changed: the check symbol no longer fits."""
    body = number.replace("-", "")
    wrong = ALPHABET[(ALPHABET.index(body[4]) + 1) % len(ALPHABET)]
    return f"{body[:3]}-{body[3]}{wrong}{body[5:7]}-{body[7:]}"


def test_a_mistyped_number_says_so_and_an_unknown_one_says_not_found() -> None:
    c = client()
    typo = c.get("/lookup", params={"tracking": mistype(NUMBER), "lang": "en"})
    assert typo.status_code == 404 and "looks mistyped" in typo.text
    assert "잘못 입력된 것 같습니다" in c.get("/lookup", params={"tracking": mistype(NUMBER)}).text
    garbage = c.get("/lookup", params={"tracking": "hello", "lang": "en"})
    assert "mistyped" not in garbage.text and "We found no request" in garbage.text


def test_pages_have_a_favicon_and_a_footer_with_the_service_and_its_address() -> None:
    c = client(support_address="support@example.com")
    html = c.get("/").text
    assert '<link rel="icon" href="/static/favicon.svg"' in html
    footer = html[html.index('<footer class="footer">') :]
    assert "Example Support" in footer and 'href="mailto:support@example.com"' in footer
    icon = c.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg")
    legacy = c.get("/favicon.ico", follow_redirects=False)
    assert legacy.headers["location"] == "/static/favicon.svg"
