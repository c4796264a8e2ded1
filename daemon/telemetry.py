"""The running daemon's durations as Prometheus histograms (seconds), served on
``/metrics`` beside the stored counts: mail arrival to ticket, outbox age at send, poll."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from prometheus_client import Histogram
from prometheus_client.registry import Collector

LAG_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600)
POLL_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


def _histogram(name: str, documentation: str, buckets: tuple[float, ...]) -> Histogram:
    return Histogram(name, documentation, buckets=buckets, registry=None)


@dataclass
class Telemetry:
    """Histograms of this process (not registered anywhere global: ``collectors()`` go
    to the web app's own registry)."""

    arrival_to_ticket: Histogram = field(
        default_factory=lambda: _histogram(
            "ticketd_mail_arrival_to_ticket_seconds",
            "From a mail's arrival (IMAP INTERNALDATE or SMTP) to its new ticket's commit",
            LAG_BUCKETS,
        )
    )
    outbox_age_at_send: Histogram = field(
        default_factory=lambda: _histogram(
            "ticketd_outbox_age_at_send_seconds",
            "From a mail's queueing in the outbox to the relay's acceptance",
            LAG_BUCKETS,
        )
    )
    poll_duration: Histogram = field(
        default_factory=lambda: _histogram(
            "ticketd_poll_duration_seconds", "Duration of one mailbox poll", POLL_BUCKETS
        )
    )

    def collectors(self) -> tuple[Collector, ...]:
        return (self.arrival_to_ticket, self.outbox_age_at_send, self.poll_duration)


def observe_since(histogram: Histogram, moments: Iterable[datetime], now: datetime) -> None:
    """Observe ``now`` minus each moment (naive moments are UTC), never below zero."""
    for moment in moments:
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        histogram.observe(max(0.0, (now - aware).total_seconds()))
