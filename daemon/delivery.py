"""Flushing the outbox through a transport: retry on temporary failure, give up on 5xx."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from ticketd.mail.transport import Transport
from ticketd.routing.ports import Clock
from ticketd.store import outbox
from ticketd.store.apply import SYSTEM_ACTOR
from ticketd.store.schema import events

log = logging.getLogger(__name__)


@dataclass
class FlushReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def flush_outbox(
    engine: Engine,
    transport: Transport,
    clock: Clock,
    *,
    stop: Callable[[], bool] = lambda: False,
) -> FlushReport:
    """Send every due mail. Each mail is marked right after its transport call returns, so a
    crash in between can resend at most that one mail, with the same Message-ID."""
    report = FlushReport()
    while not stop():
        with engine.begin() as connection:
            batch = outbox.due(connection, clock.now())
        if not batch:
            return report
        for item in batch:
            if stop():
                return report
            try:
                result = transport.send(item.mail)
            except OSError as exc:
                result = None
                error = f"{type(exc).__name__}: {exc}"
            with engine.begin() as connection:
                if result is not None and result.ok:
                    outbox.mark_sent(connection, item.id, clock.now())
                    report.sent += 1
                elif result is not None and result.failed_permanently and not result.retry:
                    error = "; ".join(f"{r}: {e}" for r, e in result.permanent.items())
                    outbox.mark_failed(connection, item.id, error)
                    if item.ticket_id is not None:
                        connection.execute(
                            events.insert().values(
                                ticket_id=item.ticket_id,
                                type="delivery_failed",
                                at=clock.now(),
                                actor=SYSTEM_ACTOR,
                                public=False,
                                summary=error[:2000],
                            )
                        )
                    report.failed += 1
                else:
                    if result is not None:
                        error = "; ".join(f"{r}: {e}" for r, e in result.temporary.items())
                    outbox.mark_retry(connection, item, error, clock.now())
                    log.warning("outbox mail %s deferred: %s", item.mail.message_id, error)
                    report.retried += 1
    return report
