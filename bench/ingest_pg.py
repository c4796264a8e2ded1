"""PostgreSQL vs SQLite: ``ticketd import`` of one corpus into each database, msgs/s and the
``ticketd`` process's peak RSS, and the tickets against the truth.

A throwaway PostgreSQL cluster is started for the run the way the PostgreSQL test lane starts
one (``tests/fixtures/postgres.py``: ``initdb`` as the postgres user, loopback only, a free
port), but with ``fsync`` on, so that both databases commit durably (SQLite runs WAL with
``synchronous=NORMAL``, ticketd's own settings). Acknowledgements are queued in the outbox
(Maildir), not sent, so the two rows differ only by the database.

Run from the repository root::

    python -m bench.ingest_pg                    # 10,000 messages
    python -m bench.ingest_pg --messages 2000    # a quick check
    python -m bench.ingest_pg --keep             # keep the work dir and ticketd.log
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.corpus import CORPUS_NAMES, write_corpus
from bench.ingest import HEADER, BenchError, Result, measure, write_config
from tests.fixtures.postgres import PostgresServer, start_postgres


def _server_version(server: PostgresServer) -> str:
    import psycopg

    with psycopg.connect(f"host=127.0.0.1 port={server.port} user=ticketd dbname=postgres") as db:
        row = db.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


def bench(messages: int, seed: int, base: Path) -> tuple[list[Result], str]:
    """Import the same mbox into SQLite and into a fresh PostgreSQL database."""
    truth = write_corpus(messages, base / "corpus", "mbox", seed)
    corpus = base / "corpus" / CORPUS_NAMES["mbox"]
    server = start_postgres(fsync=True)
    try:
        version = _server_version(server)
        databases = {"import sqlite": None, "import postgres": server.create_database("bench")}
        results = []
        for path, url in databases.items():
            print(f"{path}: {messages} messages ...", flush=True)
            workdir = base / path.replace(" ", "-")
            workdir.mkdir()
            outbound = {"transport": "maildir", "maildir": "outbox"}
            config = write_config(workdir, outbound, None, database_url=url)
            results.append(measure(path, config, ["import", str(corpus)], truth))
    finally:
        server.stop()
    return results, version


def main(argv: list[str] | None = None) -> int:
    """Print one row per database; exit 1 if a run failed or missed the truth."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the work directory and logs")
    args = parser.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="ticketd-bench-pg-"))
    try:
        results, version = bench(args.messages, args.seed, base)
    except (BenchError, subprocess.CalledProcessError, RuntimeError) as exc:
        print(f"error: {exc}\nwork directory: {base}", file=sys.stderr)
        return 1
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    print(f"\nPostgreSQL {version} (fsync on, loopback TCP); SQLite WAL, synchronous=NORMAL")
    print(HEADER)
    for result in results:
        print(result.row())
    sqlite, postgres = results
    print(
        f"\nPostgreSQL / SQLite: {sqlite.seconds / postgres.seconds:.2f}x the msgs/s, "
        f"{postgres.peak_rss_mib / sqlite.peak_rss_mib:.2f}x the peak RSS"
    )
    if args.keep:
        print(f"work directory: {base}")
    return 0 if all(r.tickets == r.truth.claims for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
