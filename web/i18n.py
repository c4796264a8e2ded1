"""User-interface strings in Korean and English, and choosing between them."""

from __future__ import annotations

import functools

from ticketd.routing.labels import LANGUAGES
from ticketd.routing.views import TicketPage

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "lookup_title": "Check your request",
        "lookup_help": "Enter the tracking number from our acknowledgement mail.",
        "tracking_number": "Tracking number",
        "look_up": "Look up",
        "not_found_title": "No such request",
        "not_found_help": "We found no request with this tracking number. Check it and try again.",
        "invalid_number": "That is not a valid tracking number.",
        "status": "Status",
        "owner": "Handled by",
        "created": "Received",
        "updated": "Last update",
        "promise": "You get a first answer within {hours} hours.",
        "first_due": "Answer due",
        "last_answer": "Last answer",
        "reason_customer_wrote": "reopened because you wrote again",
        "reason_reopened": "reopened by our support team",
        "reason_no_reply": "marked resolved as we did not hear back",
        "timeline": "History",
        "conversation_hidden": "Open the link in your mail to see the conversation.",
        "resend_title": "Lost the link?",
        "resend_help": "Enter the tracking number and your email address; if they match, we "
        "mail you the link again.",
        "email": "Email address",
        "resend": "Mail me my link",
        "resend_done": "If the address matches the request, the link is on its way.",
        "form_expired": "The form had expired. Please send it again.",
        "attachments": "Attachments",
        "too_many": "Too many requests. Please wait a moment and try again.",
        "customer": "You",
        "support": "Support",
        "step_received": "Received",
        "step_progress": "In progress",
        "step_waiting": "Waiting for you",
        "step_resolved": "Resolved",
        "step_closed": "Closed",
        "event_created": "Request received",
        "event_status_changed": "Status changed",
        "event_reply_sent": "Support replied",
        "event_customer_message": "You wrote",
        "event_merged": "Joined with another request",
        "language": "한국어",
        "contact": "Questions? Write to",
        "mistyped": "This number looks mistyped: one of its characters is wrong. Check it "
        "against your mail and try again.",
    },
    "ko": {
        "lookup_title": "문의 진행 상황 확인",
        "lookup_help": "접수 안내 메일에 있는 접수 번호를 입력해 주십시오.",
        "tracking_number": "접수 번호",
        "look_up": "조회",
        "not_found_title": "문의를 찾을 수 없습니다",
        "not_found_help": "이 접수 번호로 된 문의가 없습니다. 번호를 확인해 주십시오.",
        "invalid_number": "올바른 접수 번호가 아닙니다.",
        "status": "상태",
        "owner": "담당",
        "created": "접수",
        "updated": "최근 변경",
        "promise": "{hours}시간 이내에 첫 답변을 드립니다.",
        "first_due": "답변 예정",
        "last_answer": "최근 답변",
        "reason_customer_wrote": "고객님이 다시 문의하셔서 다시 열었습니다",
        "reason_reopened": "담당자가 다시 열었습니다",
        "reason_no_reply": "답변이 없으셔서 해결됨으로 정리했습니다",
        "timeline": "진행 내역",
        "conversation_hidden": "대화 내용은 메일에 있는 링크로 여시면 보입니다.",
        "resend_title": "링크를 잃어버리셨나요?",
        "resend_help": "접수 번호와 이메일 주소를 입력하시면, 일치하는 경우 링크를 "
        "다시 보내 드립니다.",
        "email": "이메일 주소",
        "resend": "링크 다시 받기",
        "resend_done": "주소가 일치하면 링크를 보내 드렸습니다.",
        "form_expired": "입력 양식이 만료되었습니다. 다시 보내 주십시오.",
        "attachments": "첨부 파일",
        "too_many": "요청이 너무 많습니다. 잠시 후 다시 시도해 주십시오.",
        "customer": "고객님",
        "support": "고객지원",
        "step_received": "접수",
        "step_progress": "처리 중",
        "step_waiting": "답변 대기",
        "step_resolved": "해결",
        "step_closed": "종료",
        "event_created": "문의 접수",
        "event_status_changed": "상태 변경",
        "event_reply_sent": "고객지원 답변",
        "event_customer_message": "고객님 메시지",
        "event_merged": "다른 문의와 통합",
        "language": "English",
        "contact": "문의 메일:",
        "mistyped": "접수 번호가 잘못 입력된 것 같습니다. 메일에 있는 번호와 한 글자씩 "
        "비교해 다시 입력해 주십시오.",
    },
}

STEPS = ("received", "progress", "waiting", "resolved", "closed")
STATUS_STEP = {
    "open": "received",
    "pending": "progress",
    "waiting": "waiting",
    "resolved": "resolved",
    "closed": "closed",
}


def ticket_language(page: TicketPage, fallback: str) -> str:
    """A status page opens in its ticket's language (a Korean ticket stays Korean for an
    English browser); ``fallback`` for a ticket without a known one."""
    return page.language if page.language in LANGUAGES else fallback


MAX_ACCEPT_LANGUAGE = 200
"""Characters of ``Accept-Language`` looked at: real browsers send 10 to 60."""


def choose_language(query: str | None, accept_language: str | None, default: str) -> str:
    """``?lang=`` first, then the browser's preference, then the service default."""
    if query in LANGUAGES:
        return query
    return _preferred((accept_language or "")[:MAX_ACCEPT_LANGUAGE]) or default


@functools.lru_cache(maxsize=256)
def _preferred(accept_language: str) -> str | None:
    """The best-rated language of ours in a (bounded) header, remembered: browsers send a
    handful of distinct headers, and the cache holds at most 256 short keys."""
    best: tuple[float, str] | None = None
    for part in accept_language.split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if best is None or quality > best[0]:
            best = (quality, primary)
    return best[1] if best and best[0] > 0 else None
