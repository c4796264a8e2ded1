"""The mailbox watcher (imapclient): read-only, streaming, checkpointed by the caller.

A poll SELECTs the folder read-only and compares UIDNEXT with the checkpoint, so an idle
cycle costs O(1) commands however large the mailbox. New mail is fetched by UID in
batches with ``BODY.PEEK[]``: nothing is ever marked, moved, deleted or expunged.
"""

from __future__ import annotations

import logging
import random
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError

from ticketd.mail.oauth2 import OAuth2Error, OAuth2GrantError, TokenSource

log = logging.getLogger(__name__)

IDLE_RENEW_SECONDS = 25 * 60
IDLE_SLICE_SECONDS = 1.0
IDLE_EOF_SLICES = 3


class TransientImapError(Exception):
    """The connection failed in a way that retrying later may fix."""


class PermanentImapError(Exception):
    """Login refused or folder missing: retrying will not help until the config changes."""


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    security: str
    username: str
    password: str = field(repr=False)
    folder: str = "INBOX"
    poll_interval: float = 30.0
    idle: bool = True
    ssl_context: ssl.SSLContext | None = None
    timeout: float = 30.0
    oauth2: TokenSource | None = field(default=None, compare=False)


class Checkpoint(NamedTuple):
    """How far a mailbox has been processed."""

    uidvalidity: int
    last_uid: int


@dataclass(frozen=True)
class FetchedMessage:
    uid: int
    data: bytes
    internaldate: datetime | None


@dataclass(frozen=True)
class FetchedBatch:
    uidvalidity: int
    messages: tuple[FetchedMessage, ...]
    last_uid: int

    @property
    def checkpoint(self) -> Checkpoint:
        """The position to record once this batch is committed."""
        return Checkpoint(self.uidvalidity, self.last_uid)


@dataclass
class WatcherState:
    connected: bool = False
    idle_supported: bool = False
    last_poll_at: datetime | None = None
    last_poll_seconds: float | None = None
    last_error: str | None = None


