"""Hostile mail at volume: a seeded generator of broken and malicious messages, and a bench
that feeds them to a running ``ticketd run`` through its SMTP listener while polling its
web server.

Generator: ``generate(n, seed)`` yields ``Hostile(family, data)``; the first
``len(FAMILIES)`` messages are one of each family, the rest are drawn by weight (the heavy
families are rare, so 10,000 messages stay around 300 MB). Every message has its own sender,
subject and Message-ID, so none is a duplicate of another: each must become a ticket or be
held in the quarantine with a reason.

Run: ``python -m bench.hostile --messages 10000 [--seed N] [--keep]``. Prints messages fed
and refused by SMTP, tickets, quarantined (reasons grouped), whether the daemon crashed,
its peak RSS (VmHWM), the slowest ``mail.parse.parse`` in CPU seconds (in-process, same
corpus), and the latency and failures of ``/healthz`` and a status page polled every 0.2 s.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import random
import shutil
import smtplib
import statistics
import subprocess
import tempfile
import threading
import time
import tomllib
import urllib.error
import urllib.request
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bench.ingest import ticketd_argv, write_config
from tests.netutil import free_port, wait_for_port
from ticketd.mail.parse import parse

SUPPORT = "support@example.com"
MIB = 1024 * 1024
Family = Callable[[random.Random, int], bytes]


@dataclass(frozen=True)
class Hostile:
    """One generated message and the family that made it."""

    family: str
    data: bytes


def _head(seq: int, *, content_type: str = "text/plain; charset=utf-8", extra: str = "") -> str:
    """Ordinary headers that make message ``seq`` unique (sender, subject, Message-ID)."""
    return (
        f"From: Hostile {seq} <h{seq}@hostile.test>\r\n"
        f"To: {SUPPORT}\r\n"
        f"Subject: hostile message {seq}\r\n"
        f"Message-ID: <hostile-{seq}@hostile.test>\r\n"
        "Date: Tue, 01 Dec 2026 10:00:00 +0000\r\n"
        "MIME-Version: 1.0\r\n"
        f"Content-Type: {content_type}\r\n{extra}"
    )


def broken_mime_tree(rng: random.Random, seq: int) -> bytes:
    """Multipart with a missing, unterminated, reused or absent boundary, and junk params."""
    shape = rng.randrange(5)
    if shape == 0:
        return (_head(seq, content_type="multipart/mixed") + "\r\n--x\r\nbody\r\n").encode()
    if shape == 1:
        head = _head(seq, content_type='multipart/mixed; boundary="b"')
        return (head + "\r\n--b\r\nContent-Type: text/plain\r\n\r\nno end " * 50).encode()
    if shape == 2:
        head = _head(seq, content_type='multipart/mixed; boundary="b"')
        inner = "--b\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n" * 30
        return (head + "\r\n" + inner + "--b--\r\n").encode()
    if shape == 3:
        head = _head(seq, content_type='multipart/mixed; boundary="never-used"')
        return (head + f"\r\nplain text {seq} where parts were promised\r\n").encode()
    params = ";".join(f' p{i}*{i}*="x%{rng.randrange(256):02X}"' for i in range(500))
    return (_head(seq, content_type="text/plain;" + params) + f"\r\nbody {seq}\r\n").encode()


def deep_nesting(rng: random.Random, seq: int) -> bytes:
    """2,000 levels of multipart (or of message/rfc822)."""
    levels = 2000
    if rng.random() < 0.5:
        opens = "".join(
            f"--l{i}\r\nContent-Type: multipart/mixed; boundary=l{i + 1}\r\n\r\n"
            for i in range(levels)
        )
        closes = "".join(f"--l{i}--\r\n" for i in reversed(range(levels)))
        leaf = f"--l{levels}\r\nContent-Type: text/plain\r\n\r\ndeep {seq}\r\n"
        body = opens + leaf + closes
        return (_head(seq, content_type="multipart/mixed; boundary=l0") + "\r\n" + body).encode()
    inner = f"Subject: innermost\r\n\r\ndeep {seq}\r\n"
    for _ in range(levels):
        inner = "Content-Type: message/rfc822\r\n\r\n" + inner
    return (_head(seq, content_type="message/rfc822") + "\r\n" + inner).encode()


def mime_bomb(rng: random.Random, seq: int) -> bytes:
    """10,000 tiny parts."""
    parts = "".join(f"--m\r\nContent-Type: text/plain\r\n\r\n{i}\r\n" for i in range(10_000))
    head = _head(seq, content_type="multipart/mixed; boundary=m")
    return (head + "\r\n" + parts + "--m--\r\n").encode()


def huge_headers(rng: random.Random, seq: int) -> bytes:
    """About 1 MB of header: a folded one, 20,000 Received lines, a giant Cc, 40,000 Cc or
    From headers."""
    shape = rng.randrange(5)
    if shape == 3:
        extra = "".join(f"Cc: c{i}@x{i}.test\r\n" for i in range(40_000))
    elif shape == 4:
        extra = "".join(f"From: f{i % 2}@x.test\r\n" for i in range(40_000))
    elif shape == 0:
        extra = "X-Huge: " + "\r\n ".join("y" * 900 for _ in range(1100)) + "\r\n"
    elif shape == 1:
        extra = "".join(f"Received: from h{i} by mx; Tue, 1 Dec 2026\r\n" for i in range(20_000))
    else:
        extra = "Cc: " + ",\r\n ".join(f"c{i}@x{i}.test" for i in range(60_000)) + "\r\n"
    return (_head(seq, extra=extra) + f"\r\nbody {seq}\r\n").encode()


def invalid_encodings(rng: random.Random, seq: int) -> bytes:
    """Broken base64 and quoted-printable, unknown or wrong charsets, bad encoded words."""
    shape = rng.randrange(5)
    if shape == 0:
        body = "Content-Transfer-Encoding: base64\r\n\r\n" + "!!!notbase64=*&^%$" * 200
    elif shape == 1:
        body = "Content-Transfer-Encoding: quoted-printable\r\n\r\n" + "=ZZ=\r=4" * 500
    elif shape == 2:
        return (
            _head(seq, content_type="text/plain; charset=x-no-such-charset").encode()
            + b"Subject: =?x-bogus?B?////?= =?utf-8?Q?=FF=FE?=\r\n\r\n"
            + bytes(rng.randrange(128, 256) for _ in range(2000))
        )
    elif shape == 3:
        return _head(seq, content_type="text/plain; charset=utf-16").encode() + b"\r\n\xff\xfe\xd8"
    else:
        words = " ".join(f"=?utf-8?B?{'%' * (i % 7)}?=" for i in range(5000))
        return (_head(seq) + f"X-Words: {words}\r\n\r\nbody {seq}\r\n").encode()
    return (_head(seq) + body).encode()


@cache
def _zip_bomb() -> bytes:
    """A zip of about 100 KB that expands to 100 MB of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("zeros.bin", bytes(100 * MIB))
    return out.getvalue()


