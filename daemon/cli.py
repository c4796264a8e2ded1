"""The ``ticketd`` command line."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ticketd import __version__
from ticketd.daemon import collector
from ticketd.daemon.binding import ListenError
from ticketd.daemon.cli_options import Parser, log_level, share_global_options
from ticketd.daemon.config import Config, ConfigError, describe_problems, load_config
from ticketd.daemon.config_warnings import config_warnings
from ticketd.daemon.leader import Leadership
from ticketd.daemon.logs import configure_logging
from ticketd.daemon.oauth2_authorize import authorize, authorize_device
from ticketd.daemon.once import run_once
from ticketd.daemon.report_command import BadOption, render_report, report_request
from ticketd.daemon.runner import IngestReport
from ticketd.daemon.ticket_text import list_lines, ticket_lines
from ticketd.daemon.wiring import Components, build
from ticketd.mail.imap import PermanentImapError, TransientImapError
from ticketd.mail.mailfiles import MailFile, NotAMailbox
from ticketd.mail.message import RawMessage, Source
from ticketd.mail.oauth2 import OAuth2Error
from ticketd.routing import tracking
from ticketd.routing.fee_format import fees_csv, fees_json
from ticketd.routing.fees import month_bounds
from ticketd.routing.links import secret_digest
from ticketd.routing.model import Status
from ticketd.routing.privacy import placeholder_address
from ticketd.routing.reports import Granularity
from ticketd.routing.signin import staff_user
from ticketd.store.backup import BackupRefused, backup
from ticketd.store.db import (
    SchemaBehind,
    Store,
    make_engine,
    migrate,
    refresh_statistics,
    require_current,
)
from ticketd.store.fees import SqlFees
from ticketd.store.search import SOURCES
from ticketd.store.staff_auth import new_secret

IMPORT_BATCH = 250
REINDEX_BATCH = 1000
DESCRIPTION = """\
ticketd: a shared-inbox ticketing daemon. Every claim mailed to the support address
becomes one ticket with a tracking number and an owner."""
EPILOG = """\
The configuration comes from --config PATH (before or after the command) or
$TICKETD_CONFIG; config.example.toml in the source tree runs as is. First steps:
  ticketd --config config.example.toml check-config
  ticketd --config config.example.toml run
Exit status: 0 on success; otherwise one line `error: ...` on stderr.
Run `ticketd COMMAND --help` for a command's options."""


JSON_HELP = "print JSON instead of text"


