"""Tools of the chaos test: an IMAP proxy that stops a fetch half-way on demand, and the
checks that must hold after every fault."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Engine, func, select

from tests.fixtures.smtp_sink import SmtpSink
from ticketd.store.schema import events, inbound, messages, outbox, tickets

FETCH_BODY = b"BODY.PEEK[]"


class FetchStall:
    """A TCP proxy in front of the IMAP server. ``stall()`` arms it: the next fetch of
    message bodies through it gets the first chunk of its answer, and no more until
    ``release()`` (the rest follows) or ``cut()`` (every connection through it is closed);
    ``stalled`` is set while it holds one."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.armed = False
        self.stalled = threading.Event()
        self.released = threading.Event()
        self.lock = threading.Lock()
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def stall(self) -> None:
        with self.lock:
            self.armed = True
            self.stalled.clear()
            self.released.clear()

    def release(self) -> None:
        self.released.set()

    def cut(self) -> None:
        with self.lock:
            doomed, self.sockets = self.sockets, []
        for sock in doomed:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.released.set()

    def close(self) -> None:
        self.listener.close()
        self.cut()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self.lock:
                self.sockets += [client, server]
            held = threading.Event()
            for pump in (self._requests, self._answers):
                threading.Thread(target=pump, args=(client, server, held), daemon=True).start()

    def _requests(
        self, client: socket.socket, server: socket.socket, held: threading.Event
    ) -> None:
        """Client to server; an armed proxy notes a fetch of bodies on this connection."""

        def forward(data: bytes) -> None:
            with self.lock:
                if self.armed and FETCH_BODY in data:
                    self.armed = False
                    held.set()
            server.sendall(data)

        _pump(client, server, forward)

    def _answers(self, client: socket.socket, server: socket.socket, held: threading.Event) -> None:
        """Server to client; the answer to a noted fetch stops half-way through a chunk."""

        def forward(data: bytes) -> None:
            if held.is_set():
                held.clear()
                half = len(data) // 2
                client.sendall(data[:half])
                self.stalled.set()
                self.released.wait()
                self.stalled.clear()
                data = data[half:]
            client.sendall(data)

        _pump(server, client, forward)


def _pump(source: socket.socket, target: socket.socket, forward: Callable[[bytes], None]) -> None:
    """Hand what ``source`` sends to ``forward`` until either side closes, then close both
    (here, not only in ``cut``: a connection that ends on its own is closed too)."""
    try:
        while data := source.recv(65536):
            forward(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def until(
    condition: Callable[[], object], seconds: float = 120, what: str = "", every: float = 0.3
) -> None:
    """Poll ``condition`` every ``every`` seconds until it holds; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(every)


@dataclass
class Timeline:
    """When each fault struck, printed with the outcome (``pytest -s`` shows it)."""

    started: float = field(default_factory=time.monotonic)
    faults: list[str] = field(default_factory=list)

    def mark(self, fault: str) -> None:
        self.faults.append(f"{time.monotonic() - self.started:5.1f} s  {fault}")

    def report(self, desk: str, acks: Acks) -> None:
        print(f"\nchaos on {desk}:", *self.faults, sep="\n  ")
        print(f"  {time.monotonic() - self.started:5.1f} s  done: {acks.duplicates} duplicate(s)")


@dataclass
class Acks:
    """The acknowledgements the relay received, by requester and Message-ID."""

    copies: dict[str, Counter[str]] = field(default_factory=dict)

    @classmethod
    def at(cls, sink: SmtpSink, requesters: Iterable[str]) -> Acks:
        wanted = set(requesters)
        acks = cls({address: Counter() for address in wanted})
        for received in list(sink.received):
            for rcpt in set(received.rcpt_tos) & wanted:
                acks.copies[rcpt][str(received.message["Message-ID"])] += 1
        return acks

    @property
    def unacknowledged(self) -> list[str]:
        return sorted(r for r, ids in self.copies.items() if not ids)

    @property
    def duplicates(self) -> int:
        """Copies beyond the first of each mail."""
        return sum(n - 1 for ids in self.copies.values() for n in ids.values())

    @property
    def acknowledged_twice_under_two_ids(self) -> list[str]:
        return sorted(r for r, ids in self.copies.items() if len(ids) > 1)


def progress(engine: Engine) -> tuple[int, int]:
    """How many tickets there are and how many outbox mails wait (cheap: polled)."""
    waiting = select(func.count()).where(outbox.c.state != "sent").scalar_subquery()
    query = select(select(func.count()).select_from(tickets).scalar_subquery(), waiting)
    with engine.connect() as connection:
        found, unsent = connection.execute(query).one()
    return int(found), int(unsent)


def stored(engine: Engine) -> dict[str, int]:
    """What the database holds: tickets, inbound messages, those not done, those without
    their ticket's message or an event, and outbox mail not sent."""
    on_a_ticket = select(messages.c.inbound_id).where(messages.c.inbound_id.is_not(None))
    with_an_event = select(events.c.ticket_id)
    orphans = (inbound.c.ticket_id.is_(None)) | (
        inbound.c.id.not_in(on_a_ticket) & inbound.c.ticket_id.not_in(with_an_event)
    )
    with engine.connect() as connection:

        def count(*where: ColumnElement[bool]) -> int:
            query = select(func.count()).select_from(inbound).where(*where)
            return int(connection.execute(query).scalar_one())

        found, unsent = progress(engine)
        return {
            "tickets": found,
            "inbound": count(),
            "not done": count(inbound.c.state != "done"),
            "orphans": count(orphans),
            "unsent": unsent,
        }


def assert_survived(engine: Engine, sink: SmtpSink, requesters: list[str], kills: int) -> Acks:
    """Every claim became one ticket and every requester got an acknowledgement; at most
    one extra copy per kill, and the copies of a mail all carry its Message-ID."""
    facts = stored(engine)
    assert facts == {
        "tickets": len(requesters),
        "inbound": len(requesters),
        "not done": 0,
        "orphans": 0,
        "unsent": 0,
    }
    acks = Acks.at(sink, requesters)
    assert acks.unacknowledged == []
    assert acks.acknowledged_twice_under_two_ids == []
    assert acks.duplicates <= kills
    return acks
