"""/livez, /readyz and /metrics for orchestrators, against a real database."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine
from starlette.testclient import TestClient

from ticketd.daemon.telemetry import Telemetry
from ticketd.daemon.web_server import ServiceHealth, ServiceState
from ticketd.mail.imap import WatcherState
from ticketd.store.db import make_engine
from ticketd.web.app import create_app
from ticketd.web.ports import WebSettings

from .test_app import SECRET, Clock, FakeAttachments, FakeMailer, FakeReader

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana-ticketd.json"
SETTINGS = WebSettings(
    service_name="Example Support",
    language="en",
    timezone="Asia/Seoul",
    secret_key=SECRET,
    tracking_prefix="SUP",
    base_url="http://testserver",
)


def client(probe: ServiceHealth) -> TestClient:
    app = create_app(
        SETTINGS,
        FakeReader(),
        attachments=FakeAttachments(),
        mailer=FakeMailer(),
        health=probe,
        metrics=probe,
        clock=Clock(),
    )
    return TestClient(app)


def poller(connected: bool) -> ServiceState:
    return ServiceState(watcher=lambda: WatcherState(connected=connected))


def test_live_and_ready_with_the_database_and_the_mailbox_up(lane_engine: Engine) -> None:
    c = client(ServiceHealth(lane_engine, poller(True), mailbox=True))
    assert c.get("/livez").status_code == 200
    ready = c.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_not_ready_while_the_database_is_down(tmp_path: Path) -> None:
    gone = make_engine(f"sqlite:///{tmp_path}/missing/dir/ticketd.db", read_only=True)
    c = client(ServiceHealth(gone, poller(True), mailbox=True))
    assert c.get("/livez").status_code == 200
    ready = c.get("/readyz")
    assert ready.status_code == 503 and ready.json()["reasons"][0].startswith("database")


def test_the_poller_is_not_ready_while_its_mailbox_is_disconnected(lane_engine: Engine) -> None:
    c = client(ServiceHealth(lane_engine, poller(False), mailbox=True))
    ready = c.get("/readyz")
    assert ready.status_code == 503 and ready.json()["reasons"] == ["mailbox not connected"]
    standby = ServiceState(watcher=lambda: None, role=lambda: "standby")
    assert client(ServiceHealth(lane_engine, standby, mailbox=True)).get("/readyz").is_success


def test_metrics_follow_prometheus_conventions(lane_engine: Engine) -> None:
    c = client(ServiceHealth(lane_engine, poller(True), mailbox=True))
    c.get("/t/SUP-0000-0000")
    families = {f.name: f for f in text_string_to_metric_families(c.get("/metrics").text)}
    for family in families.values():
        if family.type == "counter":
            assert all(s.name.endswith(("_total", "_created")) for s in family.samples)
        assert family.type != "gauge" or not family.name.endswith("_total"), family.name
    assert families["ticketd_tickets_created"].type == "counter"
    assert families["ticketd_outbox_backlog"].type == "gauge"
    duration = families["ticketd_http_request_duration_seconds"]
    assert duration.type == "histogram"
    routes = {s.labels.get("route") for s in duration.samples}
    assert "/t/{tracking}" in routes and not any("SUP-" in str(r) for r in routes)


def test_the_grafana_dashboard_uses_only_metrics_that_exist(lane_engine: Engine) -> None:
    polled = WatcherState(connected=True, last_poll_seconds=0.2)
    probe = ServiceHealth(lane_engine, ServiceState(watcher=lambda: polled), mailbox=True)
    app = create_app(
        SETTINGS,
        FakeReader(),
        attachments=FakeAttachments(),
        mailer=FakeMailer(),
        health=probe,
        metrics=probe,
        clock=Clock(),
        collectors=Telemetry().collectors(),
    )
    c = TestClient(app)
    c.get("/livez")
    exposed = {
        sample.name
        for family in text_string_to_metric_families(c.get("/metrics").text)
        for sample in family.samples
    }
    dashboard = json.loads(DASHBOARD.read_text())
    used = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"ticketd_\w+", target["expr"])
    }
    assert used and used <= exposed, used - exposed
