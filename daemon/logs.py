"""Logging set-up, done only here. Bodies, passwords and tokens are never logged: records
name the ticket and message id (``extra={"ticket": …, "message_id": …}``),
and every configured secret is masked in whatever a record says."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

LEVELS = ("debug", "info", "warning", "error")
FORMATS = ("text", "json")
CONTEXT_FIELDS = ("ticket", "message_id")
MASK = "[redacted]"
_RESERVED = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class BadLogLevel(ValueError):
    """Not one of ``LEVELS``."""


def level_of(name: str) -> int:
    """The logging level named ``name`` (any case), or ``BadLogLevel``."""
    if name.lower() not in LEVELS:
        raise BadLogLevel(f"log level must be one of {', '.join(LEVELS)}, not {name!r}")
    return int(getattr(logging, name.upper()))


class _Redact(logging.Filter):
    """Masks each secret in the formatted message, its traceback and its ids."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if isinstance(value, str):
                setattr(record, name, self.mask(value))
        record.msg, record.args = self.mask(record.getMessage()), None
        if record.exc_info:
            record.exc_text = self.mask(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, ticket, message_id and any
    other ``extra`` field."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in CONTEXT_FIELDS:
            entry[field] = getattr(record, field, None)
        entry |= {k: v for k, v in vars(record).items() if k not in _RESERVED and k not in entry}
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


CHATTY = ("alembic", "apscheduler", "uvicorn.access", "mail.log")
"""Libraries whose INFO lines say nothing an operator needs (aiosmtpd logs every
connection as ``mail.log``): below DEBUG they log warnings."""


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of each record (a caller that
    swapped it, as a test's capture does, never leaves the handler on a closed stream)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        """The stream is always the current ``sys.stderr``."""


def configure_logging(
    level: str = "warning", form: str = "text", secrets: Iterable[str] = ()
) -> None:
    """Records on stderr at ``level``, as text lines or JSON objects, secrets masked."""
    handler = _Stderr()
    handler.addFilter(_Redact(secrets))
    if form == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "ticketd", False):
            root.removeHandler(old)
    handler.ticketd = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level_of(level))
    quiet = logging.DEBUG if level_of(level) == logging.DEBUG else logging.WARNING
    for chatty in CHATTY:
        logging.getLogger(chatty).setLevel(quiet)