def _attachment_mail(seq: int, name: str, ctype: str, payload: bytes) -> bytes:
    encoded = base64.encodebytes(payload).decode().replace("\n", "\r\n")
    return (
        _head(seq, content_type="multipart/mixed; boundary=a")
        + f"\r\n--a\r\nContent-Type: text/plain\r\n\r\nsee attached {seq}\r\n"
        + f'--a\r\nContent-Type: {ctype}\r\nContent-Disposition: attachment; filename="{name}"\r\n'
        + f"Content-Transfer-Encoding: base64\r\n\r\n{encoded}--a--\r\n"
    ).encode()


def zip_bomb(rng: random.Random, seq: int) -> bytes:
    """A small zip that expands to 100 MB."""
    return _attachment_mail(seq, "invoice.zip", "application/zip", _zip_bomb())


TRAVERSAL_NAMES = (
    "../../etc/passwd",
    "..\\..\\..\\Windows\\System32\\config\\SAM",
    "C:\\Windows\\System32\\drivers\\etc\\hosts",
    "/etc/shadow",
    "invoice\u202egpj.exe",
    "CON",
    "nul.txt",
    "a\x00b.pdf",
    "....//....//x",
    "x" * 5000 + ".pdf",
    "\u0000",
    "..",
)


def traversal_names(rng: random.Random, seq: int) -> bytes:
    """Attachments named to escape a folder, to hide their extension, or to be a device."""
    name = rng.choice(TRAVERSAL_NAMES)
    if rng.random() < 0.5:
        quoted = "".join(f"%{b:02X}" for b in name.encode("utf-8"))
        head = _head(seq, content_type="multipart/mixed; boundary=a")
        return (
            head + f"\r\n--a\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Disposition: attachment; filename*=utf-8''{quoted}\r\n\r\nroot:x:0:0\r\n"
            "--a--\r\n"
        ).encode()
    return _attachment_mail(seq, name.replace('"', ""), "application/octet-stream", b"root:x:0")