class CliError(Exception):
    """A failure reported as one ``error: …`` line."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ticketd`` console script."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a bad option already said why
        return exc.code if isinstance(exc.code, int) else 2
    if "handler" not in args:
        parser.print_help()
        return 0
    configure_logging(args.log_level or "warning")
    try:
        return int(args.handler(args) or 0)
    except ConfigError as exc:
        print(f"error: invalid configuration: {'; '.join(exc.problems)}", file=sys.stderr)
        return 2
    except (CliError, ListenError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="ticketd",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ticketd {__version__}")
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=os.environ.get("TICKETD_CONFIG"),
        help="the TOML configuration file (default: $TICKETD_CONFIG)",
    )
    parser.add_argument(
        "--log-level",
        type=log_level,
        metavar="LEVEL",
        default=os.environ.get("TICKETD_LOG_LEVEL"),
        help="DEBUG, INFO (one line per message and its decision), WARNING, ERROR "
        "(default: $TICKETD_LOG_LEVEL, else [service].log_level for `run`, WARNING for "
        "other commands)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    commands.add_parser("init", help="create or migrate the database").set_defaults(handler=_init)
    run = commands.add_parser("run", help="the daemon: mailbox, SMTP listener, scheduler, web")
    run.add_argument(
        "--once",
        action="store_true",
        help="one full cycle, then exit; refused (exit 1) while another ticketd run "
        "is the poller for the database",
    )
    run.set_defaults(handler=_run)
    imp = commands.add_parser("import", help="ingest an mbox file or a Maildir folder")
    imp.add_argument("path", type=Path, help="an mbox file or a Maildir folder")
    imp.add_argument("--no-notify", action="store_true", help="store without mailing anyone")
    imp.set_defaults(handler=_import)
    commands.add_parser(
        "check-config", help="validate the configuration: every problem and warning, by key"
    ).set_defaults(handler=_check_config)

    ticket = commands.add_parser("ticket", help="show or list tickets")
    ticket_cmds = ticket.add_subparsers(dest="ticket_command", required=True, metavar="COMMAND")
    show = ticket_cmds.add_parser("show", help="one ticket with its events and message texts")
    show.add_argument("tracking", help="its tracking number (any case, dashes optional)")
    show.add_argument("--json", action="store_true", help=JSON_HELP)
    show.set_defaults(handler=_ticket_show)
    listing = ticket_cmds.add_parser("list", help="tickets, oldest first")
    listing.add_argument(
        "--status", choices=[s.value for s in Status], help="only tickets in this status"
    )
    listing.add_argument("--owner", metavar="EMAIL", help="only tickets this engineer owns")
    listing.add_argument("--json", action="store_true", help=JSON_HELP)
    listing.set_defaults(handler=_ticket_list)

    reindex = commands.add_parser(
        "reindex", help="rebuild the search index from the stored texts (safe while running)"
    )
    reindex.set_defaults(handler=_reindex)
    quarantine = commands.add_parser("quarantine", help="mail that could not be processed")
    q_cmds = quarantine.add_subparsers(dest="quarantine_command", required=True, metavar="COMMAND")
    q_list = q_cmds.add_parser("list", help="held and quarantined mail, oldest first")
    q_list.add_argument("--json", action="store_true", help=JSON_HELP)
    q_list.set_defaults(handler=_quarantine_list)
    for name, handler, text in (
        ("show", _quarantine_show, "print the stored raw message and why it is held"),
        ("release", _quarantine_release, "run it through the pipeline again"),
        ("drop", _quarantine_drop, "discard it (kept in the database as dropped)"),
    ):
        sub = q_cmds.add_parser(name, help=text)
        sub.add_argument("id", type=int, help="its id, from `quarantine list`")
        sub.set_defaults(handler=handler)
    token = commands.add_parser("token", help="API tokens for the staff JSON API")
    token_cmds = token.add_subparsers(dest="token_command", required=True, metavar="COMMAND")
    create = token_cmds.add_parser("create", help="a new token acting as that engineer")
    create.add_argument("email", help="a configured engineer's address ([[engineers]])")
    create.set_defaults(handler=_token_create)
    t_list = token_cmds.add_parser("list", help="every token (never the token itself)")
    t_list.add_argument("--json", action="store_true", help=JSON_HELP)
    t_list.set_defaults(handler=_token_list)
    revoke = token_cmds.add_parser("revoke", help="the token stops working at once")
    revoke.add_argument("id", type=int, help="its id, from `token list`")
    revoke.set_defaults(handler=_token_revoke)
    report = commands.add_parser("report", help="the dashboard's figures")
    report.add_argument(
        "--from", dest="start", metavar="DATE", help="first day (29 days before --to)"
    )
    report.add_argument("--to", dest="end", metavar="DATE", help="last day (today)")
    report.add_argument(
        "--by", choices=[g.value for g in Granularity], default="day", help="period (day)"
    )
    report.add_argument(
        "--format", dest="form", choices=("json", "csv"), default="json", help="output (json)"
    )
    report.set_defaults(handler=_report)
    fees = commands.add_parser("fees", help="support fees per customer for one month")
    fees.add_argument("--month", required=True, help="YYYY-MM, in [service].timezone")
    fees.add_argument(
        "--format", choices=("json", "csv"), default="json", help="output format (json)"
    )
    fees.set_defaults(handler=_fees)
    oauth2 = commands.add_parser("oauth2", help="OAuth2 login for the mailbox and the relay")
    oauth2_cmds = oauth2.add_subparsers(dest="oauth2_command", required=True)
    grant = oauth2_cmds.add_parser(
        "authorize", help="obtain a refresh token in a browser (loopback redirect with PKCE)"
    )
    grant.add_argument(
        "--for",
        dest="section",
        choices=("mailbox", "outbound"),
        required=True,
        help="the config section whose OAuth2 login to authorize",
    )
    grant.add_argument("--timeout", type=float, default=300, help="seconds to wait (300)")
    grant.add_argument(
        "--device", action="store_true", help="device flow: a code to type on any device"
    )
    grant.set_defaults(handler=_oauth2_authorize)
    copy = commands.add_parser(
        "backup", help="a consistent copy of the SQLite database, safe while running"
    )
    copy.add_argument("path", type=Path, help="where to write the copy")
    copy.add_argument("--force", action="store_true", help="replace an existing file")
    copy.set_defaults(handler=_backup)
    purge = commands.add_parser("purge", help="delete one person's data everywhere (GDPR, PIPA)")
    purge.add_argument(
        "--requester", required=True, metavar="EMAIL", help="the person whose data to delete"
    )
    purge.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    purge.set_defaults(handler=_purge)
    share_global_options(parser, "--config", "--log-level")
    return parser


def _config_path(args: argparse.Namespace) -> Path:
    if not args.config:
        raise CliError("no configuration: pass --config PATH or set TICKETD_CONFIG")
    path = Path(args.config)
    if not path.is_file():
        raise CliError(f"configuration file not found: {path}")
    return path


def _load(args: argparse.Namespace, *, daemon: bool = False) -> Config:
    """The configuration, with logging set up by it: its format, its secrets masked, and
    (for the daemon, unless ``--log-level``) its level."""
    config = load_config(_config_path(args))
    level = args.log_level or (config.service.log_level if daemon else "warning")
    configure_logging(level, config.service.log_format, config.secrets)
    return config


def _init(args: argparse.Namespace) -> int:
    config = _load(args)
    engine = make_engine(config.database.url)
    try:
        migrate(engine)
        refresh_statistics(engine)
    finally:
        engine.dispose()
    print("database ready")
    return 0


def _check_config(args: argparse.Namespace) -> int:
    path = _config_path(args)
    try:
        config = load_config(path)
    except ConfigError as exc:
        print(describe_problems(exc))
        count = len(exc.problems)
        print(f"error: {count} problem{'s' if count != 1 else ''} in {path}", file=sys.stderr)
        return 2
    warnings = config_warnings(config)
    _warn(warnings)
    count = len(warnings)
    print(f"{path}: ok" + (f" ({count} warning{'s' if count != 1 else ''})" if count else ""))
    return 0


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    config = _load(args, daemon=True)
    _warn(config_warnings(config))
    components = build(config)
    try:
        if args.once:
            collector.tune()
            return _run_once(components)
        from ticketd.daemon.service import run_forever

        return run_forever(components)
    finally:
        components.close()


def _run_once(components: Components) -> int:
    """One cycle as a one-shot poller: refused while another process is the poller."""
    leadership = Leadership(components.store)
    if not leadership.try_acquire():
        raise CliError(
            f"ticketd run ({leadership.holder_now()}) is the poller for this database; "
            "run --once refused (the running poller does this work)"
        )
    try:
        print(run_once(components))
    except (PermanentImapError, TransientImapError) as exc:
        raise CliError(f"mailbox: {exc}") from None
    finally:
        leadership.release()
    return 0


def _import(args: argparse.Namespace) -> int:
    config = _load(args)
    components = build(config, notify=not args.no_notify)
    collector.tune()
    try:
        source = MailFile(args.path)
    except NotAMailbox as exc:
        components.close()
        raise CliError(str(exc)) from None
    report = IngestReport()
    started = time.monotonic()
    progress = _Progress(source.total)
    try:
        batch: list[RawMessage] = []
        for data, done in source:
            batch.append(RawMessage(data, Source.IMPORT, datetime.now(UTC)))
            if len(batch) >= IMPORT_BATCH:
                report.add(components.ingestor.ingest(batch))
                progress.update(done, report.messages)
                batch = []
        if batch:
            report.add(components.ingestor.ingest(batch))
        progress.update(source.total, report.messages, final=True)
    finally:
        components.close()
    elapsed = max(time.monotonic() - started, 1e-9)
    counts = ", ".join(f"{k}={v}" for k, v in sorted(report.counts.items()))
    print(
        f"imported {report.messages} messages in {elapsed:.1f}s "
        f"({report.messages / elapsed:.0f} msgs/s): {counts}"
    )
    return 0


class _Progress:
    """A one-line progress bar on stderr (only when stderr is a terminal or forced)."""

    def __init__(self, total: int) -> None:
        self.total = max(total, 1)
        self.started = time.monotonic()
        self.enabled = sys.stderr.isatty() or os.environ.get("TICKETD_PROGRESS") == "1"

    def update(self, done: int, messages: int, *, final: bool = False) -> None:
        """``done`` of ``total`` units read, ``messages`` processed so far."""
        if not self.enabled:
            return
        width = 30
        share = min(done, self.total) / self.total
        filled = int(width * share)
        rate = messages / max(time.monotonic() - self.started, 1e-9)
        bar = "#" * filled + "-" * (width - filled)
        end = "\n" if final else ""
        line = f"\r[{bar}] {share:4.0%} {messages} messages {rate:.0f} msgs/s"
        print(line, end=end, file=sys.stderr, flush=True)


@contextlib.contextmanager
def _reading(args: argparse.Namespace) -> Iterator[tuple[Config, Store]]:
    """The configuration and a store for a read-only command. It creates the schema of a
    new, empty database, but never upgrades an existing one (that is ``init``'s job)."""
    config = _load(args)
    engine = make_engine(config.database.url)
    try:
        require_current(engine)
    except SchemaBehind as exc:
        if exc.current is not None:
            engine.dispose()
            raise CliError(str(exc)) from None
        migrate(engine)
    try:
        yield config, Store(engine, lambda: datetime.now(UTC))
    finally:
        engine.dispose()


def _ticket_show(args: argparse.Namespace) -> int:
    with _reading(args) as (config, store), store.read() as reader:
        number = tracking.parse(args.tracking, config.service.tracking_prefix)
        language = config.service.language
        data = reader.ticket(number, datetime.now(UTC), language) if number else None
    if data is None:
        raise CliError(f"no ticket {args.tracking}")
    lines = ticket_lines(data, ZoneInfo(config.service.timezone))
    return _emit(args.json, data, lines, f"times in {config.service.timezone}")


def _ticket_list(args: argparse.Namespace) -> int:
    with _reading(args) as (config, store), store.read() as reader:
        data = reader.tickets(status=args.status, owner=args.owner)
    zone = config.service.timezone
    count = f"{len(data)} ticket{'s' if len(data) != 1 else ''}"
    return _emit(args.json, data, list_lines(data, ZoneInfo(zone)), count)


def _report(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    with _reading(args) as (config, store):
        try:
            request = report_request(args.start, args.end, args.by, config.service.timezone, now)
        except BadOption as exc:
            raise CliError(str(exc)) from None
        sys.stdout.buffer.write(render_report(store.engine, request, now, args.form).encode())
    return 0


def _backup(args: argparse.Namespace) -> int:
    """Exit 2 with the ``pg_dump`` command for PostgreSQL: no copy was made."""
    config = _load(args)
    try:
        result = backup(config.database.url, args.path, force=args.force)
    except BackupRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"backup written to {result.path}: {result.size} bytes, integrity ok")
    return 0


def _purge(args: argparse.Namespace) -> int:
    email = args.requester.strip().lower()
    if "@" not in email:
        raise CliError(f"not an email address: {args.requester!r}")
    config = _load(args)
    if not args.yes and not _confirmed(f"erase every trace of {email}? This cannot be undone"):
        raise CliError("purge not confirmed (answer yes, or pass --yes)")
    components = build(config, notify=False)
    try:
        with components.store.write() as writer:
            report = writer.purge_requester(email, placeholder_address(email))
    finally:
        components.close()
    print(f"purged {email} (now {placeholder_address(email)}): {report}")
    return 0


def _confirmed(question: str) -> bool:
    """Asks on the terminal; no answer (no terminal) is no."""
    try:
        return input(f"{question} [yes/no] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def _reindex(args: argparse.Namespace) -> int:
    """Empty the search index, then index every stored text again, one batch per
    transaction (the daemon's writes go on between them and index themselves)."""
    with _reading(args) as (_, store):
        with store.write() as writer:
            writer.clear_search_index()
        total = 0
        for source in SOURCES:
            after: int | None = 0
            while after is not None:
                with store.write() as writer:
                    count, after = writer.index_stored(source, after, REINDEX_BATCH)
                total += count
    print(f"indexed {total} documents")
    return 0


def _quarantine_list(args: argparse.Namespace) -> int:
    with _reading(args) as (_, store), store.read() as reader:
        data = reader.quarantine()
    lines = [
        f"{r['id']:6} {r['state']:11} {r['received_at']} <{r['message_id']}> {r['reason']}"
        for r in data
    ]
    return _emit(args.json, data, lines, f"{len(data)} held or quarantined")


def _emit(as_json: bool, data: object, lines: list[str], footer: str) -> int:
    """Print ``data`` as JSON, or the human ``lines`` and a footer."""
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    for line in lines:
        print(line)
    print(footer)
    return 0


def _nothing_held(inbound_id: int) -> CliError:
    return CliError(f"nothing held or quarantined with id {inbound_id}")


def _quarantine_show(args: argparse.Namespace) -> int:
    with _reading(args) as (_, store), store.read() as reader:
        row = reader.held(args.id)
        if row is None:
            raise _nothing_held(args.id)
        raw = reader.raw(args.id)
    print(
        f"id: {row['id']}\nstate: {row['state']}\nreason: {row['reason']}\n"
        f"attempts: {row['attempts']}\nreceived_at: {row['received_at']}\n"
    )
    sys.stdout.flush()
    sys.stdout.buffer.write(raw)
    return 0


def _quarantine_release(args: argparse.Namespace) -> int:
    config = _load(args)
    components = build(config)
    try:
        with components.store.write() as writer:
            if not writer.release(args.id):
                raise _nothing_held(args.id)
        report = components.ingestor.process_pending(released=(args.id,))
    finally:
        components.close()
    counts = ", ".join(f"{k}={v}" for k, v in sorted(report.counts.items()))
    print(f"released {args.id}: {counts}")
    return 0


def _quarantine_drop(args: argparse.Namespace) -> int:
    with _reading(args) as (_, store), store.write() as writer:
        if not writer.drop(args.id):
            raise _nothing_held(args.id)
    print(f"dropped {args.id}")
    return 0


def _token_create(args: argparse.Namespace) -> int:
    with _reading(args) as (config, store):
        user = staff_user(args.email, config.engineers)
        if user is None:
            raise CliError(f"{args.email} is not a configured engineer ([[engineers]])")
        token = new_secret(secrets.token_bytes)
        with store.write() as writer:
            token_id = writer.add_api_token(secret_digest(token), user.email)
    print(f"token {token_id} for {user.email}; it is shown this once, keep it safe:")
    print(token)
    return 0


def _token_list(args: argparse.Namespace) -> int:
    with _reading(args) as (_, store), store.read() as reader:
        found = reader.api_tokens()
    data = [
        {
            "id": t.id,
            "engineer": t.email,
            "created_at": _iso(t.created_at),
            "last_used_at": _iso(t.last_used_at),
            "revoked_at": _iso(t.revoked_at),
        }
        for t in found
    ]
    lines = [
        f"{t.id:5} {t.email:32} created {_iso(t.created_at)}  "
        f"last used {_iso(t.last_used_at) or '-'}  "
        + (f"revoked {_iso(t.revoked_at)}" if t.revoked_at else "active")
        for t in found
    ]
    return _emit(args.json, data, lines, f"{len(data)} tokens")


def _token_revoke(args: argparse.Namespace) -> int:
    with _reading(args) as (_, store), store.write() as writer:
        if not writer.revoke_api_token(args.id):
            raise CliError(f"no active token with id {args.id}")
    print(f"revoked token {args.id}")
    return 0


def _fees(args: argparse.Namespace) -> int:
    """``ticketd fees``: each customer's tickets resolved in the month, priced."""
    with _reading(args) as (config, store):
        bounds = month_bounds(args.month, config.service.timezone)
        if bounds is None:
            raise CliError(f"--month: expected YYYY-MM, got {args.month!r}")
        rows = SqlFees(store.engine).month(config.fees, *bounds)
    if args.format == "csv":
        sys.stdout.buffer.write(fees_csv(rows).encode("utf-8"))
    else:
        print(json.dumps(fees_json(rows), ensure_ascii=False, indent=2))
    return 0


def _oauth2_authorize(args: argparse.Namespace) -> int:
    key = f"{args.section}.oauth2_refresh_token"
    config = load_config(
        _config_path(args), ignore=(key, f"{key}_env", f"{key}_file", f"{args.section}.password")
    )
    section = config.mailbox if args.section == "mailbox" else config.outbound
    if section is None or section.oauth2 is None:
        raise CliError(f'{args.section}.auth: set auth = "oauth2" first')
    flow = authorize_device if args.device else authorize
    where = "enter the code" if args.device else "sign in"
    print(f"Open this URL in a browser, {where} as the account of [{args.section}]:", flush=True)
    try:
        token = flow(section.oauth2, lambda url: print(url, flush=True), timeout=args.timeout)
    except OAuth2Error as exc:
        raise CliError(str(exc)) from None
    print(
        f"Store the refresh token below as {key}_file (a file only ticketd can read) or "
        f"{key}_env, then run `ticketd check-config`:"
    )
    print(token)
    return 0


def _iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if at else None
