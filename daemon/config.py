"""Loading and validating the TOML configuration.

Every problem is collected, each naming its key (``mailbox.hostt: unknown key``), before
one ``ConfigError`` is raised. Secrets may be given as ``X``, ``X_env`` or ``X_file``;
relative paths are relative to the config file.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import tomllib
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dt_time
from decimal import Decimal
from pathlib import Path
from typing import Any

import holidays
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ticketd.mail.message import Address
from ticketd.mail.oauth2 import MECHANISMS, PROVIDERS, OAuth2Settings
from ticketd.mail.smtp_guard import ListenerSettings, Network
from ticketd.routing.assign import back_at
from ticketd.routing.calendar import WEEKDAYS, Range, parse_ranges
from ticketd.routing.code_rules import CodeRule, CodeRuleMode
from ticketd.routing.codes import Refusal, parse_path
from ticketd.routing.commands import TYPES
from ticketd.routing.currencies import is_currency
from ticketd.routing.digest import DigestSettings
from ticketd.routing.fees import CustomerRate, FeePolicy
from ticketd.routing.model import EngineerInfo, Priority, Role, RoutingRuleSpec
from ticketd.routing.privacy import RetentionPolicy

MIB = 1024 * 1024
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


class ConfigError(Exception):
    """The configuration is invalid; ``problems`` name every offending key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def describe_problems(error: ConfigError) -> str:
    """One line per problem, for ``check-config``."""
    return "\n".join(error.problems)


@dataclass(frozen=True)
class ServiceConfig:
    name: str
    tracking_prefix: str
    language: str
    timezone: str
    address: str | None = None
    autoreply_limit_per_hour: int = 5
    templates: Path | None = None
    log_format: str = "text"
    log_level: str = "info"


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = field(repr=False)


@dataclass(frozen=True)
class MailboxConfig:
    address: str
    host: str
    port: int
    security: str
    username: str
    password: str = field(repr=False)
    folder: str = "INBOX"
    poll_interval: float = 30.0
    idle: bool = True
    start: str = "all"
    batch_size: int = 250
    cafile: Path | None = None
    oauth2: OAuth2Settings | None = None


@dataclass(frozen=True)
class ListenerConfig:
    listen: str
    settings: ListenerSettings = field(default_factory=ListenerSettings)


@dataclass(frozen=True)
class OutboundConfig:
    transport: str
    from_: str
    host: str = "127.0.0.1"
    port: int = 25
    security: str = "none"
    username: str = ""
    password: str = field(default="", repr=False)
    maildir: Path = Path("var/outbox")
    cafile: Path | None = None
    timeout: float = 30.0
    retry_seconds: float = 30.0
    oauth2: OAuth2Settings | None = None


@dataclass(frozen=True)
class WebConfig:
    listen: str
    base_url: str
    secret_key: str = field(repr=False)
    show_owner: str = "person"
    team_name: str = ""
    rate_limit_per_minute: int = 60
    staff_session_hours: float = 12.0
    trusted_proxies: tuple[str, ...] = ()
    event_loop: str = "uvloop"


@dataclass(frozen=True)
class SecurityConfig:
    trusted_authserv_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class SlaConfig:
    first_response_hours: float = 24.0
    auto_close_days: float = 7.0
    business_hours: Mapping[str, tuple[Range, ...]] | None = None
    holidays: str | None = None
    extra_holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    priority_hours: Mapping[Priority, float] = field(default_factory=dict)
    next_response_hours: float | None = None
    waiting_reminder_days: float = 3.0
    waiting_close_days: float = 4.0


@dataclass(frozen=True)
class IngestConfig:
    max_attachment_bytes: int = 10 * MIB
    parse_workers: int = 1
    acknowledge_max_age_hours: float = 72
    notice_attachment_bytes: int = 10 * MIB