class MailboxWatcher:
    """Fetches new mail from one folder; ``poll`` yields batches, ``wait`` blocks for more."""

    def __init__(
        self,
        settings: ImapSettings,
        *,
        batch_size: int = 250,
        max_batch_bytes: int = 8 * 1024 * 1024,
        client_factory: Callable[..., IMAPClient] | None = None,
        on_poll: Callable[[float], None] = lambda seconds: None,
    ) -> None:
        self.settings = settings
        self.on_poll = on_poll
        self.batch_size = batch_size
        self.max_batch_bytes = max_batch_bytes
        self.client_factory = client_factory or IMAPClient
        self.state = WatcherState()
        self._client: IMAPClient | None = None

    def _connect(self) -> IMAPClient:
        if self._client is not None:
            return self._client
        s = self.settings
        context = s.ssl_context or ssl.create_default_context()
        client: IMAPClient | None = None
        try:
            client = self.client_factory(
                s.host,
                port=s.port,
                ssl=s.security == "ssl",
                ssl_context=context if s.security == "ssl" else None,
                timeout=s.timeout,
            )
            if s.security == "starttls":
                client.starttls(context)
            _login(client, s)
        except LoginError as exc:
            _discard(client)
            raise PermanentImapError(f"login refused for {s.username}") from exc
        except OAuth2GrantError as exc:
            _discard(client)
            raise PermanentImapError(str(exc)) from None
        except OAuth2Error as exc:
            _discard(client)
            raise TransientImapError(str(exc)) from None
        except (OSError, IMAPClientError) as exc:
            _discard(client)
            raise TransientImapError(f"cannot connect to {s.host}:{s.port}: {exc}") from exc
        self._client = client
        self.state.connected = True
        self.state.idle_supported = client.has_capability("IDLE")
        return client

    def _select(self, client: IMAPClient) -> tuple[int, int]:
        try:
            info = client.select_folder(self.settings.folder, readonly=True)
        except IMAPClientError as exc:
            text = str(exc).lower()
            if "nonexistent" in text or "doesn't exist" in text or "does not exist" in text:
                raise PermanentImapError(f"no folder {self.settings.folder}") from exc
            raise
        uidvalidity = int(info[b"UIDVALIDITY"])
        uidnext = int(info.get(b"UIDNEXT", 0))
        return uidvalidity, uidnext

    def poll(
        self, checkpoint: Checkpoint | None, *, start_now: bool = False
    ) -> Iterator[FetchedBatch]:
        """Yield new mail after ``checkpoint`` in committed-size batches, in UID order."""
        started = time.monotonic()
        try:
            yield from self._poll(checkpoint, start_now)
        except (TimeoutError, OSError, IMAPClientAbortError) as exc:
            self._drop(str(exc))
            raise TransientImapError(f"connection lost: {exc}") from exc
        except IMAPClientError as exc:
            self._drop(str(exc))
            raise TransientImapError(f"server error: {exc}") from exc
        self.state.last_poll_at = datetime.now(UTC)
        self.state.last_poll_seconds = time.monotonic() - started
        self.state.last_error = None
        self.on_poll(self.state.last_poll_seconds)

    def _poll(self, checkpoint: Checkpoint | None, start_now: bool) -> Iterator[FetchedBatch]:
        """From the checkpoint on. Without one, or after the folder's UIDVALIDITY changed
        (its UIDs renumbered): from the mailbox's end with ``start_now``, else from the
        first message (the caller skips what it stored before)."""
        client = self._connect()
        uidvalidity, uidnext = self._select(client)
        renumbered = checkpoint is not None and checkpoint.uidvalidity != uidvalidity
        if renumbered:
            where = "its end" if start_now else "the first message (skipping what is stored)"
            log.warning("UIDVALIDITY of %s changed: reading from %s", self.settings.folder, where)
        if start_now and (checkpoint is None or renumbered):
            yield FetchedBatch(uidvalidity, (), max(uidnext - 1, 0))
            return
        last = checkpoint.last_uid if checkpoint is not None and not renumbered else 0
        if uidnext and uidnext - 1 <= last:
            return
        uids = sorted(uid for uid in client.search(["UID", f"{last + 1}:*"]) if uid > last)
        for start in range(0, len(uids), self.batch_size):
            window = uids[start : start + self.batch_size]
            sizes = client.fetch(window, ["RFC822.SIZE"])
            for chunk in _by_size(window, sizes, self.max_batch_bytes):
                yield self._fetch(client, uidvalidity, chunk)

    def _fetch(self, client: IMAPClient, uidvalidity: int, chunk: list[int]) -> FetchedBatch:
        fetched = client.fetch(chunk, ["BODY.PEEK[]", "INTERNALDATE"])
        messages = tuple(
            FetchedMessage(uid, _body(fetched[uid]), _internaldate(fetched[uid]))
            for uid in chunk
            if uid in fetched
        )
        return FetchedBatch(uidvalidity, messages, chunk[-1])

    def wait(self, stop: threading.Event) -> bool:
        """Block until new mail may be there or ``stop`` is set; True when stopped."""
        client = self._client
        if client is None or not self.settings.idle or not self.state.idle_supported:
            return stop.wait(self.settings.poll_interval)
        try:
            client.idle()
            started = time.monotonic()
            try:
                while not stop.is_set() and time.monotonic() - started < IDLE_RENEW_SECONDS:
                    if any(_announces_mail(r) for r in _idle_responses(client)):
                        break
            finally:
                client.idle_done()
        except (OSError, IMAPClientError) as exc:
            self._drop(str(exc))
            raise TransientImapError(f"IDLE failed: {exc}") from exc
        return stop.is_set()

    def _drop(self, error: str) -> None:
        self.state.last_error = error
        self.close()

    def close(self) -> None:
        """Log out (best effort) and forget the connection."""
        client, self._client = self._client, None
        self.state.connected = False
        if client is None:
            return
        try:
            client.logout()
        except Exception:
            _discard(client)


def _login(client: IMAPClient, s: ImapSettings) -> None:
    """LOGIN with the password, or AUTHENTICATE with an OAuth2 access token; a refused
    token is dropped and a fresh one tried once (it may have been revoked early)."""
    if s.oauth2 is None:
        client.login(s.username, s.password)
        return
    token = s.oauth2.token()
    try:
        _authenticate(client, s.username, token, s.oauth2.mechanism)
    except LoginError:
        s.oauth2.invalidate(token)
        log.info("IMAP refused the OAuth2 access token for %s; refreshing it", s.username)
        _authenticate(client, s.username, s.oauth2.token(), s.oauth2.mechanism)


