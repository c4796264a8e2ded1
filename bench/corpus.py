"""A deterministic, streaming generator of a realistic support mailbox with known truth.

``generate()`` yields one message at a time (bytes with LF line endings, as stored on disk):
new claims from many customers at about 40 customer domains (Korean B2B companies and English
shops) in utf-8 (base64 and quoted-printable), euc-kr and Outlook's ``ks_c_5601-1987`` (cp949
bytes, some with cp949-only syllables such as 똠, 햏, 뷁), HTML-only, multipart/alternative and
with attachments; and everything that must not open a ticket: resends of a claim within 24 h,
exact copies (same Message-ID), customer replies threaded by In-Reply-To/References,
auto-replies, delivery status notifications and bulk mail. ``write_corpus()`` writes it as an
mbox, a Maildir or a directory of .eml files and saves the ``Truth`` next to it as JSON.

Run ``python bench/corpus.py N OUT --format mbox|maildir|eml-dir --seed S``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import html
import json
import os
import random
import re
import struct
import sys
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Literal
from urllib.parse import quote

Format = Literal["mbox", "maildir", "eml-dir"]
CORPUS_NAMES: dict[str, str] = {
    "mbox": "mailbox.mbox",
    "maildir": "mailbox.Maildir",
    "eml-dir": "eml",
}
TRUTH_NAME = "truth.json"

# Kinds of message and their share of the corpus, in percent.
MIX: dict[str, int] = {
    "claim": 65,  # a new claim: exactly one ticket each
    "resend": 8,  # the same claim again (same sender, subject and body), new Message-ID
    "copy": 5,  # byte-for-byte copy of an earlier message (same Message-ID)
    "reply": 6,  # customer reply: "Re:" subject, In-Reply-To and References
    "reply_refs": 6,  # customer reply: References only, with a changed subject
    "auto_reply": 5,  # out-of-office and other RFC 3834 auto-replies
    "bounce": 3,  # delivery status notification (multipart/report)
    "bulk": 2,  # newsletter with List-Id and Precedence: bulk
}

_KST = timezone(timedelta(hours=9))
_START = datetime(2024, 3, 4, 9, 0, tzinfo=_KST)
_STEP = timedelta(seconds=3)  # 20 messages a minute
_THREAD_WINDOW = timedelta(hours=23)  # resends and replies refer to claims younger than this
_RECENT_CLAIMS = 1000  # claims kept for resends, replies and bounces
_RECENT_MESSAGES = 16  # messages kept for exact copies
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True, slots=True)
class CorpusMessage:
    """One message of the corpus and what it is: its kind and the claim it belongs to."""

    data: bytes
    kind: str
    claim_id: int | None


@dataclass(slots=True)
class Truth:
    """What ticketd must make of a corpus: ``claims`` is the number of tickets to open."""

    messages: int = 0
    claims: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    def add(self, message: CorpusMessage) -> None:
        """Count one generated message."""
        self.messages += 1
        self.claims += message.kind == "claim"
        self.by_kind[message.kind] = self.by_kind.get(message.kind, 0) + 1


# --- Who writes, and with which mail program -------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Charset:
    label: str  # the MIME name written into the message
    codec: str  # the Python codec that produces its bytes


_UTF8 = _Charset("UTF-8", "utf-8")
_KSC = _Charset("ks_c_5601-1987", "cp949")  # Outlook's label for what really is cp949
_EUCKR = _Charset("euc-kr", "euc_kr")


@dataclass(frozen=True, slots=True)
class _Style:
    """A mail program: charset, MIME layout, encodings and its header noise."""

    name: str
    charset: _Charset
    header_enc: Literal["B", "Q"]
    layout: Literal["plain", "html", "alternative"]
    text_cte: Literal["base64", "quoted-printable"]
    html_cte: Literal["base64", "quoted-printable"]
    filenames: Literal["rfc2231", "encoded-word"]
    html_flavour: Literal["outlook", "gmail", "web", "apple"]
    headers: tuple[tuple[str, str], ...]


_STYLES = {
    s.name: s
    for s in (
        _Style("outlook_ks", _KSC, "B", "alternative", "base64", "quoted-printable",
               "encoded-word", "outlook",
               (("X-Mailer", "Microsoft Outlook 16.0"), ("Content-Language", "ko-KR"))),
        _Style("gmail", _UTF8, "B", "alternative", "base64", "base64", "rfc2231", "gmail", ()),
        _Style("thunderbird", _UTF8, "Q", "plain", "quoted-printable", "quoted-printable",
               "rfc2231", "web",
               (("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) "
                 "Gecko/20100101 Thunderbird/115.8.1"), ("Content-Language", "ko-KR"))),
        _Style("naver", _UTF8, "B", "html", "base64", "base64", "rfc2231", "web",
               (("X-Mailer", "NAVER Mail"),)),
        _Style("groupware_euckr", _EUCKR, "B", "html", "base64", "base64", "rfc2231", "web",
               (("X-Mailer", "Groupware WebMail 7.1.3"),)),
        _Style("outlook_en", _UTF8, "Q", "alternative", "quoted-printable", "quoted-printable",
               "encoded-word", "outlook",
               (("X-Mailer", "Microsoft Outlook 16.0"), ("Content-Language", "en-US"))),
        _Style("apple", _UTF8, "Q", "alternative", "quoted-printable", "quoted-printable",
               "rfc2231", "apple", (("X-Mailer", "Apple Mail (2.3774.500.171.1.1)"),)),
        _Style("webmail_en", _UTF8, "Q", "html", "quoted-printable", "quoted-printable",
               "rfc2231", "web",
               (("X-Mailer", "Zimbra 9.0.0_GA_4583 (ZimbraWebClient - GC122 (Win)/9.0.0_GA)"),)),
    )
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Domain:
    name: str
    company: str  # "" for free mail
    lang: Literal["ko", "en"]
    styles: tuple[str, ...]
    weight: int
    tz: timezone


def _domains() -> tuple[_Domain, ...]:
    ko = (
        ("acme.co.kr", "애크미"), ("hanbit-tech.co.kr", "한빛테크"),
        ("gaon-systems.co.kr", "가온시스템즈"), ("nuri-ict.co.kr", "누리ICT"),
        ("saebyeok-food.co.kr", "새벽푸드"), ("dasan-eng.co.kr", "다산엔지니어링"),
        ("haneul-motors.co.kr", "하늘모터스"), ("mirae-logis.co.kr", "미래로지스"),
        ("bora-pharm.co.kr", "보라제약"), ("jinwoo-trading.co.kr", "진우상사"),
        ("seorim-textile.co.kr", "서림섬유"), ("daon-edu.co.kr", "다온에듀"),
        ("sejin-chem.co.kr", "세진케미칼"), ("hwain-construction.co.kr", "화인건설"),
        ("baekdu-electric.co.kr", "백두전기"), ("sol-retail.co.kr", "솔리테일"),
        ("yeonhwa-print.co.kr", "연화인쇄"), ("gureum-soft.co.kr", "구름소프트"),
        ("dongbang-metal.co.kr", "동방금속"), ("haesol-energy.co.kr", "해솔에너지"),
        ("minji-design.co.kr", "민지디자인"), ("taeyang-foods.co.kr", "태양식품"),
        ("seoul-medical.co.kr", "서울메디칼"), ("ilsan-logistics.co.kr", "일산물류"),
    )  # fmt: skip
    en = (
        ("bluebird-shop.com", "Bluebird Shop", -5), ("northwind-outfitters.com", "Northwind", -8),
        ("maple-and-oak.co.uk", "Maple & Oak", 0), ("copperkettle.store", "Copper Kettle", -5),
        ("brightlane-books.com", "Brightlane Books", -6), ("tinyforge.io", "TinyForge", 1),
        ("harbor-coffee.com", "Harbor Coffee", -8), ("pixelpine.net", "PixelPine", 10),
        ("summit-gear.us", "Summit Gear", -7), ("wildflower-tea.co.uk", "Wildflower Tea", 0),
    )  # fmt: skip
    ko_styles = ("outlook_ks", "outlook_ks", "groupware_euckr", "gmail", "thunderbird", "naver")
    en_styles = ("outlook_en", "apple", "webmail_en", "gmail")
    return (
        *(_Domain(d, c, "ko", ko_styles, 3 if i < 6 else 2, _KST) for i, (d, c) in enumerate(ko)),
        *(_Domain(d, c, "en", en_styles, 2, timezone(timedelta(hours=h))) for d, c, h in en),
        _Domain("naver.com", "", "ko", ("naver",), 5, _KST),
        _Domain("daum.net", "", "ko", ("groupware_euckr", "thunderbird"), 2, _KST),
        _Domain("gmail.com", "", "ko", ("gmail",), 3, _KST),
        _Domain("gmail.com", "", "en", ("gmail",), 3, timezone(timedelta(hours=-5))),
        _Domain("outlook.com", "", "en", ("outlook_en",), 2, UTC),
    )


_DOMAINS = _domains()
_DOMAIN_WEIGHTS = [d.weight for d in _DOMAINS]

_KO_SURNAMES = (
    ("김", "kim"), ("이", "lee"), ("박", "park"), ("최", "choi"), ("정", "jung"), ("강", "kang"),
    ("조", "cho"), ("윤", "yoon"), ("장", "jang"), ("임", "lim"), ("한", "han"), ("오", "oh"),
    ("서", "seo"), ("신", "shin"), ("권", "kwon"), ("황", "hwang"),
)  # fmt: skip
_KO_GIVEN = (
    ("민수", "minsu"), ("지영", "jiyoung"), ("서연", "seoyeon"), ("도윤", "doyoon"),
    ("하준", "hajun"), ("수빈", "subin"), ("예린", "yerin"), ("현우", "hyunwoo"),
    ("지훈", "jihoon"), ("은지", "eunji"), ("성민", "sungmin"), ("유진", "yujin"),
    ("태현", "taehyun"), ("수아", "sua"), ("준호", "junho"), ("다은", "daeun"),
    ("영희", "younghee"), ("상철", "sangcheol"), ("혜진", "hyejin"), ("동현", "donghyun"),
)  # fmt: skip
_KO_TITLES = ("대리", "과장", "차장", "부장", "팀장", "주임", "사원", "매니저")
_KO_DEPTS = ("경영지원팀", "영업팀", "구매팀", "전산팀", "IT운영팀", "회계팀", "물류팀", "마케팅팀")
_EN_FIRST = (
    "John", "Emily", "Michael", "Sarah", "David", "Olivia", "James", "Sophie", "Daniel", "Grace",
    "Ryan", "Chloe", "Ethan", "Hannah", "Lucas", "Mia",
)  # fmt: skip
_EN_LAST = (
    "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Davies", "Evans", "Thomas", "Walker",
    "Wright", "Clarke", "Hughes", "Patel", "Murphy", "Turner", "Cooper",
)  # fmt: skip
_EN_TITLES = ("Operations Manager", "Store Owner", "Office Manager", "IT Lead", "Buyer")


@dataclass(frozen=True, slots=True)
class _Customer:
    name: str
    email: str
    domain: _Domain
    style: _Style
    title: str
    dept: str


def _customer(rng: random.Random) -> _Customer:
    """A customer at a (weighted) random domain, always mailing with the same program."""
    domain = rng.choices(_DOMAINS, _DOMAIN_WEIGHTS)[0]
    if domain.lang == "ko":
        (sur, sur_r), (given, given_r) = rng.choice(_KO_SURNAMES), rng.choice(_KO_GIVEN)
        name = sur + given
        local = (
            f"{given_r}{rng.randrange(70, 100)}"
            if not domain.company
            else rng.choice((f"{given_r}.{sur_r}", f"{sur_r}{given_r}", f"{sur_r[0]}{given_r}"))
        )
        title, dept = rng.choice(_KO_TITLES), rng.choice(_KO_DEPTS)
    else:
        first, last = rng.choice(_EN_FIRST), rng.choice(_EN_LAST)
        name = f"{first} {last}"
        local = f"{first}.{last}".lower() if domain.company else f"{first}{last}{rng.randrange(10)}"
        title, dept = rng.choice(_EN_TITLES), ""
    email = f"{local.lower()}@{domain.name}"
    style = _STYLES[random.Random(email).choice(domain.styles)]
    return _Customer(name, email, domain, style, title, dept)


# --- What they write ------------------------------------------------------------------------

_KO_ISSUES = (
    (
        "ERP 로그인 오류 문의",
        "오늘 오전부터 ERP 시스템에 로그인이 되지 않습니다. "
        "아이디와 비밀번호를 정확히 입력해도 '인증 실패' 메시지가 표시됩니다.",
    ),
    (
        "세금계산서 발행 오류",
        "이번 달 세금계산서를 발행하려고 하는데 '사업자번호 검증 실패' 오류가 발생하여 "
        "발행이 되지 않고 있습니다.",
    ),
    (
        "결제 금액 이중 청구 확인 요청",
        "지난주 결제한 월 이용료가 카드사 내역에 두 번 청구된 것으로 확인됩니다. "
        "환불 가능 여부 확인 부탁드립니다.",
    ),
    (
        "데이터 동기화 지연 문의",
        "어제 저녁부터 재고 데이터가 본사 시스템과 동기화되지 않고 있습니다. "
        "3시간 이상 지연되고 있어 출고 업무에 차질이 있습니다.",
    ),
    (
        "API 호출 시 500 에러 발생",
        "주문 조회 API를 호출하면 간헐적으로 500 Internal Server Error가 반환됩니다. "
        "재시도하면 성공하는 경우도 있습니다.",
    ),
    (
        "라이선스 갱신 견적 요청",
        "현재 사용 중인 라이선스가 다음 달 만료 예정입니다. "
        "사용자 50명 기준으로 1년 갱신 견적을 받아볼 수 있을까요?",
    ),
    (
        "사용자 계정 추가 요청",
        "신규 입사자 3명의 계정 추가를 요청드립니다. "
        "권한은 기존 영업팀 사용자와 동일하게 설정 부탁드립니다.",
    ),
    (
        "비밀번호 초기화 요청",
        "관리자 계정의 비밀번호를 분실하여 초기화를 요청드립니다. "
        "본인 확인이 필요하시면 연락 주세요.",
    ),
    (
        "엑셀 다운로드 시 한글 깨짐",
        "월간 보고서를 엑셀로 다운로드하면 한글이 모두 깨져서 보입니다. "
        "이전에는 정상적으로 열렸습니다.",
    ),
    (
        "배송 지연 문의",
        "주문한 상품이 예정일보다 일주일 넘게 도착하지 않고 있습니다. "
        "현재 배송 상태를 확인해 주시기 바랍니다.",
    ),
    (
        "전자결재 문서 승인 불가",
        "전자결재에서 기안 문서를 승인하려고 하면 화면이 멈추고 더 이상 진행되지 않습니다.",
    ),
    (
        "모바일 앱 푸시 알림 미수신",
        "안드로이드 앱에서 푸시 알림이 오지 않습니다. 알림 설정은 모두 켜져 있는 상태입니다.",
    ),
    (
        "계약서 사본 요청",
        "작년에 체결한 유지보수 계약서 사본을 받아볼 수 있을지 문의드립니다. "
        "감사 준비에 필요합니다.",
    ),
    (
        "관리자 페이지 속도 저하",
        "이번 주 들어 관리자 페이지 로딩이 매우 느려졌습니다. "
        "페이지 하나 여는 데 20초 이상 걸립니다.",
    ),
    (
        "청구서 금액 정정 요청",
        "이번 달 청구서에 해지한 서비스 요금이 포함되어 있습니다. "
        "확인 후 정정된 청구서를 보내주시기 바랍니다.",
    ),
    (
        "SSO 연동 설정 문의",
        "사내 그룹웨어와 SSO 연동을 진행하려고 합니다. SAML 설정 가이드 문서를 받을 수 있을까요?",
    ),
    (
        "반품 및 환불 요청",
        "수령한 제품 일부가 파손되어 반품 및 환불을 요청드립니다. 사진을 첨부하였습니다.",
    ),
    (
        "보고서 메뉴 권한 오류",
        "팀장 권한 계정으로 로그인했는데 보고서 메뉴가 보이지 않습니다. 권한 설정을 확인해 주세요.",
    ),
)
# Only Outlook (cp949) can write these: 똠, 햏 and 뷁 are not in KS X 1001.
_KO_CP949_ISSUES = (
    (
        "똠얌꿍 밀키트 납품 단가 문의",
        "다음 달부터 납품 예정인 똠얌꿍 밀키트의 단가 조정 건으로 문의드립니다.",
    ),
    (
        "[뷁스튜디오] 계정 권한 변경 요청",
        "뷁스튜디오 디자인팀 계정의 권한을 관리자 권한으로 변경 요청드립니다.",
    ),
    (
        "햏햏 이벤트 페이지 접속 오류",
        "햏햏 이벤트 랜딩 페이지에 접속하면 404 오류가 표시됩니다.",
    ),
    (
        "똠방각하 캐릭터 라이선스 계약 건",
        "똠방각하 캐릭터 상품화 라이선스 계약서 검토 관련하여 연락드립니다.",
    ),
)
_KO_DETAILS = (
    "주문번호: {ref}", "계약번호: CT-{ref}", "고객번호: {ref}",
    "오류 코드: E{code} (요청 ID {ref})",
    "발생 일시: {when} / 요청 ID: {ref}",
)  # fmt: skip
_KO_EXTRAS = (
    "크롬 최신 버전과 엣지에서 모두 동일한 현상이 발생합니다.",
    "다른 직원들 PC에서도 같은 문제가 재현됩니다.",
    "캐시 삭제 후 다시 시도해 보았지만 증상은 같습니다.",
    "월말 마감 일정이 있어 빠른 확인 부탁드립니다.",
    "지난번에도 비슷한 문제가 있었는데 그때는 담당자분께서 설정을 변경해 주셨습니다.",
    "가능하시면 오늘 중으로 회신 부탁드립니다.",
    "처리 일정을 알려주시면 내부에 공유하겠습니다.",
    "사용 환경은 Windows 11, 크롬 122 버전입니다.",
    "문제가 발생한 시점은 오전 10시 경으로 기억합니다.",
    "관련 화면을 캡처하여 첨부하오니 참고 부탁드립니다.",
)
_KO_GREETINGS = (
    "안녕하세요.\n{company} {dept} {name} {title}입니다.",
    "안녕하세요, {company} {name}입니다.",
    "수고 많으십니다.\n{company} {dept}의 {name}입니다.",
)
_KO_CLOSINGS = (
    "확인 부탁드립니다.\n감사합니다.",
    "바쁘신 와중에 죄송하지만 빠른 회신 부탁드립니다.\n감사합니다.",
    "검토 후 연락 주시면 감사하겠습니다.\n좋은 하루 되세요.",
)
_KO_DISCLAIMER = (
    "본 메일은 {company}의 정보를 포함하고 있으며, 지정된 수신인 이외의 자에게 공개, 배포, "
    "복사되는 것을 금합니다. 본 메일을 잘못 수신하신 경우 발신인에게 알려주시고 즉시 삭제하여 "
    "주시기 바랍니다."
)
_EN_ISSUES = (
    (
        "Cannot log in to the admin portal",
        "Since this morning none of our staff can log in to the admin portal. "
        "We get 'invalid session' right after entering the password.",
    ),
    (
        "Double charge on our last invoice",
        "Our card was charged twice for last month's subscription. "
        "Could you check and refund the second charge?",
    ),
    (
        "Order not received",
        "I placed an order almost two weeks ago and it still has not arrived. "
        "The tracking page has not updated since it left the warehouse.",
    ),
    (
        "Refund request for damaged item",
        "The package arrived today but the item inside is damaged. "
        "I would like a refund or a replacement.",
    ),
    (
        "API returns 500 on order lookup",
        "The order lookup endpoint intermittently returns HTTP 500. "
        "Retrying usually works but it breaks our nightly sync.",
    ),
    (
        "Question about upgrading our plan",
        "We are growing and would like to move to the business plan. "
        "How is the price prorated for the current month?",
    ),
    (
        "CSV export is missing columns",
        "The CSV export of our customer list no longer includes the phone and postcode columns.",
    ),
    (
        "Password reset email never arrives",
        "I requested a password reset three times but no email ever arrives, "
        "not even in the spam folder.",
    ),
    (
        "Wrong item shipped",
        "We received a different product than the one we ordered. "
        "Please let me know how to return it.",
    ),
    (
        "Webhook deliveries failing since yesterday",
        "Our webhook endpoint has not received any events since yesterday afternoon, "
        "although it is up and answering.",
    ),
    (
        "Need a copy of our contract",
        "Could you send us a copy of our current service agreement? Our auditors asked for it.",
    ),
    (
        "Discount code not applied at checkout",
        "The discount code from your newsletter is accepted "
        "but the total at checkout does not change.",
    ),
)
_EN_DETAILS = ("Order #{ref}", "Invoice INV-{ref}", "Account ID: {ref}", "Request ID: req_{ref}")
_EN_EXTRAS = (
    "From what I can tell the problem started after your maintenance window on Sunday.",
    "From our side nothing has changed in the configuration.",
    "It happens in Chrome and in Firefox, on Windows and on macOS.",
    "Two of my colleagues see exactly the same thing.",
    "We already cleared the cache and tried a private window.",
    "This is blocking our month-end close, so a quick answer would be much appreciated.",
    "I have attached a screenshot of the error.",
    "Please let me know if you need anything else from us.",
)
_EN_GREETINGS = ("Hi Support,", "Hello,", "Dear support team,", "Hi there,")
_EN_CLOSINGS = ("Thanks,", "Best regards,", "Kind regards,", "Cheers,")
_KO_REPLIES = (
    "추가로 확인된 내용 공유드립니다. 오늘 오후에도 같은 증상이 다시 발생했습니다.",
    "혹시 진행 상황 확인 가능할까요?",
    "요청하신 로그 파일 첨부드립니다.",
    "말씀하신 대로 재시작해 보았으나 여전히 동일합니다.",
)
_KO_NEW_SUBJECTS = ("추가 자료 송부드립니다", "로그 파일 전달드립니다", "진행 상황 문의")
_EN_REPLIES = (
    "Any update on this?",
    "Adding a bit more detail: it happened again at 3pm today.",
    "Attached are the logs you asked for.",
    "We tried restarting as suggested but no luck.",
)
_EN_NEW_SUBJECTS = ("Additional information", "Logs attached", "Following up")
_NEWS_KO = (
    "이번 달 업데이트에서는 대시보드 성능이 크게 개선되었습니다.",
    "새로운 모바일 앱에서 결재 알림을 바로 확인하실 수 있습니다.",
    "3월 26일 웨비나에서 신규 보고서 기능을 소개합니다. 지금 신청하세요.",
    "정기 점검으로 3월 17일 새벽 2시부터 4시까지 서비스가 중단됩니다.",
)
_NEWS_EN = (
    "This month's release makes dashboards up to twice as fast.",
    "Join our live webinar on March 26 to see the new reporting tools.",
    "Scheduled maintenance: Sunday, March 17, 02:00-04:00 UTC.",
    "Customers on annual plans now get priority support at no extra cost.",
)


def _ko_greeting_and_signature(rng: random.Random, customer: _Customer) -> tuple[str, str]:
    """How a Korean customer opens and signs: an employee with title and phone, or a person."""
    company = customer.domain.company
    if not company:
        return f"안녕하세요. {customer.name}입니다.", customer.name
    greeting = rng.choice(_KO_GREETINGS).format(
        company=company, dept=customer.dept, name=customer.name, title=customer.title
    )
    signature = (
        f"{customer.name} {customer.title}\n{company} {customer.dept}\n"
        f"Tel. 02-{rng.randrange(200, 999)}-{rng.randrange(1000, 9999)} | "
        f"Mobile. 010-{rng.randrange(1000, 9999)}-{rng.randrange(1000, 9999)}"
    )
    if rng.random() < 0.3:
        signature += "\n\n" + _KO_DISCLAIMER.format(company=company)
    return greeting, signature


@dataclass(frozen=True, slots=True)
class _AttachmentSpec:
    """An attachment, regenerated from its seed whenever the claim is (re)sent."""

    filename: str
    kind: Literal["pdf", "png", "log"]
    size: int
    seed: int


@dataclass(slots=True)
class _Claim:
    """What is remembered of a recent claim, to resend it, reply to it or bounce it."""

    claim_id: int
    customer: _Customer
    subject: str
    text: str
    attachments: tuple[_AttachmentSpec, ...]
    noise_seed: int
    date: datetime
    message_ids: list[str]


# --- Encoding helpers -----------------------------------------------------------------------

_Q_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
_FROM_LINE = re.compile(rb"^From ", re.MULTILINE)


def _q_encode(data: bytes) -> str:
    return "".join(chr(b) if b in _Q_SAFE else "_" if b == 0x20 else f"={b:02X}" for b in data)


def _b_encode(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _header_text(text: str, cs: _Charset, enc: Literal["B", "Q"]) -> str:
    """``text`` as is when ASCII, else RFC 2047 encoded words of at most 75 characters."""
    if text.isascii():
        return text
    prefix = f"=?{cs.label}?{enc}?"
    encode = _b_encode if enc == "B" else _q_encode
    words: list[bytes] = []
    chunk = b""
    for ch in text:
        grown = chunk + ch.encode(cs.codec)
        if chunk and len(prefix) + len(encode(grown)) + 2 > 75:
            words.append(chunk)
            grown = ch.encode(cs.codec)
        chunk = grown
    words.append(chunk)
    return "\n ".join(f"{prefix}{encode(w)}?=" for w in words)


def _address(name: str, email: str, cs: _Charset, enc: Literal["B", "Q"]) -> str:
    if name.isascii():
        return f'"{name}" <{email}>' if any(c in name for c in ",.&@") else f"{name} <{email}>"
    return f"{_header_text(name, cs, enc)} <{email}>"


def _filename_params(filename: str, style: _Style) -> tuple[str, str]:
    """Content-Type ``name`` and Content-Disposition ``filename`` parameters as mailers write."""
    if filename.isascii():
        return f'name="{filename}"', f'filename="{filename}"'
    cs = style.charset
    word = f"=?{cs.label}?B?{base64.b64encode(filename.encode(cs.codec)).decode()}?="
    if style.filenames == "encoded-word":
        return f'name="{word}"', f'filename="{word}"'
    pieces = re.findall(r"%[0-9A-F]{2}|.", quote(filename.encode(cs.codec), safe=""))
    chunks, current = [], ""
    for piece in pieces:
        if len(current) + len(piece) > 48:
            chunks.append(current)
            current = ""
        current += piece
    chunks.append(current)
    if len(chunks) == 1:
        return f'name="{word}"', f"filename*={cs.label}''{chunks[0]}"
    params = [f"filename*0*={cs.label}''{chunks[0]}"]
    params += [f"filename*{i}*={c}" for i, c in enumerate(chunks[1:], 1)]
    return f'name="{word}"', ";\n\t".join(params)


@dataclass(slots=True)
class _Entity:
    """A MIME entity: header lines (ASCII) and an encoded body."""

    headers: list[str]
    body: bytes

    def render(self) -> bytes:
        return ("\n".join(self.headers) + "\n\n").encode("ascii") + self.body


def _leaf(content_type: str, payload: bytes, cte: str, *extra: str) -> _Entity:
    if cte == "base64":
        body = base64.encodebytes(payload)
    elif cte == "quoted-printable":
        body = binascii.b2a_qp(payload)
    else:
        body = payload
    if not body.endswith(b"\n"):
        body += b"\n"
    return _Entity(
        [f"Content-Type: {content_type}", *extra, f"Content-Transfer-Encoding: {cte}"], body
    )


def _multipart(subtype: str, parts: list[_Entity], boundary: str, params: str = "") -> _Entity:
    body = b"".join(b"--" + boundary.encode() + b"\n" + p.render() + b"\n" for p in parts)
    body += b"--" + boundary.encode() + b"--\n"
    header = f'Content-Type: multipart/{subtype};{params}\n\tboundary="{boundary}"'
    return _Entity([header], body)


# --- Attachments ----------------------------------------------------------------------------


def _pdf(rng: random.Random, size: int) -> bytes:
    """A small but well-formed PDF of about ``size`` bytes."""
    lines, total = [], 0
    while total < size - 600:
        label = rng.choice(("Item", "Qty", "Amount", "Total", "Ref"))
        line = f"({label} {rng.getrandbits(40):x}) Tj T*"
        lines.append(line)
        total += len(line) + 1
    stream = ("BT /F1 10 Tf 12 TL 50 800 Td\n" + "\n".join(lines) + "\nET").encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"), []
    for number, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _png(rng: random.Random, size: int) -> bytes:
    """A valid PNG of about ``size`` bytes (noisy pixels do not compress)."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    width = 100
    height = max(1, size // (3 * width + 1))
    rows = b"".join(b"\x00" + rng.randbytes(3 * width) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 1))
        + chunk(b"IEND", b"")
    )


