"""Event intake: record a domain event durably, then hand its id to a worker.

This is the webhook hot path: one insert, one commit, one enqueue. Recording is idempotent on
(store, idempotency key): a duplicate delivery records nothing and reports ``duplicate=True``.
If the enqueue is lost, the sweep finds the pending event again (SPEC.md §7).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import select
from sqlalchemy.orm import Session

from relance.automation.events import DomainEvent
from relance.runtime import Runtime
from relance.store.models import Event, EventStatus
from relance.store.upsert import insert_ignoring_conflict
from relance.tasks.leases import LEASE


@dataclass(frozen=True, slots=True)
class Accepted:
    """The inbox row's id, and whether the event had been recorded before."""

    event_id: UUID
    duplicate: bool


def record_event(
    session: Session, store_id: UUID, event: DomainEvent, *, event_id: UUID, now: datetime
) -> Accepted:
    """Insert ``event`` into the inbox unless its idempotency key is there already.

    The new row is leased for :data:`~relance.tasks.leases.LEASE` because its id is about to be
    dispatched; the sweep picks it up only if that dispatch is lost.
    """
    values = {
        "id": event_id,
        "store_id": store_id,
        "type": event.type.value,
        "idempotency_key": event.idempotency_key,
        "occurred_at": event.occurred_at,
        "payload": event.model_dump(mode="json"),
        "status": EventStatus.PENDING,
        "received_at": now,
        "lease_until": now + LEASE,
    }
    if insert_ignoring_conflict(session, Event, values, ["store_id", "idempotency_key"]):
        return Accepted(event_id=event_id, duplicate=False)
    existing = session.scalars(
        select(Event.id).where(
            Event.store_id == store_id, Event.idempotency_key == event.idempotency_key
        )
    ).one()
    return Accepted(event_id=existing, duplicate=True)


def accept_event(runtime: Runtime, store_id: UUID, event: DomainEvent) -> Accepted:
    """Record ``event`` for ``store_id`` and dispatch it. Idempotent; safe to retry.

    Raises SQLAlchemy's ``DBAPIError`` when the database cannot be reached (callers answer 503).
    """
    with runtime.sessions() as session, session.begin():
        accepted = record_event(session, store_id, event, event_id=uuid4(), now=runtime.clock())
        already_done = (
            accepted.duplicate
            and session.scalar(select(Event.status).where(Event.id == accepted.event_id))
            != EventStatus.PENDING
        )
    if not already_done:
        runtime.dispatcher.process_event(accepted.event_id)
    return accepted
