"""Status-page throughput: ``ticketd run`` on 100,000 tickets against a bare Starlette
"hello" route served the same way (one uvicorn process), both loaded by ``wrk``.

Run: ``python -m bench.web [--tickets N] [--seconds S]``. Needs Debian ``wrk``.
Targets: status page >= 50 % of the bare route's requests/s; p99 < 50 ms at 64 connections.
"""

from __future__ import annotations

import argparse
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from tests.netutil import free_port, wait_for_port
from ticketd.routing.tracking import generate
from ticketd.store.db import make_engine, migrate
from ticketd.store.schema import events, public_pages, tickets

BARE_APP = """
import sys
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

async def hello(request):
    return PlainTextResponse("hello")

app = Starlette(routes=[Route("/hello/{name}", hello)])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""

LUA = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
math.randomseed(os.time())
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
"""


def populate(url: str, count: int) -> list[str]:
    """``count`` tickets with a creation event each; returns their tracking numbers."""
    engine = make_engine(url)
    migrate(engine)
    numbers = list({generate("SUP", secrets.token_bytes) for _ in range(count)})
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as connection:
        for offset in range(0, len(numbers), 5000):
            chunk = numbers[offset : offset + 5000]
            rows = [
                {
                    "id": offset + i + 1,
                    "tracking": number,
                    "status": random.choice(["open", "pending", "resolved"]),
                    "priority": "normal",
                    "subject": f"문의 {offset + i}",
                    "requester_email": f"c{offset + i}@acme.co.kr",
                    "requester_name": "",
                    "owner": "alice@example.com",
                    "language": "ko",
                    "fingerprint": secrets.token_hex(32),
                    "duplicate_count": 0,
                    "minutes_worked": 0,
                    "created_at": start + timedelta(minutes=offset + i),
                    "updated_at": start + timedelta(minutes=offset + i),
                }
                for i, number in enumerate(chunk)
            ]
            connection.execute(insert(tickets), rows)
            connection.execute(
                insert(events),
                [
                    {"ticket_id": row["id"], "type": "created", "at": row["created_at"],
                     "actor": "", "public": True, "summary": "received"}
                    for row in rows
                ],
            )  # fmt: skip
    engine.dispose()
    return numbers


def config(work: Path, port: int) -> Path:
    path = work / "ticketd.toml"
    path.write_text(
        f"""
[service]
name = "Bench"
tracking_prefix = "SUP"
language = "ko"
timezone = "Asia/Seoul"
address = "support@example.com"
[database]
url = "sqlite:///{work / "web.db"}"
[outbound]
transport = "maildir"
maildir = "{work / "outbox"}"
from = "Bench <support@example.com>"
[web]
listen = "127.0.0.1:{port}"
base_url = "http://127.0.0.1:{port}"
secret_key = "{secrets.token_hex(16)}"
rate_limit_per_minute = 100000
[sla]
# the generated tickets are months old: keep SLA work out of the measurement
first_response_hours = 1000000
auto_close_days = 100000
[[engineers]]
email = "alice@example.com"
name = "Alice"
"""
    )
    return path


def wait_published(url: str, count: int, timeout: float = 600) -> float:
    """Seconds until the daemon has published a status page for each of ``count`` tickets
    (tickets written behind its back are published by its start-up refresh)."""
    engine = make_engine(url, read_only=True)
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < timeout:
            with engine.connect() as connection:
                query = select(func.count()).where(public_pages.c.language == "ko")
                if connection.execute(query).scalar() == count:
                    return time.perf_counter() - started
            time.sleep(0.5)
    finally:
        engine.dispose()
    raise TimeoutError("the daemon did not publish every status page")


def load(port: int, paths: list[str], work: Path, seconds: int, name: str) -> tuple[float, float]:
    listing = work / f"{name}.paths"
    listing.write_text("\n".join(paths) + "\n")
    script = work / f"{name}.lua"
    script.write_text(LUA % listing)
    out = subprocess.run(
        ["wrk", "-t2", "-c64", f"-d{seconds}s", "--latency", "-s", str(script),
         f"http://127.0.0.1:{port}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p99 is not None
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        print(f"  {name}: {errors.group(1)} non-2xx responses")
    return rate, float(p99.group(1)) * scale


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="web-bench-"))
    started = time.perf_counter()
    url = f"sqlite:///{work / 'web.db'}"
    numbers = populate(url, args.tickets)
    print(f"{len(numbers)} tickets written in {time.perf_counter() - started:.1f} s")
    ticketd_port, bare_port = free_port(), free_port()
    daemon = subprocess.Popen(["ticketd", "--config", str(config(work, ticketd_port)), "run"])
    bare = subprocess.Popen([sys.executable, "-c", BARE_APP, str(bare_port)])
    try:
        wait_for_port(ticketd_port)
        wait_for_port(bare_port)
        seconds = wait_published(url, len(numbers))
        print(f"{len(numbers)} status pages published by the running daemon in {seconds:.1f} s")
        sample = random.sample(numbers, min(len(numbers), 20_000))
        page_rate, page_p99 = load(ticketd_port, [f"/t/{n}" for n in sample], work,
                                   args.seconds, "status")  # fmt: skip
        bare_rate, bare_p99 = load(bare_port, [f"/hello/{n}" for n in sample], work,
                                   args.seconds, "bare")  # fmt: skip
    finally:
        for process in (daemon, bare):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=15)
        shutil.rmtree(work, ignore_errors=True)
    print(f"status page /t/{{tracking}}: {page_rate:8.0f} req/s  p99 {page_p99:6.1f} ms")
    print(f"bare Starlette route      : {bare_rate:8.0f} req/s  p99 {bare_p99:6.1f} ms")
    print(
        f"ratio: {page_rate / bare_rate:.0%} of the bare route (target >= 50 %); p99 target < 50 ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