def _log(rng: random.Random, size: int) -> bytes:
    """An application log of about ``size`` bytes."""
    t = datetime(2024, 3, 4, rng.randrange(0, 9), tzinfo=_KST)
    lines, total = [], 0
    while total < size:
        t += timedelta(milliseconds=rng.randrange(5, 4000))
        level = rng.choices(("INFO", "DEBUG", "WARN", "ERROR"), (6, 3, 2, 1))[0]
        what = rng.choice(
            (
                "GET /api/v2/orders/{n} 200 {ms}ms",
                "sync batch {n} committed ({ms} rows)",
                "connection to db-{n}.internal:5432 timed out after {ms}ms",
                "retrying request {n} (attempt 2/3)",
                "session {n} expired",
                "POST /login 401 {ms}ms",
            )
        ).format(n=rng.randrange(1000, 99999), ms=rng.randrange(1, 3000))
        line = f"{t:%Y-%m-%d %H:%M:%S}.{t.microsecond // 1000:03d} {level:5} "
        line += f"[worker-{rng.randrange(8)}] {what}"
        lines.append(line)
        total += len(line) + 1
    return ("\n".join(lines) + "\n").encode()


_ATTACHMENT_TYPES = {
    "pdf": ("application/pdf", _pdf),
    "png": ("image/png", _png),
    "log": ("text/plain; charset=UTF-8", _log),
}
_KO_FILENAMES = {
    "pdf": ("견적서_{ref}.pdf", "세금계산서_{ref}.pdf", "거래명세서.pdf", "invoice_{ref}.pdf"),
    "png": ("오류화면.png", "스크린샷 2024-03-04 오후 2.13.45.png", "캡처.PNG", "image001.png"),
    "log": ("오류로그_{ref}.log", "error.log", "서버 로그 (3월 4일 오전 전체 내보내기).txt"),
}
_EN_FILENAMES = {
    "pdf": ("invoice-{ref}.pdf", "order-{ref}.pdf", "contract.pdf"),
    "png": ("screenshot.png", "Screen Shot 2024-03-04 at 10.12.33.png", "image001.png"),
    "log": ("error.log", "console-output.txt", "sync-{ref}.log"),
}


