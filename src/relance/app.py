"""ASGI assembly: routes from every room, plus the embedded background services.

Embedded mode (no ``RELANCE_BROKER_URL``) runs the Dramatiq worker and the sweep inside the web
process; with no ``RELANCE_SMTP_URL`` it also runs the local SMTP sink whose mail is readable at
``/mailbox``. In production (Redis broker) the web process only records and enqueues: workers
(``relance worker``) do the rest, so any number of web processes can run side by side.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

import dramatiq
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from relance.bootstrap import Process, build_process
from relance.channels.sink import MailSink
from relance.handlers import admin_page, generic, health, mailbox, saleor
from relance.handlers import graphql as graphql_handlers
from relance.handlers import twilio as twilio_handlers
from relance.settings import Settings, get_settings
from relance.tasks.sweep import SweepThread

logger = logging.getLogger(__name__)


@dataclass
class EmbeddedServices:
    """The background parts of embedded mode, started and stopped with the app."""

    process: Process
    sink: MailSink | None = None
    worker: dramatiq.Worker | None = None
    sweeper: SweepThread | None = None
    started: list[str] = field(default_factory=list)

    def start(self) -> None:
        settings = self.process.runtime.settings
        if settings.embedded_smtp:
            self.sink = MailSink(settings.mailbox_dir, port=settings.sink_port)
            self.sink.start()
            self.started.append(f"SMTP sink on 127.0.0.1:{settings.sink_port}")
        if settings.embedded_broker:
            self.worker = dramatiq.Worker(
                self.process.broker, worker_threads=settings.worker_threads, worker_timeout=100
            )
            self.worker.start()
            self.sweeper = SweepThread(self.process.runtime, settings.sweep_interval)
            self.sweeper.start()
            self.started.append(f"in-process worker ({settings.worker_threads} threads)")

    def stop(self) -> None:
        if self.sweeper is not None:
            self.sweeper.stop()
        if self.worker is not None:
            self.worker.stop()
        if self.sink is not None:
            with suppress(Exception):
                self.sink.stop()
        self.process.runtime.engine.dispose()


def routes(settings: Settings) -> list[BaseRoute]:
    """Every HTTP route relance serves under these settings."""
    found: list[BaseRoute] = [
        *health.routes(),
        *saleor.routes(),
        *generic.routes(),
        *twilio_handlers.routes(),
        *graphql_handlers.routes(),
        *admin_page.routes(),
    ]
    if settings.embedded_smtp:
        found += mailbox.routes()
    return found


def create_app(settings: Settings | None = None, *, process: Process | None = None) -> Starlette:
    """The relance ASGI app. Builds its process from ``settings`` unless one is given."""
    settings = settings or get_settings()
    process = process or build_process(settings)
    services = EmbeddedServices(process)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        services.start()
        for line in services.started:
            logger.info("started %s", line)
        try:
            yield
        finally:
            services.stop()

    app = Starlette(routes=routes(settings), lifespan=lifespan)
    app.state.runtime = process.runtime
    app.state.process = process
    return app


def app_from_env() -> Starlette:
    """Factory for ``uvicorn --factory relance.app:app_from_env``."""
    return create_app()
