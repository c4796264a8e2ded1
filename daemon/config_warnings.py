"""Warnings about a valid configuration that is unsafe to run in production.

``check-config`` prints them as ``warning: …`` lines (and still exits 0); ``run`` prints
them on start-up. Each names its key.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from ticketd.daemon.config import Config

EXAMPLE_SECRET_KEY = "change-me-this-example-key-is-public"
"""The secret key written in ``config.example.toml``: public, so it protects nothing."""


def config_warnings(config: Config) -> list[str]:
    """Every warning about ``config``, one line each."""
    found: list[str] = []
    if config.web.secret_key == EXAMPLE_SECRET_KEY:
        found.append(
            "[web].secret_key: the public example key: anyone can forge status links and "
            "engineers' reply addresses; set secret_key_env or secret_key_file to a random key "
            '(python3 -c "import secrets; print(secrets.token_urlsafe(32))")'
        )
    listen_host = _listen_host(config.web.listen)
    base_host = urlsplit(config.web.base_url).hostname or ""
    if is_loopback(base_host) and not is_loopback(listen_host):
        found.append(
            f"[web].base_url: {config.web.base_url} is on loopback while [web].listen "
            f"({config.web.listen}) is public: links in mail will not open for customers; "
            "set base_url to the address they reach"
        )
    box = config.mailbox
    if box is not None and box.security == "none" and not is_loopback(box.host):
        found.append(
            f'[mailbox].security: "none" to {box.host}, not on loopback, sends the password '
            'and every mail unencrypted; use "ssl" or "starttls"'
        )
    out = config.outbound
    if out.transport == "smtp" and out.security == "none" and not is_loopback(out.host):
        found.append(
            f'[outbound].security: "none" to {out.host}, not on loopback, sends every mail'
            + (" and the password" if out.username else "")
            + ' unencrypted; use "ssl" or "starttls"'
        )
    return found


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, IPv6 with or without brackets) is loopback."""
    bare = host.strip("[]").lower()
    if bare == "localhost" or bare.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(bare).is_loopback
    except ValueError:
        return False


def _listen_host(listen: str) -> str:
    return listen.rpartition(":")[0]