def _attachment_size(rng: random.Random) -> int:
    """Mostly a few KB, with a tail to about 150 KB."""
    roll = rng.random()
    if roll < 0.7:
        return rng.randrange(1_500, 12_000)
    if roll < 0.95:
        return rng.randrange(12_000, 45_000)
    return rng.randrange(60_000, 150_000)


def _attachment_entity(spec: _AttachmentSpec, style: _Style) -> _Entity:
    content_type, make = _ATTACHMENT_TYPES[spec.kind]
    name, filename = _filename_params(spec.filename, style)
    return _leaf(
        f"{content_type}; {name}",
        make(random.Random(spec.seed), spec.size),
        "base64",
        f"Content-Disposition: attachment;\n\t{filename}",
    )


# --- HTML bodies ----------------------------------------------------------------------------

_OUTLOOK_HEAD = """<html xmlns:v="urn:schemas-microsoft-com:vml" \
xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:w="urn:schemas-microsoft-com:office:word" \
xmlns:m="http://schemas.microsoft.com/office/2004/12/omml" xmlns="http://www.w3.org/TR/REC-html40">
<head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}">
<meta name="Generator" content="Microsoft Word 15 (filtered medium)">
<style><!--
/* Font Definitions */
@font-face
\t{{font-family:"Cambria Math";
\tpanose-1:2 4 5 3 5 4 6 3 2 4;}}
@font-face
\t{{font-family:"Malgun Gothic";
\tpanose-1:2 11 5 3 2 0 0 2 0 4;}}
@font-face
\t{{font-family:"\\@Malgun Gothic";
\tpanose-1:2 11 5 3 2 0 0 2 0 4;}}
/* Style Definitions */
p.MsoNormal, li.MsoNormal, div.MsoNormal
\t{{margin:0cm;
\ttext-align:justify;
\ttext-justify:inter-ideograph;
\ttext-autospace:none;
\tword-break:break-hangul;
\tfont-size:10.0pt;
\tfont-family:"Malgun Gothic";}}
a:link, span.MsoHyperlink
\t{{mso-style-priority:99;
\tcolor:#0563C1;
\ttext-decoration:underline;}}
span.EmailStyle{n}
\t{{mso-style-type:personal-compose;
\tfont-family:"Malgun Gothic";
\tcolor:windowtext;}}
.MsoChpDefault
\t{{mso-style-type:export-only;
\tfont-size:10.0pt;}}
@page WordSection1
\t{{size:612.0pt 792.0pt;
\tmargin:99.25pt 3.0cm 3.0cm 3.0cm;}}
div.WordSection1
\t{{page:WordSection1;}}
--></style><!--[if gte mso 9]><xml>
<o:shapedefaults v:ext="edit" spidmax="1026" />
</xml><![endif]--><!--[if gte mso 9]><xml>
<o:shapelayout v:ext="edit">
<o:idmap v:ext="edit" data="1" />
</o:shapelayout></xml><![endif]-->
</head>
<body lang="{lang}" link="#0563C1" vlink="#954F72" \
style="word-wrap:break-word;text-justify-trim:punctuation">
<div class="WordSection1">
"""