def _authenticate(client: IMAPClient, user: str, token: str, mechanism: str) -> None:
    if mechanism == "oauthbearer":
        client.oauthbearer_login(user, token)
    else:
        client.oauth2_login(user, token)


def _idle_responses(client: IMAPClient) -> list[Any]:
    """What the server said within one IDLE slice. imapclient hides an end of file (the
    server went away) as an empty answer at once, slice after slice: a few of those in a
    row raise ``ConnectionResetError`` instead of spinning until the IDLE renewal."""
    for _ in range(IDLE_EOF_SLICES):
        sliced = time.monotonic()
        responses: list[Any] = client.idle_check(timeout=IDLE_SLICE_SECONDS)
        if responses or time.monotonic() - sliced >= IDLE_SLICE_SECONDS / 2:
            return responses
    raise ConnectionResetError("the server closed the connection during IDLE")


def _discard(client: IMAPClient | None) -> None:
    """Close a connection that is broken or refused, without raising."""
    if client is None:
        return
    try:
        client.shutdown()
    except Exception:
        log.debug("IMAP connection already gone")


def _by_size(
    uids: list[int], sizes: dict[int, dict[bytes, Any]], limit: int
) -> Iterator[list[int]]:
    """Split ``uids`` into runs of at most ``limit`` bytes (a larger message goes alone)."""
    chunk: list[int] = []
    total = 0
    for uid in uids:
        size = int(sizes.get(uid, {}).get(b"RFC822.SIZE", 0))
        if chunk and total + size > limit:
            yield chunk
            chunk, total = [], 0
        chunk.append(uid)
        total += size
    if chunk:
        yield chunk


def _announces_mail(response: Any) -> bool:
    return (
        isinstance(response, tuple)
        and len(response) > 1
        and response[1]
        in (
            b"EXISTS",
            b"RECENT",
        )
    )


def _body(item: dict[bytes, Any]) -> bytes:
    body = item.get(b"BODY[]", b"")
    return body if isinstance(body, bytes) else bytes(body or b"")


def _internaldate(item: dict[bytes, Any]) -> datetime | None:
    value = item.get(b"INTERNALDATE")
    if not isinstance(value, datetime):
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def reconnect_delays(
    base: float = 1.0, cap: float = 300.0, rng: random.Random | None = None
) -> Iterator[float]:
    """Exponential backoff with full jitter: random in [0, min(cap, base * 2**n)]."""
    rng = rng or random.Random()
    attempt = 0
    while True:
        yield rng.uniform(0, min(cap, base * 2**attempt))
        attempt += 1


def watch(
    watcher: MailboxWatcher,
    load_checkpoint: Callable[[], Checkpoint | None],
    handle_batch: Callable[[FetchedBatch], None],
    stop: threading.Event,
    *,
    start_now: bool,
    rng: random.Random | None = None,
) -> None:
    """Poll, hand each batch over (the caller commits it with its checkpoint), wait, repeat;
    reconnect with backoff on transient errors, until ``stop`` is set.

    After a poll that fetched, poll again before waiting: mail that arrived meanwhile was
    announced in the answers to the FETCH commands, which nobody reads, and IDLE announces
    only what is still unannounced, so waiting would leave it until the next mail came."""
    delays = reconnect_delays(rng=rng)
    while not stop.is_set():
        try:
            fetched = False
            for batch in watcher.poll(load_checkpoint(), start_now=start_now):
                handle_batch(batch)
                fetched = True
                if stop.is_set():
                    return
            delays = reconnect_delays(rng=rng)
            if not fetched and watcher.wait(stop):
                return
        except TransientImapError as exc:
            delay = next(delays)
            log.warning("mailbox unavailable (%s); retrying in %.1f s", exc, delay)
            if stop.wait(delay):
                return
        except PermanentImapError as exc:
            watcher.state.last_error = str(exc)
            log.error("mailbox error: %s; retrying in 5 min", exc)
            if stop.wait(300):
                return
