"""Broker set-up: Redis in production, an in-process stub broker in embedded mode."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from relance.settings import Settings


def create_broker(settings: Settings) -> dramatiq.Broker:
    """A Redis broker for ``RELANCE_BROKER_URL``, or an in-process one when it is empty."""
    if settings.embedded_broker:
        broker: dramatiq.Broker = StubBroker()
        broker.emit_after("process_boot")
        return broker
    redis_broker: dramatiq.Broker = RedisBroker(  # type: ignore[no-untyped-call]
        url=settings.broker_url, namespace="relance"
    )
    return redis_broker