def _html(text: str, style: _Style, lang: str, noise: random.Random) -> str:
    """The HTML version of a plain-text body, as ``style``'s mail program would write it."""
    lines = [html.escape(line) for line in text.rstrip("\n").split("\n")]
    charset = style.charset.label
    if style.html_flavour == "outlook":
        span = '<span lang="EN-US" style="font-size:10.0pt">{}<o:p></o:p></span>'
        body = "\n".join(
            f'<p class="MsoNormal">{span.format(line or "&nbsp;")}</p>' for line in lines
        )
        head = _OUTLOOK_HEAD.format(charset=charset, lang=lang.upper(), n=noise.randrange(17, 30))
        return f"{head}{body}\n</div>\n</body>\n</html>\n"
    if style.html_flavour == "gmail":
        body = "".join(f"<div>{line or '<br>'}</div>" for line in lines)
        return f'<div dir="ltr">{body}</div>\n'
    font = noise.choice(("맑은 고딕", "나눔고딕", "Arial", "돋움")) if lang == "ko" else "Arial"
    body = "\n".join(f"<p>{line or '&nbsp;'}</p>" for line in lines)
    if style.html_flavour == "apple":
        return (
            f'<html><head><meta http-equiv="content-type" content="text/html; charset={charset}">'
            '</head><body style="overflow-wrap: break-word; -webkit-nbsp-mode: space; '
            f'line-break: after-white-space;">{body}</body></html>\n'
        )
    return (
        f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
        f"</head>\n<body>\n<div style=\"font-family:'{font}'; font-size:10pt; color:#000000;\">"
        f"\n{body}\n</div>\n</body></html>\n"
    )


