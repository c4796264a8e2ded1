"""sd_notify(3) without libsystemd: datagrams to ``$NOTIFY_SOCKET`` (a path, or ``@name``
in the abstract namespace) for ``Type=notify`` units, and the watchdog's interval."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class Notifier:
    """Sends ``READY=1``, ``STATUS=…``, ``WATCHDOG=1``, ``STOPPING=1``; does nothing when
    ticketd was not started by systemd (no ``NOTIFY_SOCKET``)."""

    def __init__(self, environ: Mapping[str, str] = os.environ) -> None:
        address = environ.get("NOTIFY_SOCKET", "")
        self.address = "\0" + address[1:] if address.startswith("@") else address
        usec = environ.get("WATCHDOG_USEC", "")
        pid = environ.get("WATCHDOG_PID", "")
        mine = not pid or pid == str(os.getpid())
        self.watchdog_seconds = int(usec) / 1e6 if usec.isdigit() and mine else None

    def send(self, *fields: str) -> None:
        """One datagram of ``fields``; a failure is logged, never raised."""
        if not self.address:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto("\n".join(fields).encode(), self.address)
        except OSError as exc:
            log.warning("sd_notify to %s failed: %s", self.address.lstrip("\0"), exc)

    def ping_interval(self) -> float | None:
        """Half of ``WatchdogSec``, or None when no watchdog is set for this process."""
        return self.watchdog_seconds / 2 if self.watchdog_seconds else None
