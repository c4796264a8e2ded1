"""The managers' digest job: the core says whether one is due (``routing.digest``), the
store gives its figures, and the writer records the period with one mail per recipient in
one transaction, so a period is sent once, across restarts and between two daemons (the
``digests`` key and the poller's fence)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ticketd.notifications.digest import digest_mail
from ticketd.notifications.notices import NoticeFactory
from ticketd.routing.digest import DigestSettings, build_digest, due_period
from ticketd.routing.model import EngineerInfo
from ticketd.routing.ports import Clock
from ticketd.store.db import Store
from ticketd.store.digests import SqlDigestFacts

log = logging.getLogger(__name__)


def send_digest(
    store: Store,
    notices: NoticeFactory,
    settings: DigestSettings,
    engineers: Sequence[EngineerInfo],
    clock: Clock,
) -> int:
    """Queue the digest if one is due now; the number of mails queued."""
    now = clock.now()
    facts = SqlDigestFacts(store.engine, settings.timezone)
    period = due_period(now, settings, facts.last_day())
    if period is None:
        return 0
    digest = build_digest(period, facts.facts(period, now), engineers, now)
    mails = [
        digest_mail(notices, digest, recipient, settings.language, settings.timezone)
        for recipient in settings.recipients
    ]
    with store.write(poller=True) as writer:
        if not writer.record_digest(period, mails):
            return 0
    log.info("digest for %s to %s queued for %d", period.start, period.end, len(mails))
    return len(mails)
