"""Assembling a process: settings → engine, broker, actors, transport, renderer → Runtime."""

from __future__ import annotations

from dataclasses import dataclass

import dramatiq

from relance.channels.smtp import SmtpTransport
from relance.demo.discounts import DemoDiscountProvider
from relance.plugin.saleor.discounts import SaleorDiscountProvider
from relance.runtime import Runtime
from relance.settings import Settings
from relance.store.crypto import SecretBox
from relance.store.db import create_db_engine, session_factory
from relance.store.models import StoreKind
from relance.tasks.actors import Actors, DramatiqDispatcher, declare_actors, set_runtime
from relance.tasks.broker import create_broker
from relance.templates.library import DesignLibrary
from relance.templates.renderer import EmailRenderer


@dataclass
class Process:
    """What one relance process runs on."""

    runtime: Runtime
    broker: dramatiq.Broker
    actors: Actors


def smtp_url(settings: Settings) -> str:
    """Where email goes: ``RELANCE_SMTP_URL``, or the embedded sink."""
    return settings.smtp_url or f"smtp://127.0.0.1:{settings.sink_port}"


def build_process(settings: Settings) -> Process:
    """Build the runtime, broker and actors for this process, and make them current."""
    settings.check_production()
    broker = create_broker(settings)
    dramatiq.set_broker(broker)
    actors = declare_actors(broker)
    engine = create_db_engine(settings.database_url)
    runtime = Runtime(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        dispatcher=DramatiqDispatcher(actors),
        email_transport=SmtpTransport(smtp_url(settings)),
        renderer=EmailRenderer(DesignLibrary()),
        secrets=SecretBox(settings.secret_key),
        discount_providers={
            StoreKind.DEMO: DemoDiscountProvider(),
            StoreKind.SALEOR: SaleorDiscountProvider(),
        },
    )
    set_runtime(runtime)
    return Process(runtime=runtime, broker=broker, actors=actors)