def eight_bit_junk(rng: random.Random, seq: int) -> bytes:
    """Raw bytes: NULs and 8-bit junk in headers and body, bare CRs and LFs."""
    junk = bytes(rng.randrange(256) for _ in range(rng.randrange(100, 4000)))
    shape = rng.randrange(4)
    if shape == 0:
        return _head(seq).encode() + b"X-Junk: " + junk.replace(b"\n", b"") + b"\r\n\r\n" + junk
    if shape == 1:
        return _head(seq).encode().replace(b"\r\n", b"\r") + b"\r" + junk
    if shape == 2:
        subject = bytes(rng.randrange(128, 256) for _ in range(80))
        head = _head(seq).encode().replace(b"hostile message", b"\x00\xff" + subject)
        return head.replace(b"\r\n", b"\n") + b"\n\x00\x00" + junk
    return f"Subject: junk {seq}\r\n".encode() + junk


def big_attachment(rng: random.Random, seq: int) -> bytes:
    """A 25 MB attachment (its bytes incompressible, so its base64 is about 34 MB)."""
    return _attachment_mail(seq, "big.bin", "application/octet-stream", rng.randbytes(25 * MIB))


def html_links(rng: random.Random, seq: int) -> bytes:
    """HTML with 50,000 links."""
    links = "".join(f'<a href="https://x{i}.test/{i}">l{i}</a>\r\n' for i in range(50_000))
    head = _head(seq, content_type="text/html; charset=utf-8")
    return (head + f"\r\n<html><body><p>links {seq}</p>{links}</body></html>\r\n").encode()


def nested_tables(rng: random.Random, seq: int) -> bytes:
    """HTML with 5,000 nested tables (never closed, half the time)."""
    opens = "<table><tr><td>\r\n" * 5000
    closes = "</td></tr></table>\r\n" * 5000 if rng.random() < 0.5 else ""
    head = _head(seq, content_type="text/html; charset=utf-8")
    return (head + f"\r\n<html><body>{opens}tables {seq}{closes}</body></html>\r\n").encode()


FAMILIES: dict[str, tuple[Family, float]] = {
    "broken_mime_tree": (broken_mime_tree, 25),
    "deep_nesting": (deep_nesting, 3),
    "mime_bomb": (mime_bomb, 1),
    "huge_headers": (huge_headers, 0.5),
    "invalid_encodings": (invalid_encodings, 25),
    "zip_bomb": (zip_bomb, 2),
    "traversal_names": (traversal_names, 20),
    "eight_bit_junk": (eight_bit_junk, 25),
    "big_attachment": (big_attachment, 0.05),
    "html_links": (html_links, 0.5),
    "nested_tables": (nested_tables, 3),
}
"""Each family's generator and its weight in the random draw."""


def generate(count: int, seed: int = 1) -> Iterator[Hostile]:
    """``count`` hostile messages: each family once first, then drawn by weight."""
    rng = random.Random(seed)
    names = list(FAMILIES)
    weights = [FAMILIES[name][1] for name in names]
    for seq in range(count):
        name = names[seq] if seq < len(names) else rng.choices(names, weights)[0]
        yield Hostile(name, FAMILIES[name][0](rng, seq))


def write_mbox(path: Path, messages: Iterator[Hostile]) -> Counter[str]:
    """Stream ``messages`` into an mbox (``From `` lines in bodies escaped); the families."""
    families: Counter[str] = Counter()
    with path.open("wb") as out:
        for item in messages:
            families[item.family] += 1
            out.write(b"From hostile@hostile.test Tue Dec  1 10:00:00 2026\n")
            for line in item.data.splitlines(keepends=True):
                out.write(b">" + line if line.startswith((b"From ", b">From ")) else line)
            out.write(b"\n" if item.data.endswith(b"\n") else b"\n\n")
    return families


@dataclass
class Web:
    """Answers of the polled routes during the run: latencies (s) and failures."""

    latencies: list[float]
    failures: Counter[str]
    peak_rss_kib: int = 0


def _poll(base: str, pid: int, web: Web, stop: threading.Event) -> None:
    """Every 0.2 s: ``/healthz`` and the status home page, and the daemon's VmHWM."""
    while not stop.wait(0.2):
        for path in ("/healthz", "/"):
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(base + path, timeout=5) as answer:
                    answer.read()
                web.latencies.append(time.perf_counter() - started)
            except (OSError, urllib.error.URLError) as exc:
                web.failures[f"{path}: {type(exc).__name__} {exc}"[:120]] += 1
        web.peak_rss_kib = max(web.peak_rss_kib, _vm_hwm(pid))


