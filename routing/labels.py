"""The one vocabulary of status names customers and engineers read, in mail and on pages."""

from __future__ import annotations

from ticketd.routing.model import Priority, Status

LANGUAGES = ("ko", "en")

STATUS_LABELS: dict[str, dict[Status, str]] = {
    "ko": {
        Status.OPEN: "접수됨",
        Status.PENDING: "처리 중",
        Status.WAITING: "고객님의 답변 대기 중",
        Status.RESOLVED: "해결됨",
        Status.CLOSED: "종료됨",
    },
    "en": {
        Status.OPEN: "Received",
        Status.PENDING: "In progress",
        Status.WAITING: "Waiting for your reply",
        Status.RESOLVED: "Resolved",
        Status.CLOSED: "Closed",
    },
}


def status_label(status: str, language: str) -> str:
    """A status as people read it (English for an unknown language, the raw value for an
    unknown status)."""
    labels = STATUS_LABELS.get(language, STATUS_LABELS["en"])
    try:
        return labels[Status(status)]
    except ValueError:
        return status


PRIORITY_LABELS: dict[str, dict[Priority, str]] = {
    "ko": {
        Priority.LOW: "낮음",
        Priority.NORMAL: "보통",
        Priority.HIGH: "높음",
        Priority.URGENT: "긴급",
    },
    "en": {
        Priority.LOW: "Low",
        Priority.NORMAL: "Normal",
        Priority.HIGH: "High",
        Priority.URGENT: "Urgent",
    },
}


def priority_label(priority: str, language: str) -> str:
    """A priority as engineers read it (as ``status_label`` for unknown values)."""
    labels = PRIORITY_LABELS.get(language, PRIORITY_LABELS["en"])
    try:
        return labels[Priority(priority)]
    except ValueError:
        return priority
