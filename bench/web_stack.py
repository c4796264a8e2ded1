"""Status-page requests/s per core with and without uvicorn's ``standard`` extras: the same
``GET /t/{tracking}`` pages (rendered per request: no daemon publishes them here) served
by one uvicorn process (one core) with ``loop=asyncio http=h11`` and with ``loop=uvloop
http=httptools``, loaded by a small asyncio keep-alive client in this process.

Run: ``python -m bench.web_stack [--tickets N] [--seconds S] [--connections C]``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.web import config, populate
from tests.netutil import free_port, wait_for_port

SERVER = """
import sys
import uvicorn
from pathlib import Path
from ticketd.daemon.config import load_config
from ticketd.daemon.web_server import build_web_app
from ticketd.daemon.wiring import build

config_path, port, loop, http = sys.argv[1:]
app = build_web_app(build(load_config(Path(config_path)), init=False))
uvicorn.run(app, host="127.0.0.1", port=int(port), loop=loop, http=http,
            log_level="warning", access_log=False, proxy_headers=False)
"""

STACKS = (("asyncio", "h11"), ("uvloop", "httptools"))


async def client(port: int, paths: list[str], until: float, counts: list[int]) -> None:
    """One keep-alive connection sending GETs one after another until ``until``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < until:
            path = random.choice(paths)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            counts[0 if head.startswith(b"HTTP/1.1 200") else 1] += 1
    finally:
        writer.close()


async def load(port: int, paths: list[str], seconds: float, connections: int) -> list[int]:
    counts = [0, 0]
    until = time.perf_counter() + seconds
    await asyncio.gather(*(client(port, paths, until, counts) for _ in range(connections)))
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="web-stack-"))
    try:
        url = f"sqlite:///{work / 'web.db'}"
        numbers = populate(url, args.tickets)
        path = config(work, free_port())
        paths = [f"/t/{n}" for n in random.sample(numbers, min(len(numbers), 5000))]
        for loop, http in STACKS:
            port = free_port()
            command = [sys.executable, "-c", SERVER, str(path), str(port), loop, http]
            server = subprocess.Popen(command)
            try:
                wait_for_port(port)
                ok, other = asyncio.run(load(port, paths, args.seconds, args.connections))
            finally:
                server.send_signal(signal.SIGTERM)
                server.wait(timeout=15)
            print(
                f"loop={loop:7} http={http:9}: {ok / args.seconds:8.0f} req/s per core"
                f"  ({other} non-200)"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
