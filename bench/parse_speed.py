"""Parser speed: ``mail.parse.parse`` alone over a generated realistic corpus.

Run: ``python -m bench.parse_speed [N]`` (default 5000). Prints messages per second and the
stdlib ``policy.default`` parser's rate on the same bytes, for reference.
"""

from __future__ import annotations

import sys
import time
from email import message_from_bytes
from email.policy import default

from bench.corpus import generate
from ticketd.mail.parse import parse


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    corpus = [m.data for m in generate(count, seed=3)]
    size = sum(map(len, corpus)) / len(corpus) / 1024
    started = time.perf_counter()
    for data in corpus:
        parse(data)
    ours = len(corpus) / (time.perf_counter() - started)
    started = time.perf_counter()
    for data in corpus:
        message_from_bytes(data, policy=default).get_body()
    stdlib = len(corpus) / (time.perf_counter() - started)
    print(f"{len(corpus)} messages, {size:.1f} KiB average")
    print(f"ticketd parse          : {ours:7.0f} msgs/s")
    print(f"stdlib policy.default  : {stdlib:7.0f} msgs/s (reference)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
