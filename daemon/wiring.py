"""Composition root: builds every component from a validated ``Config``."""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parseaddr
from functools import cached_property

from sqlalchemy import Engine

from ticketd.daemon.business_calendar import SlaPolicies
from ticketd.daemon.clock import SystemClock, SystemRng
from ticketd.daemon.config import Config, MailboxConfig
from ticketd.daemon.runner import Ingestor
from ticketd.daemon.telemetry import Telemetry
from ticketd.mail.imap import ImapSettings
from ticketd.mail.message import Address
from ticketd.mail.oauth2 import OAuth2Settings, TokenSource
from ticketd.mail.parse import ParseLimits
from ticketd.mail.transport import MaildirTransport, SmtpTransport, Transport
from ticketd.notifications.notices import NoticeFactory, NoticeSettings
from ticketd.notifications.render import Renderer
from ticketd.routing.labels import LANGUAGES
from ticketd.routing.pipeline import RoutingContext
from ticketd.routing.ports import Clock, Rng
from ticketd.routing.schedule import ScheduleSettings
from ticketd.store.db import Store, make_engine, migrate
from ticketd.store.pages import PageFacts, PagePublisher
from ticketd.web.pages import PageRenderer
from ticketd.web.ports import TicketPage, WebSettings


@dataclass
class Components:
    """Everything a command needs, built once from the configuration."""

    config: Config
    engine: Engine
    store: Store
    clock: Clock
    rng: Rng
    notices: NoticeFactory
    ingestor: Ingestor
    pages: PagePublisher
    page_renderer: PageRenderer
    telemetry: Telemetry = field(default_factory=Telemetry)

    def close(self) -> None:
        """Stop the parse worker and close database connections."""
        self.ingestor.close()
        self.engine.dispose()

    def transport(self) -> Transport:
        """The outbound transport configured in ``[outbound]``."""
        out = self.config.outbound
        if out.transport == "maildir":
            return MaildirTransport(out.maildir)
        return SmtpTransport(
            out.host,
            out.port,
            out.security,
            username=out.username,
            password=out.password,
            timeout=out.timeout,
            ssl_context=_ssl_context(out.cafile),
            oauth2=self.outbound_tokens,
        )

    @cached_property
    def outbound_tokens(self) -> TokenSource | None:
        """The relay's OAuth2 access tokens, kept across sends."""
        return _token_source(self.config.outbound.oauth2)

    @cached_property
    def mailbox_tokens(self) -> TokenSource | None:
        """The mailbox's OAuth2 access tokens, kept across reconnections."""
        box = self.config.mailbox
        return _token_source(box.oauth2 if box is not None else None)

    @property
    def mailbox(self) -> MailboxConfig | None:
        return self.config.mailbox

    @property
    def mailbox_key(self) -> str:
        """Stable identity of the watched mailbox, for its checkpoint."""
        box = self.config.mailbox
        assert box is not None
        return f"{box.username}@{box.host}:{box.port}/{box.folder}"

    def imap_settings(self) -> ImapSettings:
        box = self.config.mailbox
        assert box is not None
        return ImapSettings(
            host=box.host,
            port=box.port,
            security=box.security,
            username=box.username,
            password=box.password,
            folder=box.folder,
            poll_interval=float(box.poll_interval),
            idle=box.idle,
            ssl_context=_ssl_context(box.cafile),
            oauth2=self.mailbox_tokens,
        )

    def schedule_settings(self) -> ScheduleSettings:
        sla = self.config.sla
        return ScheduleSettings(
            sla.first_response_hours,
            sla.auto_close_days,
            self.config.engineers,
            self.store.sla(),
            sla.waiting_reminder_days,
            sla.waiting_close_days,
        )

    def refresh_pages(self, stop: Callable[[], bool]) -> int:
        """Republish stale status pages (after an upgrade or a configuration change)."""
        return self.pages.refresh_all(self.engine, stop)


def routing_context(config: Config) -> RoutingContext:
    """The core's view of the configuration."""
    return RoutingContext(
        support_address=config.support_address,
        tracking_prefix=config.service.tracking_prefix,
        default_language=config.service.language,
        engineers=config.engineers,
        rules=config.routing_rules,
        autoreply_limit_per_hour=config.service.autoreply_limit_per_hour,
        trusted_authserv_ids=tuple(config.security.trusted_authserv_ids),
        secret_key=config.web.secret_key,
        acknowledge_max_age_hours=config.ingest.acknowledge_max_age_hours,
        base_url=config.web.base_url,
        code_rules=config.code_rules,
    )


def web_settings(config: Config) -> WebSettings:
    """What the web layer needs from the configuration."""
    return WebSettings(
        service_name=config.service.name,
        language=config.service.language,
        timezone=config.service.timezone,
        secret_key=config.web.secret_key,
        tracking_prefix=config.service.tracking_prefix,
        base_url=config.web.base_url,
        show_owner=config.web.show_owner,
        team_name=config.web.team_name,
        rate_limit_per_minute=config.web.rate_limit_per_minute,
        trusted_proxies=config.web.trusted_proxies,
        support_address=config.support_address,
    )


def page_publisher(config: Config) -> tuple[PagePublisher, PageRenderer]:
    """The web's renderer and the store's publisher of status pages, joined: the
    generation names the templates, strings and settings a stored page depends on."""
    renderer = PageRenderer(web_settings(config))
    facts = PageFacts({e.email: e.name for e in config.engineers}, config.sla.first_response_hours)
    generation = hashlib.sha256((renderer.fingerprint() + facts.digest()).encode()).hexdigest()

    def render(page: TicketPage, language: str) -> str:
        return renderer.ticket(page, language, conversation=False)

    publisher = PagePublisher(render, facts, generation[:32], config.service.language, LANGUAGES)
    return publisher, renderer


def build(config: Config, *, notify: bool = True, init: bool = True) -> Components:
    """Wire the engine (migrated when ``init``), notices, pages and the ingest runner."""
    engine = make_engine(config.database.url)
    if init:
        migrate(engine)
    clock, rng = SystemClock(), SystemRng()
    name, email = parseaddr(config.outbound.from_)
    notices = NoticeFactory(
        NoticeSettings(
            service_name=config.service.name,
            support_address=config.support_address,
            sender=Address(email.lower(), name),
            base_url=config.web.base_url,
            secret_key=config.web.secret_key,
            first_response_hours=config.sla.first_response_hours,
            default_language=config.service.language,
            engineer_names={e.email: e.name for e in config.engineers},
            notice_attachment_bytes=config.ingest.notice_attachment_bytes,
            fees=config.fees,
            timezone=config.service.timezone,
        ),
        Renderer.default(config.service.templates),
        rng.token_bytes,
        clock.now,
    )
    pages, page_renderer = page_publisher(config)
    store = Store(
        engine,
        clock.now,
        build_notice=notices.build,
        notify=notify,
        publish=pages.publish,
        sla=SlaPolicies(config.sla, config.service.timezone, clock.now).current,
    )
    ingestor = Ingestor(
        store,
        routing_context(config),
        clock,
        rng,
        limits=ParseLimits(max_attachment_bytes=config.ingest.max_attachment_bytes),
        parse_workers=config.ingest.parse_workers,
    )
    return Components(config, engine, store, clock, rng, notices, ingestor, pages, page_renderer)


def _token_source(settings: OAuth2Settings | None) -> TokenSource | None:
    return TokenSource(settings) if settings is not None else None


def _ssl_context(cafile: object) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cafile) if cafile else None)
