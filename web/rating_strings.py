"""The satisfaction pages' strings in Korean and English."""

from __future__ import annotations

RATE_STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Rate our support",
        "question": "How did we do on this request?",
        "good": "Good, I'm satisfied",
        "bad": "Not good",
        "comment": "Comment (optional)",
        "comment_help": "Tell us what went well or what we could do better (at most {chars} "
        "characters).",
        "send": "Send my rating",
        "current": "Your rating",
        "thanks": "Thank you! Your rating has been recorded.",
        "changeable": "You can change it until the request is closed.",
        "not_yet": "This request can be rated once it is resolved.",
        "closed": "This request is closed: its rating can no longer be given or changed.",
        "denied": "This rating link is not valid. Please use the link from our mail.",
        "expired": "The form had expired. Please open the link from our mail again.",
        "choose": "Please choose Good or Not good.",
        "back": "Back to your request",
        "rate_help": "Was this request handled well?",
    },
    "ko": {
        "title": "상담 만족도 평가",
        "question": "이번 문의 처리에 만족하셨나요?",
        "good": "만족해요",
        "bad": "아쉬워요",
        "comment": "의견 (선택)",
        "comment_help": "좋았던 점이나 아쉬웠던 점을 알려 주십시오 (최대 {chars}자).",
        "send": "평가 보내기",
        "current": "고객님의 평가",
        "thanks": "감사합니다. 평가가 접수되었습니다.",
        "changeable": "문의가 종료되기 전까지 평가를 바꾸실 수 있습니다.",
        "not_yet": "이 문의는 처리가 완료된 뒤에 평가하실 수 있습니다.",
        "closed": "종료된 문의라 평가를 남기거나 바꾸실 수 없습니다.",
        "denied": "올바른 평가 링크가 아닙니다. 메일에 있는 링크를 이용해 주십시오.",
        "expired": "입력 시간이 지났습니다. 메일의 링크를 다시 열어 주십시오.",
        "choose": "'만족해요' 또는 '아쉬워요'를 골라 주십시오.",
        "back": "문의 내용으로 돌아가기",
        "rate_help": "이번 문의 처리는 어떠셨나요?",
    },
}
