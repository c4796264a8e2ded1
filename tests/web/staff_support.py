"""The workspace for tests: the real app wired to a real store (sign-in, sessions,
tokens, the outbox), with an in-memory ``StaffReader`` and ``Searcher`` and a clock the
test moves."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from starlette.testclient import TestClient

from tests.e2e.support import Workspace, text_of, write_config
from tests.fixtures.smtp_sink import SmtpSink
from ticketd.daemon.config import load_config
from ticketd.daemon.delivery import flush_outbox
from ticketd.daemon.web_server import build_web_app
from ticketd.daemon.wiring import Components, build
from ticketd.routing.model import Priority, Status
from ticketd.routing.views import AttachmentFile
from ticketd.routing.workspace import (
    QueuePage,
    QueueQuery,
    QueueRow,
    SearchHit,
    StaffTicket,
    StaffUser,
    Tab,
)
from ticketd.web.staff.ports import ReportReader

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
LINK = re.compile(r"https?://\S+/staff/login/([a-z2-7]+)")


class MovingClock:
    """The store's clock, moved by the test."""

    def __init__(self) -> None:
        self.at = START

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


def row(tracking: str = "SUP-0000-0001", **overrides: object) -> QueueRow:
    values: dict[str, object] = {
        "tracking": tracking,
        "subject": "로그인이 안 됩니다",
        "status": Status.OPEN,
        "priority": Priority.NORMAL,
        "type": "bug",
        "requester": "kim@customer.kr",
        "requester_name": "김고객",
        "owner": "alice@example.com",
        "created_at": START,
        "updated_at": START,
    }
    values.update(overrides)
    return QueueRow(**values)  # type: ignore[arg-type]


@dataclass
class MemoryWorkspace:
    """``StaffReader`` and ``Searcher`` over a list of rows; remembers what was asked."""

    rows: list[QueueRow] = field(default_factory=list)
    queries: list[tuple[StaffUser, QueueQuery]] = field(default_factory=list)
    searched: list[str] = field(default_factory=list)

    def queue(self, viewer: StaffUser, query: QueueQuery, now: datetime) -> QueuePage:
        self.queries.append((viewer, query))
        start = int(query.cursor) if (query.cursor or "").isdigit() else 0
        shown = self.rows[start : start + query.limit]
        more = start + query.limit < len(self.rows)
        counts = {tab: len(self.rows) if tab == query.tab else 0 for tab in Tab}
        return QueuePage(tuple(shown), str(start + query.limit) if more else None, counts)

    def ticket(self, tracking: str, now: datetime) -> StaffTicket | None:
        return None

    def attachment(self, tracking: str, attachment_id: int) -> AttachmentFile | None:
        return None

    def search(
        self, query: str, cursor: str | None, limit: int, now: datetime
    ) -> tuple[tuple[SearchHit, ...], str | None]:
        self.searched.append(query)
        hits = [SearchHit(r, f"…{r.subject}…", "subject") for r in self.rows if query in r.subject]
        return tuple(hits[:limit]), None


@dataclass
class Desk:
    """A configured ticketd, its web app and what the test controls."""

    ws: Workspace
    components: Components
    clock: MovingClock
    memory: MemoryWorkspace
    client: TestClient
    sink: SmtpSink | None = None

    def sent(self) -> list[EmailMessage]:
        """Every mail sent so far: the SMTP sink's, else the Maildir's (flush first)."""
        return self.sink.messages() if self.sink is not None else self.ws.sent_mail()

    def flush(self) -> None:
        transport = self.components.transport()
        try:
            flush_outbox(
                self.components.store,
                transport,
                self.components.clock,
                claimer="test",
                ignore_schedule=True,
            )
        finally:
            transport.close()

    def links(self, to: str) -> list[str]:
        """The sign-in tokens mailed to ``to`` so far (after flushing the outbox)."""
        self.flush()
        found = []
        for mail in self.sent():
            if to in str(mail["To"]) and "/staff/login/" in text_of(mail):
                found.extend(LINK.findall(text_of(mail)))
        return found

    def form_token(self, path: str = "/staff/login") -> str:
        page = self.client.get(path)
        match = re.search(r'name="form_token" value="([^"]+)"', page.text)
        assert match, page.text
        return match.group(1)

    def ask_link(self, email: str, next_path: str = "") -> int:
        data = {"email": email, "form_token": self.form_token(), "next": next_path}
        return self.client.post("/staff/login", data=data).status_code

    def sign_in(self, email: str = "alice@example.com") -> str:
        """Sign in through the mailed link; returns the session's CSRF token."""
        before = set(self.links(email))
        assert self.ask_link(email) == 200
        [token] = set(self.links(email)) - before
        answer = self.client.get(f"/staff/login/{token}")
        assert answer.status_code == 303, answer.text
        return self.csrf()

    def csrf(self) -> str:
        page = self.client.get("/staff/")
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert match, page.text
        return match.group(1)


@contextlib.contextmanager
def desk(
    root: Path,
    *,
    extra: str = "",
    base_url: str = "http://127.0.0.1:8080",
    stored: bool = False,
    sink: SmtpSink | None = None,
    reports: ReportReader | None = None,
) -> Iterator[Desk]:
    """A ticketd in ``root`` (the lane's database, Maildir outbound) and a client of its
    web app; ``base_url`` replaces the config's; ``stored``: the workspace reads the
    database (else an in-memory list of rows); ``sink``: mail goes to this SMTP sink instead of
    the Maildir; ``reports``: the dashboard's figures."""
    ws = write_config(root, extra=extra)
    text = ws.config.read_text(encoding="utf-8").replace("http://127.0.0.1:8080", base_url)
    if sink is not None:
        text = text.replace(
            'transport = "maildir"\nmaildir = "var/outbox"',
            f'transport = "smtp"\nhost = "127.0.0.1"\nport = {sink.port}\nsecurity = "none"',
        )
    ws.config.write_text(text, encoding="utf-8")
    components = build(load_config(ws.config))
    clock = MovingClock()
    components.store.now = clock.now
    memory = MemoryWorkspace([row()])
    app = build_web_app(components, workspace=None if stored else (memory, memory), reports=reports)
    scheme = base_url.partition(":")[0]
    try:
        with TestClient(app, base_url=f"{scheme}://testserver", follow_redirects=False) as client:
            yield Desk(ws, components, clock, memory, client, sink)
    finally:
        components.close()
