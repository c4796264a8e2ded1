"""Prometheus metrics by its conventions: ticketd's stored counts as counters (``…_total``)
and gauges, HTTP requests by route template, and durations in seconds as histograms."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ticketd.web.ports import MetricsSource

COUNTERS = {
    "mails_ingested": "Inbound mails stored",
    "tickets_created": "Tickets opened",
    "duplicates": "Resent claims recorded as duplicates",
    "commands_accepted": "Engineer mails whose commands were applied",
    "commands_rejected": "Engineer mails refused as unauthenticated",
    "outbox_failures": "Mails given up after a permanent failure",
}
"""Monotonic counts, exposed as ``ticketd_<name>_total``."""

GAUGES = {
    "outbox_backlog": "Mails waiting in the outbox",
    "quarantined": "Inbound mails held or quarantined",
    "poll_latency_seconds": "Duration of the last mailbox poll",
}

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class SourceCollector(Collector):
    """Reads ``MetricsSource`` at scrape time, so every worker reports the same numbers."""

    def __init__(self, source: MetricsSource) -> None:
        self.source = source

    def describe(self) -> Iterator[Metric]:
        """Nothing known before a scrape: registering never reads the database."""
        return iter(())

    def collect(self) -> Iterator[Metric]:
        for name, value in sorted(self.source.counters().items()):
            family: Metric
            if name in COUNTERS:
                family = CounterMetricFamily(f"ticketd_{name}", COUNTERS[name])
            else:
                family = GaugeMetricFamily(f"ticketd_{name}", GAUGES.get(name, name))
            family.add_metric([], float(value))
            yield family


@dataclass(frozen=True)
class HttpMetrics:
    """Requests by route template and status, and their duration by route template."""

    requests: Counter
    duration: Histogram

    def observe(self, route: str, status: int, seconds: float) -> None:
        self.requests.labels(route=route, status=str(status)).inc()
        self.duration.labels(route=route).observe(seconds)


def build_registry(
    source: MetricsSource, collectors: Sequence[Collector] = ()
) -> tuple[CollectorRegistry, HttpMetrics]:
    """A registry of its own (no global state) with the stored counts, ``collectors`` (the
    running daemon's histograms) and the HTTP metrics."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(SourceCollector(source))
    for collector in collectors:
        registry.register(collector)
    requests = Counter(
        "ticketd_http_requests",
        "HTTP requests by route template and status",
        ["route", "status"],
        registry=registry,
    )
    duration = Histogram(
        "ticketd_http_request_duration_seconds",
        "HTTP request duration by route template",
        ["route"],
        buckets=DURATION_BUCKETS,
        registry=registry,
    )
    return registry, HttpMetrics(requests, duration)