# --- The generator --------------------------------------------------------------------------


def _arrival(index: int) -> datetime:
    """When message ``index`` reaches the support mailbox."""
    return _START + index * _STEP


class _Mailbox:
    """Generator state: the random source, recent claims and recent messages."""

    def __init__(self, seed: int, support_address: str, prefix: str) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.support = support_address
        self.support_domain = support_address.rpartition("@")[2]
        self.prefix = prefix
        self.claims = 0
        self.recent: deque[_Claim] = deque(maxlen=_RECENT_CLAIMS)
        self.copyable: deque[CorpusMessage] = deque(maxlen=_RECENT_MESSAGES)
        self.makers: dict[str, Callable[[datetime], CorpusMessage]] = {
            "claim": self._claim,
            "resend": self._resend,
            "copy": self._copy,
            "reply": lambda now: self._customer_reply(now, changed_subject=False),
            "reply_refs": lambda now: self._customer_reply(now, changed_subject=True),
            "auto_reply": self._auto_reply,
            "bounce": self._bounce,
            "bulk": self._bulk,
        }

    def message(self, index: int) -> CorpusMessage:
        """The next message, arriving at ``_arrival(index)``."""
        now = _arrival(index)
        while self.recent and now - self.recent[0].date > _THREAD_WINDOW:
            self.recent.popleft()
        kind = self.rng.choices(tuple(MIX), tuple(MIX.values()))[0]
        if kind in ("resend", "reply", "reply_refs") and not self.recent:
            kind = "claim"
        if kind == "copy" and not self.copyable:
            kind = "claim"
        made = self.makers[kind](now)
        if kind in ("claim", "resend", "reply", "reply_refs"):
            self.copyable.append(made)
        return made

    # Header helpers.

    def _hex(self, digits: int) -> str:
        return f"{self.rng.getrandbits(4 * digits):0{digits}x}"

    def _ip(self) -> str:
        return ".".join(str(self.rng.randrange(1, 224 if i == 0 else 255)) for i in range(4))

    def _b64(self, nbytes: int) -> str:
        return base64.b64encode(self.rng.randbytes(nbytes)).decode()

    def _date(self, now: datetime, tz: timezone) -> datetime:
        """The Date of a message arriving ``now``: written 0-2 s before, in the sender's zone."""
        return (now - timedelta(seconds=self.rng.randrange(3))).astimezone(tz)

    def _message_id(self, customer: _Customer, date: datetime) -> str:
        style, domain = customer.style, customer.domain.name
        if style.name.startswith("outlook"):
            server, region = (
                ("SL2P216MB", "KORP216")
                if style.name == "outlook_ks"
                else ("BY5PR11MB", "NAMPRD11")
            )
            host = f"{server}{self.rng.randrange(1000, 9999)}"
            return f"<{host}{self._hex(32).upper()}@{host}.{region}.PROD.OUTLOOK.COM>"
        if style.name == "gmail":
            token = base64.b64encode(self.rng.randbytes(30), b"-_").decode()
            return f"<CA+{token}@mail.gmail.com>"
        return f"<{int(date.timestamp())}.{self._hex(16)}@{domain}>"

    def _boundary(self, style: _Style) -> str:
        if style.name.startswith("outlook"):
            return f"_000_{self._hex(24).upper()}_"
        if style.name == "gmail":
            return f"000000000000{self._hex(12)}"
        if style.name == "apple":
            return (
                f"Apple-Mail={self._hex(8).upper()}-{self._hex(4).upper()}-{self._hex(12).upper()}"
            )
        return f"------------{self._b64(18).replace('+', 'x').replace('/', 'y')}"

    def _trace(self, sender: str, domain: str, now: datetime) -> list[str]:
        """Return-Path, Received, Authentication-Results and DKIM-Signature noise."""
        ip, local = self._ip(), f"10.0.{self.rng.randrange(256)}.{self.rng.randrange(1, 255)}"
        host = "mail-pj1-f41.google.com" if domain.endswith("gmail.com") else f"mail.{domain}"
        sent = now - timedelta(seconds=1)
        return [
            f"Return-Path: <{sender}>",
            f"Delivered-To: {self.support}",
            f"Received: from {host} ({host} [{ip}])\n\tby mx.{self.support_domain} (Postfix) "
            f"with ESMTPS id 4T{self._hex(11).upper()}\n\tfor <{self.support}>; "
            f"{format_datetime(now)}",
            f"Received: from [{local}] (unknown [{ip}])\n\tby {host} with ESMTPSA "
            f"id {self._hex(12)};\n\t{format_datetime(sent)}",
            f"Authentication-Results: mx.{self.support_domain};\n\tdkim=pass (2048-bit key) "
            f"header.d={domain} header.b={self._b64(6)};\n\tspf=pass smtp.mailfrom={sender}",
            f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain};"
            f" s=s{self.rng.randrange(1, 3)};\n\th=from:to:subject:date:message-id:mime-version:"
            f"content-type;\n\tbh={self._b64(32)};\n\tb={self._b64(96)}\n\t {self._b64(96)}\n\t"
            f" {self._b64(64)}",
            f"X-Spam-Status: No, score=-{self.rng.randrange(1, 30) / 10:.1f} required=5.0",
        ]

    def _tracking_like(self) -> str:
        """A well-formed tracking number that ticketd never issued."""
        values = [self.rng.randrange(32) for _ in range(7)]
        total, factor = 0, 2
        for value in reversed(values):
            addend = factor * value
            total += addend // 32 + addend % 32
            factor = 3 - factor
        values.append((32 - total % 32) % 32)
        code = "".join(_CROCKFORD[v] for v in values)
        return f"{self.prefix}-{code[:4]}-{code[4:]}"

    # Building a customer's mail.

    def _customer_mail(
        self,
        customer: _Customer,
        *,
        now: datetime,
        subject: str,
        text: str,
        attachments: tuple[_AttachmentSpec, ...],
        noise_seed: int,
        references: tuple[str, ...] = (),
        in_reply_to: str | None = None,
    ) -> tuple[bytes, str, datetime]:
        """A customer's message to support: its bytes, Message-ID and Date."""
        style, cs = customer.style, customer.style.charset
        date = self._date(now, customer.domain.tz)
        message_id = self._message_id(customer, date)
        lang = customer.domain.lang
        parts = []
        if style.layout != "html":
            payload = text.encode(cs.codec)
            parts.append(_leaf(f"text/plain; charset={cs.label}", payload, style.text_cte))
        if style.layout != "plain":
            page = _html(text, style, lang, random.Random(noise_seed)).encode(cs.codec)
            parts.append(_leaf(f"text/html; charset={cs.label}", page, style.html_cte))
        body = (
            parts[0] if len(parts) == 1 else _multipart("alternative", parts, self._boundary(style))
        )
        if attachments:
            parts = [body, *(_attachment_entity(a, style) for a in attachments)]
            body = _multipart("mixed", parts, self._boundary(style))
        headers = self._trace(customer.email, customer.domain.name, now)
        headers += [
            f"From: {_address(customer.name, customer.email, cs, style.header_enc)}",
            f"To: {self.support}",
            f"Subject: {_header_text(subject, cs, style.header_enc)}",
            f"Date: {format_datetime(date)}",
            f"Message-ID: {message_id}",
        ]
        if in_reply_to:
            headers.append(f"In-Reply-To: {in_reply_to}")
        if references:
            headers.append(f"References: {' '.join(references)}")
        if style.name.startswith("outlook"):
            index = base64.b64encode(self.rng.randbytes(22)).decode()
            headers += [
                f"Thread-Topic: {_header_text(subject, cs, style.header_enc)}",
                f"Thread-Index: {index}",
            ]
        headers += ["MIME-Version: 1.0", *(f"{k}: {v}" for k, v in style.headers)]
        return (("\n".join(headers) + "\n").encode("ascii") + body.render(), message_id, date)

    def _claim_content(
        self, rng: random.Random, customer: _Customer, claim_id: int, now: datetime
    ) -> tuple[str, str, tuple[_AttachmentSpec, ...]]:
        """Subject, text and attachments of a new claim; the text names a unique reference."""
        ref = f"{(claim_id * 7919 + self.seed * 104_729) % 10**8:08d}"
        company = customer.domain.company
        if customer.domain.lang == "ko":
            cp949 = customer.style.charset is _KSC and rng.random() < 0.15
            subject, opening = rng.choice(_KO_CP949_ISSUES if cp949 else _KO_ISSUES)
            subject = rng.choice(("", "", "", "[긴급] ", "[문의] ", "문의드립니다 - ")) + subject
            greeting, signature = _ko_greeting_and_signature(rng, customer)
            detail, extras, closing = _KO_DETAILS, _KO_EXTRAS, rng.choice(_KO_CLOSINGS)
            filenames = _KO_FILENAMES
        else:
            subject, opening = rng.choice(_EN_ISSUES)
            greeting = rng.choice(_EN_GREETINGS)
            detail, extras, closing = _EN_DETAILS, _EN_EXTRAS, rng.choice(_EN_CLOSINGS)
            signature = customer.name + (f"\n{customer.title}, {company}" if company else "")
            filenames = _EN_FILENAMES
        fields = {"ref": ref, "code": rng.randrange(1000, 9999), "when": f"{now:%Y-%m-%d %H:%M}"}
        middle = [rng.choice(detail).format(**fields), *rng.sample(extras, rng.randrange(0, 4))]
        text = "\n\n".join((greeting, opening, "\n".join(middle), closing, "--\n" + signature))
        attachments: tuple[_AttachmentSpec, ...] = ()
        if rng.random() < 0.25:
            kinds = rng.choices(("pdf", "png", "log"), k=rng.choice((1, 1, 1, 2)))
            attachments = tuple(
                _AttachmentSpec(
                    rng.choice(filenames[k]).format(ref=ref),
                    k,
                    _attachment_size(rng),
                    rng.getrandbits(32),
                )
                for k in kinds
            )
        return subject, text + "\n", attachments

    # One method per kind.

    def _claim(self, now: datetime) -> CorpusMessage:
        self.claims += 1
        customer = _customer(self.rng)
        content_seed = self.rng.getrandbits(64)
        subject, text, attachments = self._claim_content(
            random.Random(content_seed), customer, self.claims, now
        )
        data, message_id, date = self._customer_mail(
            customer,
            now=now,
            subject=subject,
            text=text,
            attachments=attachments,
            noise_seed=content_seed,
        )
        claim = _Claim(
            self.claims, customer, subject, text, attachments, content_seed, date, [message_id]
        )
        self.recent.append(claim)
        return CorpusMessage(data, "claim", claim.claim_id)

    def _resend(self, now: datetime) -> CorpusMessage:
        claim = self.rng.choice(self.recent)
        data, _, _ = self._customer_mail(
            claim.customer,
            now=now,
            subject=claim.subject,
            text=claim.text,
            attachments=claim.attachments,
            noise_seed=claim.noise_seed,
        )
        return CorpusMessage(data, "resend", claim.claim_id)

    def _copy(self, now: datetime) -> CorpusMessage:
        """A byte-for-byte copy of a recent message, as when it is delivered twice via Cc."""
        original = self.rng.choice(self.copyable)
        return CorpusMessage(original.data, "copy", original.claim_id)

    def _customer_reply(self, now: datetime, *, changed_subject: bool) -> CorpusMessage:
        """A reply threading to the customer's own earlier messages of the claim."""
        claim = self.rng.choice(self.recent)
        customer, rng = claim.customer, self.rng
        ko = customer.domain.lang == "ko"
        new_text = rng.choice(_KO_REPLIES if ko else _EN_REPLIES)
        if changed_subject:
            subject = rng.choice(_KO_NEW_SUBJECTS if ko else _EN_NEW_SUBJECTS)
        else:
            subject = "RE: " if customer.style.name.startswith("outlook") else "Re: "
            subject += claim.subject
        when = claim.date.strftime("%Y-%m-%d %H:%M")
        attribution = (
            f"{when}, {customer.name} <{customer.email}> 작성:"
            if ko
            else f"On {when}, {customer.name} <{customer.email}> wrote:"
        )
        quoted = "\n".join(f"> {line}" if line else ">" for line in claim.text.splitlines())
        text = f"{new_text}\n\n{customer.name}\n\n{attribution}\n{quoted}\n"
        attachments = (
            (_AttachmentSpec("error.log", "log", _attachment_size(rng), rng.getrandbits(32)),)
            if rng.random() < 0.2
            else ()
        )
        ids = claim.message_ids
        references = (ids[0], *ids[1:][-4:])
        data, message_id, _ = self._customer_mail(
            customer,
            now=now,
            subject=subject,
            text=text,
            attachments=attachments,
            noise_seed=rng.getrandbits(64),
            references=references,
            in_reply_to=None if changed_subject else references[-1],
        )
        claim.message_ids.append(message_id)
        return CorpusMessage(data, "reply_refs" if changed_subject else "reply", claim.claim_id)

    def _auto_reply(self, now: datetime) -> CorpusMessage:
        """An out-of-office answer, some to an acknowledgement of ours (an unknown id)."""
        rng = self.rng
        customer = rng.choice(self.recent).customer if self.recent else _customer(rng)
        ko, cs = customer.domain.lang == "ko", customer.style.charset
        ack_id = f"<ack-{self._hex(24)}@{self.support_domain}>" if rng.random() < 0.6 else None
        about = f"[{self._tracking_like()}] " + (
            "문의가 접수되었습니다" if ko else "We received your request"
        )
        if ko:
            subject = rng.choice(("부재중: ", "자동 회신: ")) + (
                about if ack_id else "부재중입니다"
            )
            body = (
                f"안녕하세요. {customer.name}입니다.\n\n"
                "3월 4일부터 3월 8일까지 휴가로 부재중입니다.\n"
                "급한 용무는 팀 대표 메일로 연락 부탁드립니다.\n\n감사합니다.\n"
            )
        else:
            subject = rng.choice(("Out of Office: Re: ", "Automatic reply: ")) + about
            subject = subject if ack_id else "Out of office"
            body = (
                f"Thank you for your email. I am out of the office until Monday, March 11, "
                f"with limited access to email.\n\n{customer.name}\n"
            )
        date = self._date(now, customer.domain.tz)
        headers = self._trace(customer.email, customer.domain.name, now)
        headers += [
            f"From: {_address(customer.name, customer.email, cs, 'B')}",
            f"To: {self.support}",
            f"Subject: {_header_text(subject, cs, 'B')}",
            f"Date: {format_datetime(date)}",
            f"Message-ID: {self._message_id(customer, date)}",
        ]
        if ack_id:
            headers += [f"In-Reply-To: {ack_id}", f"References: {ack_id}"]
        headers += ["Auto-Submitted: auto-replied", "MIME-Version: 1.0"]
        headers += rng.choice(
            (["X-Autoreply: yes"], ["X-Auto-Response-Suppress: All"], ["Precedence: junk"], [])
        )
        part = _leaf(f"text/plain; charset={cs.label}", body.encode(cs.codec), "base64")
        data = ("\n".join(headers) + "\n").encode("ascii") + part.render()
        return CorpusMessage(data, "auto_reply", None)

    def _bounce(self, now: datetime) -> CorpusMessage:
        """A DSN for an acknowledgement of ours, or for a customer's own message."""
        rng = self.rng
        claim = rng.choice(self.recent) if self.recent and rng.random() < 0.4 else None
        if claim is None:
            customer = _customer(rng)
            mta = f"mx.{self.support_domain}"
            recipient = customer.email.replace("@", f"{rng.randrange(10)}@")
            sent = now - timedelta(minutes=rng.randrange(1, 30))
            original_id = f"<ack-{self._hex(24)}@{self.support_domain}>"
            subject = _header_text(f"[{self._tracking_like()}] 문의가 접수되었습니다", _UTF8, "B")
            original = [
                f"From: Example Support <{self.support}>",
                f"To: {recipient}",
                f"Subject: {subject}",
                f"Date: {format_datetime(sent)}",
                f"Message-ID: {original_id}",
                "Auto-Submitted: auto-replied",
                "MIME-Version: 1.0",
                "Content-Type: text/plain; charset=UTF-8",
                "Content-Transfer-Encoding: base64",
            ]
            original_body = base64.encodebytes("문의가 접수되었습니다. 감사합니다.\n".encode())
        else:
            customer, mta = claim.customer, f"mail.{claim.customer.domain.name}"
            recipient = f"manager{rng.randrange(10)}@{customer.domain.name}"
            cs, enc = customer.style.charset, customer.style.header_enc
            original = [
                f"From: {_address(customer.name, customer.email, cs, enc)}",
                f"To: {self.support}",
                f"Cc: {recipient}",
                f"Subject: {_header_text(claim.subject, cs, enc)}",
                f"Date: {format_datetime(claim.date)}",
                f"Message-ID: {claim.message_ids[0]}",
                "MIME-Version: 1.0",
                f"Content-Type: text/plain; charset={cs.label}",
                "Content-Transfer-Encoding: base64",
            ]
            original_body = base64.encodebytes(claim.text.encode(cs.codec))
        queue_id = self._hex(10).upper()
        notice = _leaf(
            "text/plain; charset=us-ascii",
            (
                f"This is the mail system at host {mta}.\n\nI'm sorry to have to inform you that "
                "your message could not\nbe delivered to one or more recipients.\n\n"
                f"<{recipient}>: host mx.{recipient.rpartition('@')[2]} said: 550 5.1.1 "
                "User unknown (in reply to RCPT TO command)\n"
            ).encode(),
            "7bit",
            "Content-Description: Notification",
        )
        status = _Entity(
            ["Content-Description: Delivery report", "Content-Type: message/delivery-status"],
            (
                f"Reporting-MTA: dns; {mta}\nX-Postfix-Queue-ID: {queue_id}\n"
                f"Arrival-Date: {format_datetime(now - timedelta(minutes=1))}\n\n"
                f"Final-Recipient: rfc822; {recipient}\nOriginal-Recipient: rfc822;{recipient}\n"
                "Action: failed\nStatus: 5.1.1\n"
                f"Remote-MTA: dns; mx.{recipient.rpartition('@')[2]}\n"
                "Diagnostic-Code: smtp; 550 5.1.1 User unknown\n"
            ).encode(),
        )
        if rng.random() < 0.5:
            returned = _Entity(
                ["Content-Description: Undelivered Message", "Content-Type: message/rfc822"],
                ("\n".join(original) + "\n\n").encode("ascii") + original_body,
            )
        else:
            returned = _Entity(
                [
                    "Content-Description: Undelivered Message Headers",
                    "Content-Type: text/rfc822-headers",
                ],
                ("\n".join(original) + "\n").encode("ascii"),
            )
        report = _multipart(
            "report",
            [notice, status, returned],
            f"{queue_id}.{int(now.timestamp())}/{mta}",
            " report-type=delivery-status;",
        )
        headers = [
            "Return-Path: <>",
            f"Delivered-To: {self.support}",
            f"Received: by {mta} (Postfix)\n\tid {queue_id}; {format_datetime(now)}",
            f"Date: {format_datetime(now - timedelta(seconds=1))}",
            f"From: Mail Delivery System <MAILER-DAEMON@{mta}>",
            "Subject: Undelivered Mail Returned to Sender",
            f"To: {self.support}",
            "Auto-Submitted: auto-replied",
            f"Message-ID: <{int(now.timestamp())}.{queue_id}@{mta}>",
            "MIME-Version: 1.0",
        ]
        data = ("\n".join(headers) + "\n").encode("ascii") + report.render()
        return CorpusMessage(data, "bounce", claim.claim_id if claim else None)

    def _bulk(self, now: datetime) -> CorpusMessage:
        """A newsletter: noreply sender, List-Id and Precedence: bulk."""
        rng = self.rng
        sender, brand, ko = rng.choice(
            (
                ("noreply@news.cloudnest.io", "CloudNest", False),
                ("no-reply@mailer.bizinsight.co.kr", "비즈인사이트", True),
                ("noreply@updates.shipfast.com", "ShipFast", False),
                ("noreply@letter.hanaro-edu.co.kr", "하나로에듀", True),
            )
        )
        domain = sender.partition("@")[2]
        topic = rng.choice(
            ("3월 신규 기능 안내", "웨비나 초대", "요금제 변경 안내")
            if ko
            else ("Your March product update", "Webinar invitation", "Pricing changes")
        )
        items = "\n".join(
            f'<tr><td style="padding:16px;font-size:14px;color:#333333">'
            f"<h2>{topic} #{i}</h2><p>{html.escape(rng.choice(_NEWS_KO if ko else _NEWS_EN))}"
            f'</p><a href="https://{domain}/c/{self._hex(16)}">→</a></td></tr>'
            for i in range(rng.randrange(20, 80))
        )
        page = (
            f'<html><body><table width="600" align="center">{items}</table>'
            f'<img src="https://{domain}/o/{self._hex(32)}.gif" width="1" '
            'height="1"></body></html>\n'
        )
        text = f"{brand}: {topic}\n\nhttps://{domain}/v/{self._hex(16)}\n"
        body = _multipart(
            "alternative",
            [
                _leaf("text/plain; charset=UTF-8", text.encode(), "quoted-printable"),
                _leaf("text/html; charset=UTF-8", page.encode(), "quoted-printable"),
            ],
            f"=_{self._hex(32)}",
        )
        headers = self._trace(f"bounce-{self._hex(12)}@{domain}", domain, now)
        headers += [
            f"From: {_address(brand, sender, _UTF8, 'B')}",
            f"To: {self.support}",
            f"Subject: {_header_text(f'[{brand}] {topic}', _UTF8, 'B')}",
            f"Date: {format_datetime(now - timedelta(seconds=1))}",
            f"Message-ID: <{self._hex(20)}@{domain}>",
            f"List-Id: {brand if brand.isascii() else 'Newsletter'} <news.{domain}>",
            f"List-Unsubscribe: <https://{domain}/u/{self._hex(16)}>, <mailto:unsub@{domain}>",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            "Precedence: bulk",
            "X-Mailer: MailBlast 4.2",
            "MIME-Version: 1.0",
        ]
        data = ("\n".join(headers) + "\n").encode("ascii") + body.render()
        return CorpusMessage(data, "bulk", None)


