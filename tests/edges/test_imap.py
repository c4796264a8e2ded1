"""The mailbox watcher against a real Dovecot."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import pytest
from imapclient import IMAPClient

from tests.builders import claim
from tests.fixtures.dovecot import DovecotServer
from ticketd.mail.imap import (
    Checkpoint,
    FetchedBatch,
    ImapSettings,
    MailboxWatcher,
    PermanentImapError,
    TransientImapError,
    reconnect_delays,
    watch,
)

pytestmark = pytest.mark.dovecot


def settings(server: DovecotServer, **overrides: Any) -> ImapSettings:
    values: dict[str, Any] = {
        "host": server.host,
        "port": server.port,
        "security": "none",
        "username": server.user,
        "password": server.password,
        "poll_interval": 0.5,
        "timeout": 5,
    }
    values.update(overrides)
    return ImapSettings(**values)


def counting(commands: list[str]):  # type: ignore[no-untyped-def]
    def factory(*args: Any, **kwargs: Any) -> IMAPClient:
        client = IMAPClient(*args, **kwargs)
        original = client._imap._command

        def counted(name: str, *rest: Any) -> Any:
            commands.append(name)
            return original(name, *rest)

        client._imap._command = counted
        return client

    return factory


def test_first_poll_fetches_everything_in_batches_exactly(dovecot: DovecotServer) -> None:
    sent = [claim(subject=f"claim {i}", body="x" * (i * 1000)) for i in range(5)]
    dovecot.deliver_many(sent)
    watcher = MailboxWatcher(settings(dovecot), batch_size=2)
    batches = list(watcher.poll(None))
    watcher.close()
    assert [len(b.messages) for b in batches] == [2, 2, 1]
    got = [m.data for b in batches for m in b.messages]
    assert [g.replace(b"\r\n", b"\n") for g in got] == [s.replace(b"\r\n", b"\n") for s in sent]
    assert batches[-1].checkpoint.last_uid == 5


def test_resume_fetches_only_new_mail_and_idle_cycle_is_constant(dovecot: DovecotServer) -> None:
    dovecot.deliver_many(claim(subject=f"old {i}") for i in range(50))
    commands: list[str] = []
    watcher = MailboxWatcher(settings(dovecot), client_factory=counting(commands))
    [batch] = list(watcher.poll(None))
    checkpoint = batch.checkpoint
    commands.clear()
    assert list(watcher.poll(checkpoint)) == []
    idle_cost = len(commands)
    dovecot.deliver_many(claim(subject=f"more {i}") for i in range(200))
    commands.clear()
    batches = list(watcher.poll(Checkpoint(checkpoint.uidvalidity, 250)))
    assert batches == [] and len(commands) == idle_cost == 1
    new = [m for b in watcher.poll(checkpoint) for m in b.messages]
    watcher.close()
    assert len(new) == 200 and new[0].uid == checkpoint.last_uid + 1


def test_start_now_skips_history(dovecot: DovecotServer) -> None:
    dovecot.deliver_many(claim() for _ in range(3))
    watcher = MailboxWatcher(settings(dovecot))
    [batch] = list(watcher.poll(None, start_now=True))
    watcher.close()
    assert batch.messages == () and batch.checkpoint.last_uid == 3


def test_changed_uidvalidity_rescans(dovecot: DovecotServer) -> None:
    dovecot.deliver_many(claim() for _ in range(3))
    watcher = MailboxWatcher(settings(dovecot))
    rescanned = [m for b in watcher.poll(Checkpoint(12345, 3)) for m in b.messages]
    watcher.close()
    assert len(rescanned) == 3


def test_changed_uidvalidity_with_start_now_resumes_from_the_mailbox_end(
    dovecot: DovecotServer,
) -> None:
    dovecot.deliver_many(claim() for _ in range(3))
    watcher = MailboxWatcher(settings(dovecot))
    [batch] = list(watcher.poll(Checkpoint(12345, 1), start_now=True))
    watcher.close()
    assert batch.messages == () and batch.checkpoint.last_uid == 3
    assert batch.checkpoint.uidvalidity != 12345


def test_mail_stays_unseen(dovecot: DovecotServer) -> None:
    dovecot.deliver(claim())
    watcher = MailboxWatcher(settings(dovecot))
    list(watcher.poll(None))
    watcher.close()
    with IMAPClient(dovecot.host, port=dovecot.port, ssl=False) as client:
        client.login(dovecot.user, dovecot.password)
        client.select_folder("INBOX", readonly=True)
        assert client.search(["UNSEEN"]) == [1]


def test_idle_wakes_up_on_new_mail_and_stops_promptly(dovecot: DovecotServer) -> None:
    watcher = MailboxWatcher(settings(dovecot, poll_interval=60))
    checkpoint = next(iter(watcher.poll(None, start_now=True))).checkpoint
    assert watcher.state.idle_supported
    threading.Timer(0.5, lambda: dovecot.deliver(claim())).start()
    started = time.monotonic()
    assert watcher.wait(threading.Event()) is False
    assert time.monotonic() - started < 10
    assert len([m for b in watcher.poll(checkpoint) for m in b.messages]) == 1
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    assert watcher.wait(stop) is True
    assert time.monotonic() - started < 3
    watcher.close()


def test_wrong_password_is_permanent(dovecot: DovecotServer) -> None:
    watcher = MailboxWatcher(settings(dovecot, password="wrong"))
    with pytest.raises(PermanentImapError):
        list(watcher.poll(None))


def test_server_gone_is_transient(dovecot: DovecotServer) -> None:
    watcher = MailboxWatcher(settings(dovecot))
    list(watcher.poll(None))
    watcher.close()
    dovecot.stop()
    with pytest.raises(TransientImapError):
        list(watcher.poll(None))
    with pytest.raises(TransientImapError):
        list(watcher.poll(None))


def test_reconnect_delays_grow_with_full_jitter() -> None:
    delays = reconnect_delays(base=1, cap=60, rng=random.Random(7))
    first = [next(delays) for _ in range(10)]
    assert all(0 <= d <= min(60, 2**i) for i, d in enumerate(first))
    assert len(set(first)) == 10
    capped = [next(delays) for _ in range(50)]
    assert max(capped) <= 60 and sum(capped) / len(capped) > 15


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_verifies_the_certificate(dovecot_tls: DovecotServer, security: str) -> None:
    import ssl

    dovecot_tls.deliver(claim())
    port = dovecot_tls.tls_port if security == "ssl" else dovecot_tls.port
    trusted = ssl.create_default_context(cafile=str(dovecot_tls.base_dir / "cert.pem"))
    watcher = MailboxWatcher(settings(dovecot_tls, security=security, port=port,
                                      ssl_context=trusted))  # fmt: skip
    assert len([m for b in watcher.poll(None) for m in b.messages]) == 1
    watcher.close()
    untrusted = MailboxWatcher(settings(dovecot_tls, security=security, port=port))
    with pytest.raises(TransientImapError, match="certificate verify failed"):
        list(untrusted.poll(None))


def test_batches_are_also_bounded_in_bytes(dovecot: DovecotServer) -> None:
    dovecot.deliver_many([claim(body="x" * 60_000), claim(body="y" * 60_000), claim(), claim()])
    watcher = MailboxWatcher(settings(dovecot), batch_size=10, max_batch_bytes=100_000)
    batches = list(watcher.poll(None))
    watcher.close()
    assert [len(b.messages) for b in batches] == [1, 3]
    assert [b.checkpoint.last_uid for b in batches] == [1, 4]


def test_idle_notices_at_once_a_server_that_goes_away(dovecot: DovecotServer) -> None:
    watcher = MailboxWatcher(settings(dovecot, poll_interval=60))
    list(watcher.poll(None))
    outcome: list[BaseException | bool] = []

    def wait() -> None:
        try:
            outcome.append(watcher.wait(threading.Event()))
        except TransientImapError as exc:
            outcome.append(exc)

    waiting = threading.Thread(target=wait, daemon=True)
    waiting.start()
    time.sleep(0.5)
    dovecot.stop_process()
    waiting.join(timeout=10)
    assert [type(o) for o in outcome] == [TransientImapError]
    assert not watcher.state.connected and watcher.state.last_error


def test_mail_that_arrives_while_a_poll_fetches_does_not_wait_for_the_next_mail(
    dovecot: DovecotServer,
) -> None:
    """Dovecot announces mail that arrives during a poll in the answers to that poll's FETCH,
    which the watcher does not read, and IDLE announces only what is still unannounced: so
    after a poll that fetched, the watcher looks again before it waits."""
    dovecot.deliver_many([claim(subject="first"), claim(subject="second")])
    watcher = MailboxWatcher(settings(dovecot, poll_interval=60), batch_size=1)
    handled: list[int] = []
    position: list[Checkpoint | None] = [None]
    stop = threading.Event()

    def handle(batch: FetchedBatch) -> None:
        handled.extend(m.uid for m in batch.messages)
        position[0] = batch.checkpoint
        if handled == [1]:  # the second message is still to be fetched
            dovecot.append("INBOX", claim(subject="third"))
        if 3 in handled:
            stop.set()

    thread = threading.Thread(
        target=watch, args=(watcher, lambda: position[0], handle, stop), kwargs={"start_now": False}
    )
    thread.start()
    thread.join(15)
    stop.set()
    thread.join(5)
    watcher.close()
    assert handled == [1, 2, 3]
