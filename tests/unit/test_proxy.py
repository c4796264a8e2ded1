"""The real client behind reverse proxies: forwarded headers only from trusted peers."""

from __future__ import annotations

from pathlib import Path

import pytest

from ticketd.daemon.config import ConfigError, load_config
from ticketd.web.proxy import client_of, networks

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"

PROXIES = networks(["10.0.0.0/8", "::1"])


def headers(**values: str) -> list[tuple[bytes, bytes]]:
    return [(k.replace("_", "-").encode(), v.encode()) for k, v in values.items()]


def test_forwarded_headers_from_an_untrusted_peer_are_ignored() -> None:
    spoofed = headers(x_forwarded_for="198.51.100.7", forwarded="for=198.51.100.8")
    assert client_of("203.0.113.5", spoofed, PROXIES) == "203.0.113.5"
    assert client_of("127.0.0.1", spoofed, ()) == "127.0.0.1"


def test_x_forwarded_for_is_read_right_to_left_skipping_trusted_hops() -> None:
    chain = headers(x_forwarded_for="1.2.3.4, 198.51.100.7, 10.1.1.1")
    assert client_of("10.0.0.2", chain, PROXIES) == "198.51.100.7"


def test_forwarded_wins_and_handles_quotes_ports_and_ipv6() -> None:
    found = headers(
        forwarded='for=1.2.3.4, for="[2001:db8::7]:4711";proto=https, for=10.2.2.2',
        x_forwarded_for="192.0.2.99",
    )
    assert client_of("::1", found, PROXIES) == "2001:db8::7"


def test_an_unreadable_hop_stops_at_the_last_trusted_one() -> None:
    found = headers(x_forwarded_for="198.51.100.7, garbage, 10.3.3.3")
    assert client_of("10.0.0.2", found, PROXIES) == "10.3.3.3"
    assert client_of("10.0.0.2", headers(forwarded="for=unknown"), PROXIES) == "10.0.0.2"


def test_a_chain_of_only_trusted_hops_gives_the_leftmost() -> None:
    assert client_of("10.0.0.2", headers(x_forwarded_for="10.9.9.9"), PROXIES) == "10.9.9.9"


def test_trusted_proxies_and_event_loop_are_checked_naming_their_key(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    path = tmp_path / "ticketd.toml"
    assert load_config(EXAMPLE, {}).web.trusted_proxies == ()
    path.write_text(text.replace("trusted_proxies = []", 'trusted_proxies = ["10.0.0.0/8", "::1"]'))
    assert load_config(path, {}).web.trusted_proxies == ("10.0.0.0/8", "::1/128")
    bad = text.replace("trusted_proxies = []", 'trusted_proxies = ["nginx"]')
    path.write_text(bad.replace('event_loop = "uvloop"', 'event_loop = "trio"'))
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    found = " ".join(caught.value.problems)
    assert "web.trusted_proxies[0]" in found and "web.event_loop" in found