def generate(
    n_messages: int,
    *,
    seed: int = 1,
    support_address: str = "support@example.com",
    prefix: str = "SUP",
) -> Iterator[CorpusMessage]:
    """Yield ``n_messages`` messages, the same ones for the same arguments.

    Dates increase by 3 s a message (exact copies keep their original's Date); resends and
    replies refer to claims younger than 23 h; no two claims share sender, subject and body.
    Mail to and from us uses ``support_address``; ``prefix`` makes the tracking-number-like
    tags (never issued by ticketd) in auto-replies and bounced acknowledgements.
    """
    mailbox = _Mailbox(seed, support_address, prefix)
    for index in range(n_messages):
        yield mailbox.message(index)


# --- Writing a corpus -----------------------------------------------------------------------


def _mbox_entry(data: bytes, when: datetime) -> bytes:
    """One mbox entry: a From_ line, the message with body "From " lines escaped (mboxo)."""
    sender = (
        data.partition(b"\n")[0].removeprefix(b"Return-Path: <").rstrip(b">") or b"MAILER-DAEMON"
    )
    utc = when.astimezone(UTC)
    stamp = f"{utc:%a %b} {utc.day:2d} {utc:%H:%M:%S %Y}".encode()
    return b"From " + sender + b" " + stamp + b"\n" + _FROM_LINE.sub(b">From ", data) + b"\n"


