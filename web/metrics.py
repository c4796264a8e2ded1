"""Prometheus metrics: ticketd's counters from the database, and HTTP requests by route."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ticketd.web.ports import MetricsSource

DESCRIPTIONS = {
    "mails_ingested": "Inbound mails stored",
    "tickets_created": "Tickets opened",
    "duplicates": "Resent claims recorded as duplicates",
    "commands_accepted": "Engineer mails whose commands were applied",
    "commands_rejected": "Engineer mails refused as unauthenticated",
    "outbox_backlog": "Mails waiting in the outbox",
    "outbox_failures": "Mails given up after a permanent failure",
    "quarantined": "Inbound mails held or quarantined",
    "poll_latency_seconds": "Duration of the last mailbox poll",
}


class SourceCollector(Collector):
    """Reads ``MetricsSource`` at scrape time, so every worker reports the same numbers."""

    def __init__(self, source: MetricsSource) -> None:
        self.source = source

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for name, value in sorted(self.source.counters().items()):
            family = GaugeMetricFamily(f"ticketd_{name}", DESCRIPTIONS.get(name, name))
            family.add_metric([], float(value))
            yield family


def build_registry(source: MetricsSource) -> tuple[CollectorRegistry, Counter]:
    """A registry of its own (no global state) and the HTTP request counter."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(SourceCollector(source))
    requests = Counter(
        "ticketd_http_requests",
        "HTTP requests by route template and status",
        ["route", "status"],
        registry=registry,
    )
    return registry, requests