def _vm_hwm(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    line = next((x for x in status.splitlines() if x.startswith("VmHWM:")), "VmHWM: 0 kB")
    return int(line.split()[1])


def _feed(port: int, messages: Iterator[Hostile], refused: Counter[str]) -> int:
    """Send every message to the listener, one session reused; the number accepted."""
    accepted = 0
    client: smtplib.SMTP | None = None
    for item in messages:
        try:
            if client is None:
                client = smtplib.SMTP("127.0.0.1", port, timeout=120)
            client.sendmail("hostile@hostile.test", [SUPPORT], item.data)
            accepted += 1
        except smtplib.SMTPResponseException as exc:
            refused[f"{item.family}: {exc.smtp_code}"] += 1
        except (smtplib.SMTPException, OSError) as exc:
            refused[f"{item.family}: {type(exc).__name__}"] += 1
            client = None
    if client is not None:
        client.quit()
    return accepted


def _json(config: Path, *args: str) -> list[dict[str, object]]:
    done = subprocess.run(ticketd_argv(config, *args, "--json"), capture_output=True, check=True)
    return list(json.loads(done.stdout))


def _max_parse_cpu(count: int, seed: int) -> tuple[float, str]:
    """The most CPU one message's ``mail.parse.parse`` takes, in this process, and its family."""
    worst = (0.0, "")
    for item in generate(count, seed):
        started = time.process_time()
        parse(item.data)
        worst = max(worst, (time.process_time() - started, item.family))
    return worst


def run(count: int, seed: int, workdir: Path) -> int:
    """The bench (see the module docstring); 1 when the daemon crashed or mail went missing."""
    config = write_config(workdir, {"transport": "maildir", "maildir": "outbox"}, None)
    smtp_port = free_port()
    with config.open("a") as out:
        out.write(f'\n[smtp_listener]\nlisten = "127.0.0.1:{smtp_port}"\n')
        out.write(f"max_message_size = {40 * MIB}\n")
    web_listen = tomllib.loads(config.read_text())["web"]["listen"]
    subprocess.run(ticketd_argv(config, "init"), check=True, capture_output=True)
    log = (workdir / "daemon.log").open("wb")
    daemon = subprocess.Popen(ticketd_argv(config, "run"), stdout=log, stderr=subprocess.STDOUT)
    wait_for_port(smtp_port, 60)
    web, stop = Web([], Counter()), threading.Event()
    poller = threading.Thread(target=_poll, args=(f"http://{web_listen}", daemon.pid, web, stop))
    poller.start()
    refused: Counter[str] = Counter()
    started = time.monotonic()
    accepted = _feed(smtp_port, generate(count, seed), refused)
    fed_seconds = time.monotonic() - started
    tickets: list[dict[str, object]] = []
    held: list[dict[str, object]] = []
    while daemon.poll() is None and time.monotonic() - started < fed_seconds + 1800:
        tickets, held = _json(config, "ticket", "list"), _json(config, "quarantine", "list")
        if len(tickets) + len(held) >= accepted:
            break
        time.sleep(5)
    done_seconds = time.monotonic() - started
    stop.set()
    poller.join()
    crashed = daemon.poll() is not None
    daemon.terminate()
    daemon.wait(30)
    worst, family = _max_parse_cpu(count, seed)
    latencies = sorted(web.latencies) or [0.0]
    reasons = Counter(f"{r['state']}: {str(r['reason'])[:100]}" for r in held)
    print(f"messages fed            {count} (accepted {accepted}, refused {sum(refused.values())})")
    for reason, n in refused.most_common():
        print(f"  refused               {n:6}  {reason}")
    print(f"feed / all processed    {fed_seconds:.0f} s / {done_seconds:.0f} s")
    print(f"tickets                 {len(tickets)}")
    print(f"held or quarantined     {len(held)}")
    for reason, n in reasons.most_common():
        print(f"  {n:6}  {reason}")
    print(f"missing                 {accepted - len(tickets) - len(held)}")
    print(f"daemon crashed          {'yes, exit ' + str(daemon.returncode) if crashed else 'no'}")
    print(f"daemon peak RSS (VmHWM) {web.peak_rss_kib / 1024:.0f} MiB")
    print(f"max parse CPU           {worst:.2f} s ({family})")
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1 if len(latencies) > 1 else 0] * 1000
    print(f"web answers             {len(web.latencies)}, p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(f"web failures            {sum(web.failures.values())}")
    for failure, n in web.failures.most_common(5):
        print(f"  {n:6}  {failure}")
    return 1 if crashed or accepted != len(tickets) + len(held) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--keep", action="store_true", help="keep the work dir (its path is printed)"
    )
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="hostile-"))
    print(f"work dir {workdir}")
    try:
        return run(args.messages, args.seed, workdir)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