@dataclass(frozen=True)
class Config:
    service: ServiceConfig
    database: DatabaseConfig
    mailbox: MailboxConfig | None
    smtp_listener: ListenerConfig | None
    outbound: OutboundConfig
    web: WebConfig
    security: SecurityConfig
    engineers: tuple[EngineerInfo, ...]
    routing_rules: tuple[RoutingRuleSpec, ...]
    sla: SlaConfig
    ingest: IngestConfig
    path: Path
    fees: FeePolicy = field(default_factory=FeePolicy)
    code_rules: tuple[CodeRule, ...] = ()
    digest: DigestSettings | None = None
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret the configuration holds (masked in the logs)."""
        found = [self.web.secret_key, self.outbound.password, _url_password(self.database.url)]
        if self.mailbox is not None:
            found.append(self.mailbox.password)
        for oauth2 in (self.outbound.oauth2, self.mailbox.oauth2 if self.mailbox else None):
            if oauth2 is not None:
                found += [oauth2.refresh_token, oauth2.client_secret]
        return tuple(s for s in found if s)

    @property
    def support_address(self) -> str:
        """The shared address customers write to."""
        if self.mailbox is not None:
            return self.mailbox.address
        assert self.service.address is not None
        return self.service.address


def _url_password(url: str) -> str:
    try:
        return make_url(url).password or ""
    except ArgumentError:
        return ""


class _Section:
    """Reads one TOML table, recording problems under its key path."""

    def __init__(self, reader: _Reader, data: object, path: str) -> None:
        self.reader = reader
        self.path = path
        self.used: set[str] = set()
        if not isinstance(data, dict):
            reader.problem(path, "expected a table")
            data = {}
        self.data: dict[str, Any] = data

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def _get(self, name: str, kind: type | tuple[type, ...], label: str, default: Any) -> Any:
        self.used.add(name)
        if name not in self.data:
            return default
        value = self.data[name]
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            self.reader.problem(self.key(name), f"expected {label}, got {value!r}")
            return default
        if not isinstance(value, kind):
            self.reader.problem(self.key(name), f"expected {label}, got {value!r}")
            return default
        return value

    def string(self, name: str, default: str | None = None, *, required: bool = False) -> Any:
        value = self._get(name, str, "a string", default)
        if required and name not in self.data:
            self.reader.problem(self.key(name), "missing")
        return value

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = self._get(name, int, "an integer", default)
        if not low <= value <= high:
            self.reader.problem(self.key(name), f"must be between {low} and {high}")
            return default
        return int(value)

    def number(self, name: str, default: float, low: float) -> float:
        value = self._get(name, (int, float), "a number", default)
        if value < low:
            self.reader.problem(self.key(name), f"must be at least {low:g}")
            return default
        return float(value)

    def boolean(self, name: str, default: bool) -> bool:
        return bool(self._get(name, bool, "true or false", default))

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self.string(name, default)
        if value not in choices:
            self.reader.problem(self.key(name), f"must be one of {', '.join(choices)}")
            return default
        return str(value)

    def words(self, name: str) -> tuple[str, ...]:
        value = self._get(name, (str, list), "a string or a list of strings", [])
        items = [value] if isinstance(value, str) else value
        if not all(isinstance(item, str) and item.strip() for item in items):
            self.reader.problem(self.key(name), "expected non-empty strings")
            return ()
        return tuple(item.strip().lower() for item in items)

    def networks(self, name: str) -> tuple[Network, ...]:
        """A list of IP addresses or CIDR networks (``"192.0.2.25"``, ``"10.1.0.0/16"``)."""
        found: list[Network] = []
        for index, item in enumerate(self._get(name, list, "a list of strings", [])):
            network = _network(item)
            if isinstance(network, str):
                self.reader.problem(f"{self.key(name)}[{index}]", network)
            else:
                found.append(network)
        return tuple(found)

    def secret(self, name: str, *, required: bool) -> str:
        """``name``, ``name_env`` or ``name_file``: exactly one of them."""
        given = [k for k in (name, f"{name}_env", f"{name}_file") if k in self.data]
        self.used.update({name, f"{name}_env", f"{name}_file"})
        if len(given) > 1:
            self.reader.problem(self.key(name), f"give only one of {', '.join(given)}")
            return ""
        if not given:
            if required:
                self.reader.problem(
                    self.key(name), f"missing (set {name}, {name}_env or {name}_file)"
                )
            return ""
        key = given[0]
        value = self.data[key]
        if not isinstance(value, str):
            self.reader.problem(self.key(key), "expected a string")
            return ""
        if key.endswith("_env"):
            if value not in self.reader.environ:
                self.reader.problem(self.key(key), f"environment variable {value} is not set")
                return ""
            return self.reader.environ[value]
        if key.endswith("_file"):
            path = self.reader.resolve(value)
            try:
                return path.read_text(encoding="utf-8").strip()
            except OSError as exc:
                self.reader.problem(self.key(key), f"cannot read {path}: {exc.strerror}")
                return ""
        return value

    def path_value(self, name: str, default: str | None) -> Path | None:
        value = self.string(name, default)
        return self.reader.resolve(value) if value else None

    def finish(self) -> None:
        for unknown in sorted(set(self.data) - self.used):
            self.reader.problem(self.key(unknown), unknown_key(unknown, self.used))


def unknown_key(name: str, known: set[str]) -> str:
    """The problem of an unknown key, suggesting the closest known one."""
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f"unknown key (did you mean `{close[0]}`?)" if close else "unknown key"


def _network(item: object) -> Network | str:
    """``item`` as an IP network, or what is wrong with it."""
    if isinstance(item, str):
        try:
            return ipaddress.ip_network(item.strip())
        except ValueError:
            try:
                loose = ipaddress.ip_network(item.strip(), strict=False)
            except ValueError:
                pass
            else:
                return f"{item!r} has host bits set (did you mean {loose}?)"
    return f"expected an IP address or network, got {item!r}"


class _Reader:
    def __init__(self, path: Path, environ: Mapping[str, str]) -> None:
        self.base = path.resolve().parent
        self.environ = environ
        self.problems: list[str] = []

    def problem(self, key: str, text: str) -> None:
        self.problems.append(f"{key}: {text}")

    def resolve(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base / path

    def section(self, root: dict[str, Any], name: str, used: set[str]) -> _Section:
        used.add(name)
        return _Section(self, root.get(name, {}), name)

    def email(self, key: str, value: str | None) -> str:
        if value is None:
            return ""
        if not _EMAIL.match(value):
            self.problem(key, f"not an email address: {value!r}")
        return value.lower()

    def listen(self, key: str, value: str) -> None:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            self.problem(key, f"expected host:port, got {value!r}")


def load_config(
    path: Path, environ: Mapping[str, str] = os.environ, *, ignore: tuple[str, ...] = ()
) -> Config:
    """Read and validate ``path``; raises ``ConfigError`` listing every problem, but
    those of the keys in ``ignore`` (``ticketd oauth2 authorize`` has no refresh token yet)."""
    reader = _Reader(path, environ)
    try:
        root = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path.name}: invalid TOML: {exc}"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read: {exc}"]) from None
    used: set[str] = set()
    service = _service(reader.section(root, "service", used), reader)
    database = _database(reader.section(root, "database", used), reader)
    mailbox = _mailbox(reader, root, used)
    listener = _listener(reader, root, used)
    outbound = _outbound(reader.section(root, "outbound", used), reader)
    web = _web(reader.section(root, "web", used), reader)
    security = _security(reader.section(root, "security", used))
    engineers = _engineers(reader, root, used, service.timezone)
    rules = _rules(reader, root, used, engineers)
    sla = _sla(reader.section(root, "sla", used))
    ingest = _ingest(reader.section(root, "ingest", used))
    fees = _fees(reader, reader.section(root, "fees", used))
    code_rules = _code_rules(reader.section(root, "codes", used), reader)
    digest = _optional(reader, root, "digest", used, lambda s: _digest(s, service, engineers))
    retention = _retention(reader.section(root, "retention", used))
    for unknown in sorted(set(root) - used):
        reader.problem(unknown, unknown_key(unknown, used))
    if mailbox is None and not service.address:
        reader.problem("service.address", "missing: set mailbox.address or service.address")
    problems = [p for p in reader.problems if p.partition(":")[0] not in ignore]
    if problems:
        raise ConfigError(problems)
    return Config(
        service,
        database,
        mailbox,
        listener,
        outbound,
        web,
        security,
        engineers,
        rules,
        sla,
        ingest,
        path.resolve(),
        fees,
        code_rules,
        digest,
        retention,
    )


def _service(s: _Section, reader: _Reader) -> ServiceConfig:
    prefix = s.string("tracking_prefix", "SUP")
    if not re.fullmatch(r"[A-Z]{2,5}", prefix or ""):
        reader.problem(s.key("tracking_prefix"), "must be 2-5 capital letters")
    timezone = s.string("timezone", "UTC")
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        reader.problem(s.key("timezone"), f"unknown time zone {timezone!r}")
    address = s.string("address")
    config = ServiceConfig(
        name=s.string("name", "Support"),
        tracking_prefix=prefix,
        language=s.choice("language", ("ko", "en"), "en"),
        timezone=timezone,
        address=reader.email(s.key("address"), address) if address else None,
        autoreply_limit_per_hour=s.integer("autoreply_limit_per_hour", 5, 0, 1000),
        templates=s.path_value("templates", None),
        log_format=s.choice("log_format", ("text", "json"), "text"),
        log_level=s.choice("log_level", ("debug", "info", "warning", "error"), "info"),
    )
    if config.templates is not None and not config.templates.is_dir():
        reader.problem(s.key("templates"), f"no such folder: {config.templates}")
    s.finish()
    return config


def _database(s: _Section, reader: _Reader) -> DatabaseConfig:
    url = s.secret("url", required=False) or "sqlite:///var/ticketd.db"
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        relative = url.removeprefix("sqlite:///")
        if relative and relative != ":memory:":
            url = f"sqlite:///{reader.resolve(relative)}"
    elif not re.match(r"^(sqlite|postgresql)(\+\w+)?://", url):
        reader.problem(s.key("url"), "expected a sqlite:/// or postgresql+psycopg:// URL")
    s.finish()
    return DatabaseConfig(url)


def _optional(
    reader: _Reader,
    root: dict[str, Any],
    name: str,
    used: set[str],
    build: Callable[[_Section], Any],
) -> Any:
    if name not in root:
        used.add(name)
        return None
    section = reader.section(root, name, used)
    value = build(section)
    section.finish()
    return value


def _mailbox(reader: _Reader, root: dict[str, Any], used: set[str]) -> MailboxConfig | None:
    def build(s: _Section) -> MailboxConfig:
        oauth2 = _oauth2(s, reader, "imap")
        return MailboxConfig(
            address=reader.email(s.key("address"), s.string("address", required=True)),
            host=s.string("host", required=True) or "",
            port=s.integer("port", 993, 1, 65535),
            security=s.choice("security", ("ssl", "starttls", "none"), "ssl"),
            username=s.string("username", required=True) or "",
            password=s.secret("password", required=oauth2 is None),
            folder=s.string("folder", "INBOX"),
            poll_interval=s.number("poll_interval", 30, 1),
            idle=s.boolean("idle", True),
            start=s.choice("start", ("all", "now"), "all"),
            batch_size=s.integer("batch_size", 250, 1, 10_000),
            cafile=s.path_value("cafile", None),
            oauth2=oauth2,
        )

    return _optional(reader, root, "mailbox", used, build)  # type: ignore[no-any-return]


def _listener(reader: _Reader, root: dict[str, Any], used: set[str]) -> ListenerConfig | None:
    def build(s: _Section) -> ListenerConfig:
        listen = s.string("listen", "127.0.0.1:2525")
        reader.listen(s.key("listen"), listen)
        settings = ListenerSettings(
            max_message_size=s.integer("max_message_size", 25 * MIB, 1024, 1024 * MIB),
            max_sessions=s.integer("max_sessions", 100, 1, 100_000),
            max_sessions_per_peer=s.integer("max_sessions_per_peer", 20, 1, 100_000),
            timeout_seconds=s.number("timeout_seconds", 60, 1),
            max_session_seconds=s.number("max_session_seconds", 600, 1),
            trusted_relays=s.networks("trusted_relays"),
        )
        return ListenerConfig(listen, settings)

    return _optional(reader, root, "smtp_listener", used, build)  # type: ignore[no-any-return]


def _outbound(s: _Section, reader: _Reader) -> OutboundConfig:
    sender = s.string("from", required=True) or ""
    config = OutboundConfig(
        transport=s.choice("transport", ("smtp", "maildir"), "maildir"),
        from_=sender,
        host=s.string("host", "127.0.0.1"),
        port=s.integer("port", 25, 1, 65535),
        security=s.choice("security", ("ssl", "starttls", "none"), "none"),
        username=s.string("username", ""),
        password=s.secret("password", required=False),
        maildir=s.path_value("maildir", "var/outbox") or Path("var/outbox"),
        cafile=s.path_value("cafile", None),
        timeout=s.number("timeout", 30, 1),
        retry_seconds=s.number("retry_seconds", 30, 1),
        oauth2=_oauth2(s, reader, "smtp"),
    )
    if sender and "@" not in sender:
        reader.problem(s.key("from"), f"not a mail address: {sender!r}")
    s.finish()
    return config


def _oauth2(s: _Section, reader: _Reader, protocol: str) -> OAuth2Settings | None:
    """``auth = "oauth2"`` and its ``oauth2_*`` keys (provider presets for the URLs and
    scope), or None for password login."""
    if s.choice("auth", ("password", "oauth2"), "password") != "oauth2":
        return None
    provider = s.choice("oauth2_provider", ("google", "microsoft", "custom"), "custom")
    preset = PROVIDERS.get(provider)
    tenant = s.string("oauth2_tenant", "common")
    if preset is not None:
        token_url = preset.token_url.format(tenant=tenant)
        authorize_url = preset.authorize_url.format(tenant=tenant)
        device_url = preset.device_url.format(tenant=tenant)
        scope = preset.imap_scope if protocol == "imap" else preset.smtp_scope
    else:
        token_url = authorize_url = device_url = scope = ""
    token_url = s.string("oauth2_token_url", token_url, required=preset is None)
    if token_url and not re.match(r"^https?://", token_url):
        reader.problem(s.key("oauth2_token_url"), "must start with https:// or http://")
    settings = OAuth2Settings(
        token_url=token_url or "",
        client_id=s.string("oauth2_client_id", required=True) or "",
        refresh_token=s.secret("oauth2_refresh_token", required=True),
        client_secret=s.secret("oauth2_client_secret", required=False),
        scope=s.string("oauth2_scope", scope),
        mechanism=s.choice("oauth2_mechanism", MECHANISMS, "xoauth2"),
        authorize_url=s.string("oauth2_authorize_url", authorize_url),
        device_url=s.string("oauth2_device_url", device_url),
        key=s.key("oauth2_refresh_token"),
    )
    if not s.string("username"):
        reader.problem(s.key("username"), "missing: the account to log in as with OAuth2")
    return settings


def _web(s: _Section, reader: _Reader) -> WebConfig:
    listen = s.string("listen", "127.0.0.1:8080")
    reader.listen(s.key("listen"), listen)
    base_url = s.string("base_url", "http://127.0.0.1:8080")
    if not re.match(r"^https?://", base_url):
        reader.problem(s.key("base_url"), "must start with http:// or https://")
    secret = s.secret("secret_key", required=True)
    if secret and len(secret) < 16:
        reader.problem(s.key("secret_key"), "too short: use at least 16 characters")
    config = WebConfig(
        listen=listen,
        base_url=base_url,
        secret_key=secret,
        show_owner=s.choice("show_owner", ("person", "team"), "person"),
        team_name=s.string("team_name", ""),
        rate_limit_per_minute=s.integer("rate_limit_per_minute", 60, 1, 100_000),
        staff_session_hours=s.number("staff_session_hours", 12.0, 0.25),
        trusted_proxies=tuple(str(n) for n in s.networks("trusted_proxies")),
        event_loop=s.choice("event_loop", ("asyncio", "uvloop"), "uvloop"),
    )
    s.finish()
    return config


def _security(s: _Section) -> SecurityConfig:
    config = SecurityConfig(trusted_authserv_ids=s.words("trusted_authserv_ids"))
    s.finish()
    return config


def _table_list(reader: _Reader, value: object, key: str) -> list[object]:
    if not isinstance(value, list):
        reader.problem(key, "expected an array of tables ([[...]])")
        return []
    return value


def _engineers(
    reader: _Reader, root: dict[str, Any], used: set[str], timezone: str
) -> tuple[EngineerInfo, ...]:
    used.add("engineers")
    found: list[EngineerInfo] = []
    for index, item in enumerate(_table_list(reader, root.get("engineers", []), "engineers")):
        s = _Section(reader, item, f"engineers[{index}]")
        email = reader.email(s.key("email"), s.string("email", required=True))
        if email and any(e.email == email for e in found):
            reader.problem(s.key("email"), f"{email} is listed twice")
        found.append(
            EngineerInfo(
                email=email,
                name=s.string("name", email.partition("@")[0]),
                role=Role(s.choice("role", ("agent", "manager"), "agent")),
                teams=s.words("teams"),
                available=s.boolean("available", True),
                away_until=_away_until(s, timezone),
            )
        )
        s.finish()
    if not found:
        reader.problem("engineers", "at least one [[engineers]] entry is needed")
    return tuple(found)


def _away_until(s: _Section, timezone: str) -> datetime | None:
    """``away_until = "2027-01-10"``: away through that day in the service's timezone."""
    value = s._get("away_until", (str, date), "a date (YYYY-MM-DD)", None)
    if value is None:
        return None
    try:
        if isinstance(value, datetime):
            raise ValueError
        day = value if isinstance(value, date) else date.fromisoformat(value)
    except ValueError:
        s.reader.problem(s.key("away_until"), f"expected a date (YYYY-MM-DD), got {value!r}")
        return None
    try:
        return back_at(day, timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return back_at(day, "UTC")


def _rules(
    reader: _Reader, root: dict[str, Any], used: set[str], engineers: tuple[EngineerInfo, ...]
) -> tuple[RoutingRuleSpec, ...]:
    used.add("routing")
    routing = _Section(reader, root.get("routing", {}), "routing")
    routing.used.add("rules")
    routing.finish()
    rules: list[RoutingRuleSpec] = []
    items = _table_list(reader, routing.data.get("rules", []), "routing.rules")
    teams = {team for engineer in engineers for team in engineer.teams}
    for index, item in enumerate(items):
        s = _Section(reader, item, f"routing.rules[{index}]")
        owner, team = s.string("owner"), s.string("team")
        rule = RoutingRuleSpec(
            from_domain=s.words("from_domain"),
            from_address=s.words("from_address"),
            subject_contains=s.words("subject_contains"),
            body_contains=s.words("body_contains"),
            owner=owner.lower() if owner else None,
            team=team.lower() if team else None,
        )
        s.finish()
        conditions = (
            rule.from_domain,
            rule.from_address,
            rule.subject_contains,
            rule.body_contains,
        )
        if not any(conditions):
            reader.problem(
                s.path,
                "needs a condition (from_domain, from_address, subject_contains or body_contains)",
            )
        if bool(owner) == bool(team):
            reader.problem(s.path, "needs exactly one of owner or team")
        if rule.owner and rule.owner not in {e.email for e in engineers}:
            reader.problem(s.key("owner"), f"{rule.owner} is not an engineer")
        if rule.team and rule.team not in teams:
            reader.problem(s.key("team"), f"no engineer is in team {rule.team!r}")
        rules.append(rule)
    return tuple(rules)


def _code_rules(codes: _Section, reader: _Reader) -> tuple[CodeRule, ...]:
    """``[[codes.rules]]``: a code path that does not exist yet is fine (codes live in the
    database); a malformed one is not."""
    codes.used.add("rules")
    codes.finish()
    rules: list[CodeRule] = []
    for index, item in enumerate(_table_list(reader, codes.data.get("rules", []), "codes.rules")):
        s = _Section(reader, item, f"codes.rules[{index}]")
        when = RoutingRuleSpec(
            subject_contains=s.words("subject_contains"),
            body_contains=s.words("body_contains"),
        )
        written = s.string("code", required=True) or ""
        mode = CodeRuleMode(s.choice("mode", tuple(m.value for m in CodeRuleMode), "suggest"))
        s.finish()
        if not (when.subject_contains or when.body_contains):
            reader.problem(s.path, "needs subject_contains or body_contains")
        path = parse_path(written)
        if not written:
            continue
        if isinstance(path, Refusal):
            reader.problem(s.key("code"), path.reason)
            continue
        rules.append(CodeRule(when, "/".join(path), mode))
    return tuple(rules)


def _sla(s: _Section) -> SlaConfig:
    country = s.string("holidays")
    if country is not None and country not in holidays.list_supported_countries():
        s.reader.problem(s.key("holidays"), f"unknown country code {country!r}")
        country = None
    config = SlaConfig(
        first_response_hours=s.number("first_response_hours", 24, 0.01),
        auto_close_days=s.number("auto_close_days", 7, 0.01),
        business_hours=_business_hours(s),
        holidays=country,
        extra_holidays=_dates(s, "extra_holidays"),
        extra_workdays=_dates(s, "extra_workdays"),
        priority_hours=_priority_hours(s),
        next_response_hours=s.number("next_response_hours", 0, 0) or None,
        waiting_reminder_days=s.number("waiting_reminder_days", 3, 0),
        waiting_close_days=s.number("waiting_close_days", 4, 0),
    )
    s.finish()
    return config


def _business_hours(s: _Section) -> dict[str, tuple[Range, ...]] | None:
    """``{ mon = "09:00-18:00", …, sun = "" }``: a day left out is closed."""
    table = s._get("business_hours", dict, "a table of weekdays", None)
    if table is None:
        return None
    week: dict[str, tuple[Range, ...]] = {}
    for day, text in table.items():
        key = f"{s.key('business_hours')}.{day}"
        ranges = parse_ranges(text) if isinstance(text, str) else "expected a string"
        if day not in WEEKDAYS:
            s.reader.problem(key, f"unknown day (expected one of {', '.join(WEEKDAYS)})")
        elif isinstance(ranges, str):
            s.reader.problem(key, ranges)
        else:
            week[day] = ranges
    if not any(week.values()):
        s.reader.problem(s.key("business_hours"), "no day is open")
    return week


def _dates(s: _Section, name: str) -> frozenset[date]:
    found: set[date] = set()
    for index, item in enumerate(s._get(name, list, "a list of dates", [])):
        try:
            found.add(item if isinstance(item, date) else date.fromisoformat(item))
        except (TypeError, ValueError):
            s.reader.problem(
                f"{s.key(name)}[{index}]", f"expected a date (YYYY-MM-DD), got {item!r}"
            )
    return frozenset(found)


def _priority_hours(s: _Section) -> dict[Priority, float]:
    table = s._get("priority_hours", dict, "a table of priorities", {})
    hours: dict[Priority, float] = {}
    for name, value in table.items():
        key = f"{s.key('priority_hours')}.{name}"
        if name not in set(Priority):
            s.reader.problem(key, f"unknown priority (expected one of {', '.join(Priority)})")
        elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0.01:
            s.reader.problem(key, f"expected a number of hours, got {value!r}")
        else:
            hours[Priority(name)] = float(value)
    return hours


def _digest(
    s: _Section, service: ServiceConfig, engineers: tuple[EngineerInfo, ...]
) -> DigestSettings | None:
    """``[digest]``: absent or without ``time``, no digest."""
    at = s.string("time")
    language = s.choice("language", ("ko", "en"), service.language)
    days = s.words("weekdays") or WEEKDAYS
    listed = s.words("recipients")
    if unknown := sorted(set(days) - set(WEEKDAYS)):
        known = ", ".join(WEEKDAYS)
        s.reader.problem(s.key("weekdays"), f"unknown weekday {unknown[0]!r}: use {known}")
    names = {e.email: e.name for e in engineers}
    emails = [s.reader.email(s.key("recipients"), email) for email in listed] or [
        e.email for e in engineers if e.role is Role.MANAGER
    ]
    if at is None:
        return None
    if not emails:
        s.reader.problem(s.key("recipients"), "no manager is configured: list the recipients")
    if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", at):
        s.reader.problem(s.key("time"), f"expected HH:MM (00:00-23:59), got {at!r}")
        return None
    return DigestSettings(
        at=dt_time(int(at[:2]), int(at[3:])),
        timezone=service.timezone,
        language=language,
        recipients=tuple(Address(email, names.get(email, "")) for email in dict.fromkeys(emails)),
        weekdays=frozenset(WEEKDAYS.index(day) for day in days if day in WEEKDAYS),
    )


def _ingest(s: _Section) -> IngestConfig:
    config = IngestConfig(
        max_attachment_bytes=s.integer("max_attachment_bytes", 10 * MIB, 1024, 1024 * MIB),
        parse_workers=s.integer("parse_workers", 1, 0, 16),
        acknowledge_max_age_hours=s.number("acknowledge_max_age_hours", 72, 0),
        notice_attachment_bytes=s.integer("notice_attachment_bytes", 10 * MIB, 0, 1024 * MIB),
    )
    s.finish()
    return config


def _fees(reader: _Reader, s: _Section) -> FeePolicy:
    """``[fees]`` and its ``[[fees.customers]]``: rates per hour, in an ISO 4217 currency."""
    currency = _currency(s, "currency", "KRW")
    customers: list[CustomerRate] = []
    s.used.add("customers")
    for index, item in enumerate(
        _table_list(reader, s.data.get("customers", []), s.key("customers"))
    ):
        entry = _Section(reader, item, f"{s.key('customers')}[{index}]")
        domain = str(entry.string("domain", "", required=True)).strip().lower().lstrip("@.")
        if "domain" in entry.data and not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", domain):
            reader.problem(entry.key("domain"), f"not a domain: {domain!r}")
        if domain and any(c.domain == domain for c in customers):
            reader.problem(entry.key("domain"), f"{domain} is listed twice")
        customers.append(
            CustomerRate(
                domain,
                _rate(entry, "rate", required=True),
                _currency(entry, "currency", currency),
                entry.string("name", ""),
            )
        )
        entry.finish()
    policy = FeePolicy(
        currency=currency,
        default_rate=_rate(s, "default_rate"),
        minimum_minutes=s.integer("minimum_minutes", 0, 0, 24 * 60),
        increment_minutes=s.integer("increment_minutes", 1, 1, 24 * 60),
        free_types=_free_types(s),
        free_codes=tuple(code.strip("/") for code in s.words("free_codes")),
        notify_customer=s.boolean("notify_customer", False),
        customers=tuple(customers),
    )
    s.finish()
    return policy


def _free_types(s: _Section) -> tuple[str, ...]:
    found = s.words("free_types")
    for kind in found:
        if kind not in TYPES:
            s.reader.problem(s.key("free_types"), f"unknown type {kind!r} ({', '.join(TYPES)})")
    return found


def _currency(s: _Section, name: str, default: str) -> str:
    code = str(s.string(name, default)).strip().upper()
    if not is_currency(code):
        s.reader.problem(s.key(name), f"not an ISO 4217 currency code: {code!r}")
        return default
    return code


def _rate(s: _Section, name: str, *, required: bool = False) -> Decimal:
    """A non-negative rate per hour, exactly as written (``27.5`` is 27.50, not a float)."""
    if required and name not in s.data:
        s.reader.problem(s.key(name), "missing")
    return Decimal(str(s.data[name])) if s.number(name, 0, 0) else Decimal(0)


def _retention(s: _Section) -> RetentionPolicy:
    config = RetentionPolicy(
        raw_mail_days=s.integer("raw_mail_days", 0, 0, 100_000),
        attachments_days=s.integer("attachments_days", 0, 0, 100_000),
    )
    s.finish()
    return config
