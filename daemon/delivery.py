"""Flushing the outbox through a transport: retry on temporary failure, give up on 5xx."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from ticketd.mail.transport import SendResult, Transport
from ticketd.routing.ports import Clock
from ticketd.store.db import Store

log = logging.getLogger(__name__)


@dataclass
class FlushReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def flush_outbox(
    store: Store,
    transport: Transport,
    clock: Clock,
    *,
    stop: Callable[[], bool] = lambda: False,
) -> FlushReport:
    """Send every due mail. Each mail is marked right after its transport call returns, so a
    crash in between can resend at most that one mail, with the same Message-ID."""
    report = FlushReport()
    while not stop():
        with store.read() as reader:
            batch = reader.due_mail(clock.now())
        if not batch:
            return report
        for item in batch:
            if stop():
                return report
            result: SendResult | None
            try:
                result = transport.send(item.mail)
                error = ""
            except OSError as exc:
                result, error = None, f"{type(exc).__name__}: {exc}"
            with store.write() as writer:
                if result is not None and result.ok:
                    writer.mail_sent(item)
                    report.sent += 1
                elif result is not None and result.failed_permanently and not result.retry:
                    writer.mail_failed(item, _reasons(result.permanent))
                    report.failed += 1
                else:
                    if result is not None:
                        error = _reasons(result.temporary)
                    writer.mail_deferred(item, error)
                    log.warning("outbox mail %s deferred: %s", item.mail.message_id, error)
                    report.retried += 1
    return report


def _reasons(by_recipient: dict[str, str]) -> str:
    return "; ".join(f"{rcpt}: {reason}" for rcpt, reason in by_recipient.items())