def _write_mbox(target: Path, messages: Iterable[bytes]) -> None:
    with target.open("xb") as mbox:
        for index, data in enumerate(messages):
            mbox.write(_mbox_entry(data, _arrival(index)))


def _write_maildir(target: Path, messages: Iterable[bytes]) -> None:
    """Deliver into ``new/`` through ``tmp/``; names and mtimes sort in arrival order."""
    for sub in ("tmp", "new", "cur"):
        (target / sub).mkdir(parents=True)
    for index, data in enumerate(messages):
        stamp = _arrival(index).timestamp()
        name = f"{int(stamp)}.M{index:07d}P0.corpus"
        (target / "tmp" / name).write_bytes(data)
        os.replace(target / "tmp" / name, target / "new" / name)
        os.utime(target / "new" / name, (stamp, stamp))


def _write_eml_dir(target: Path, messages: Iterable[bytes]) -> None:
    target.mkdir(parents=True)
    for index, data in enumerate(messages):
        (target / f"{index:07d}.eml").write_bytes(data)


_WRITERS: dict[str, Callable[[Path, Iterable[bytes]], None]] = {
    "mbox": _write_mbox,
    "maildir": _write_maildir,
    "eml-dir": _write_eml_dir,
}


def write_corpus(n: int, out: Path, fmt: Format = "mbox", seed: int = 1) -> Truth:
    """Write ``n`` messages to ``out/CORPUS_NAMES[fmt]`` and their truth to ``out/truth.json``.

    Messages are stored in arrival order (mbox order, Maildir names and mtimes, .eml names).
    An existing corpus is never overwritten: ``FileExistsError``.
    """
    out.mkdir(parents=True, exist_ok=True)
    truth = Truth()

    def counted() -> Iterator[bytes]:
        for message in generate(n, seed=seed):
            truth.add(message)
            yield message.data

    _WRITERS[fmt](out / CORPUS_NAMES[fmt], counted())
    (out / TRUTH_NAME).write_text(json.dumps(asdict(truth), indent=2) + "\n")
    return truth


def main(argv: list[str] | None = None) -> int:
    """CLI: write a corpus and print its truth as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("n", type=int, help="number of messages")
    parser.add_argument("out", type=Path, help="output directory")
    parser.add_argument("--format", choices=tuple(CORPUS_NAMES), default="mbox")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    try:
        truth = write_corpus(args.n, args.out, args.format, args.seed)
    except FileExistsError as exc:
        print(f"error: {exc.filename} already exists", file=sys.stderr)
        return 1
    print(json.dumps(asdict(truth), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
