"""Composition root: builds every component from a validated ``Config``."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from email.utils import parseaddr

from sqlalchemy import Engine

from ticketd.daemon.config import Config, MailboxConfig
from ticketd.daemon.ingest import Ingestor
from ticketd.daemon.notices import NoticeFactory, NoticeSettings
from ticketd.daemon.pages import PageFacts, PagePublisher, web_settings
from ticketd.daemon.runtime import SystemClock, SystemRng
from ticketd.mail.imap import ImapSettings
from ticketd.mail.message import Address
from ticketd.mail.parse import ParseLimits
from ticketd.mail.transport import MaildirTransport, SmtpTransport, Transport
from ticketd.notifications.render import Renderer
from ticketd.routing.pipeline import RoutingContext
from ticketd.routing.ports import Clock, Rng
from ticketd.store.db import make_engine, migrate
from ticketd.web.pages import PageRenderer


@dataclass
class Components:
    """Everything a command needs, built once from the configuration."""

    config: Config
    engine: Engine
    clock: Clock
    rng: Rng
    notices: NoticeFactory
    ingestor: Ingestor
    pages: PagePublisher

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
        )

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
        )


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
    )


def build(config: Config, *, notify: bool = True, init: bool = True) -> Components:
    """Wire the engine (migrated when ``init``), notices and the ingest runner."""
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
        ),
        Renderer.default(config.service.templates),
        rng.token_bytes,
        clock.now,
    )
    pages = PagePublisher(PageRenderer(web_settings(config)), PageFacts.of(config))
    ingestor = Ingestor(
        engine,
        routing_context(config),
        notices.build,
        clock,
        rng,
        limits=ParseLimits(max_attachment_bytes=config.ingest.max_attachment_bytes),
        notify=notify,
        parse_workers=config.ingest.parse_workers,
        publish=pages.publish,
    )
    return Components(config, engine, clock, rng, notices, ingestor, pages)


def _ssl_context(cafile: object) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cafile) if cafile else None)
