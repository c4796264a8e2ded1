"""Loading and validating the TOML configuration (CONTRACT section 2).

Every problem is collected, each naming its key (``mailbox.hostt: unknown key``), before
one ``ConfigError`` is raised. Secrets may be given as ``X``, ``X_env`` or ``X_file``;
relative paths are relative to the config file.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ticketd.mail.smtp_guard import ListenerSettings, Network
from ticketd.routing.model import EngineerInfo, Role, RoutingRuleSpec
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


@dataclass(frozen=True)
class WebConfig:
    listen: str
    base_url: str
    secret_key: str = field(repr=False)
    show_owner: str = "person"
    team_name: str = ""
    rate_limit_per_minute: int = 60
    staff_session_hours: float = 12.0


@dataclass(frozen=True)
class SecurityConfig:
    trusted_authserv_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class SlaConfig:
    first_response_hours: float = 24.0
    auto_close_days: float = 7.0


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
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret the configuration holds (masked in the logs)."""
        found = [self.web.secret_key, self.outbound.password, _url_password(self.database.url)]
        if self.mailbox is not None:
            found.append(self.mailbox.password)
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
            self.reader.problem(self.key(unknown), "unknown key")


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


def load_config(path: Path, environ: Mapping[str, str] = os.environ) -> Config:
    """Read and validate ``path``; raises ``ConfigError`` listing every problem."""
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
    engineers = _engineers(reader, root, used)
    rules = _rules(reader, root, used, engineers)
    sla = _sla(reader.section(root, "sla", used))
    ingest = _ingest(reader.section(root, "ingest", used))
    retention = _retention(reader.section(root, "retention", used))
    for unknown in sorted(set(root) - used):
        reader.problem(unknown, "unknown key")
    if mailbox is None and not service.address:
        reader.problem("service.address", "missing: set mailbox.address or service.address")
    if reader.problems:
        raise ConfigError(reader.problems)
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
        return MailboxConfig(
            address=reader.email(s.key("address"), s.string("address", required=True)),
            host=s.string("host", required=True) or "",
            port=s.integer("port", 993, 1, 65535),
            security=s.choice("security", ("ssl", "starttls", "none"), "ssl"),
            username=s.string("username", required=True) or "",
            password=s.secret("password", required=True),
            folder=s.string("folder", "INBOX"),
            poll_interval=s.number("poll_interval", 30, 1),
            idle=s.boolean("idle", True),
            start=s.choice("start", ("all", "now"), "all"),
            batch_size=s.integer("batch_size", 250, 1, 10_000),
            cafile=s.path_value("cafile", None),
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
    )
    if sender and "@" not in sender:
        reader.problem(s.key("from"), f"not a mail address: {sender!r}")
    s.finish()
    return config


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


def _engineers(reader: _Reader, root: dict[str, Any], used: set[str]) -> tuple[EngineerInfo, ...]:
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
            )
        )
        s.finish()
    if not found:
        reader.problem("engineers", "at least one [[engineers]] entry is needed")
    return tuple(found)


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


def _sla(s: _Section) -> SlaConfig:
    config = SlaConfig(
        first_response_hours=s.number("first_response_hours", 24, 0.01),
        auto_close_days=s.number("auto_close_days", 7, 0.01),
    )
    s.finish()
    return config


def _ingest(s: _Section) -> IngestConfig:
    config = IngestConfig(
        max_attachment_bytes=s.integer("max_attachment_bytes", 10 * MIB, 1024, 1024 * MIB),
        parse_workers=s.integer("parse_workers", 1, 0, 16),
        acknowledge_max_age_hours=s.number("acknowledge_max_age_hours", 72, 0),
        notice_attachment_bytes=s.integer("notice_attachment_bytes", 10 * MIB, 0, 1024 * MIB),
    )
    s.finish()
    return config


def _retention(s: _Section) -> RetentionPolicy:
    config = RetentionPolicy(
        raw_mail_days=s.integer("raw_mail_days", 0, 0, 100_000),
        attachments_days=s.integer("attachments_days", 0, 0, 100_000),
    )
    s.finish()
    return config
