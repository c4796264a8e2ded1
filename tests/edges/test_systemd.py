"""sd_notify datagrams on a real AF_UNIX socket bound by the test."""

from __future__ import annotations

import socket
from pathlib import Path

from ticketd.daemon.systemd import Notifier


def test_sd_notify_writes_datagrams_to_a_path_socket_and_honours_watchdog_pid(
    tmp_path: Path,
) -> None:
    address = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(address)
        notifier = Notifier({"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "30000000"})
        notifier.send("READY=1", "STATUS=serving")
        assert listener.recv(4096) == b"READY=1\nSTATUS=serving"
        assert notifier.ping_interval() == 15
    other = Notifier({"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "1", "WATCHDOG_PID": "1"})
    assert other.ping_interval() is None
    Notifier({}).send("READY=1")
    Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone")}).send("READY=1")
