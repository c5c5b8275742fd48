"""Processing an inbox event: update the contact, enroll it in the campaigns it triggers.

Idempotent: the event is marked processed in the same transaction as its effects, and a processed
event is skipped; enrollments are unique per (campaign, event, contact). Safe to retry.
"""

from __future__ import annotations

import logging
from uuid import UUID

from sqlalchemy import select

from relance.automation.events import DomainEvent, EventType
from relance.automation.matching import should_enroll
from relance.runtime import Runtime
from relance.store.models import Event, EventStatus
from relance.store.repositories.contacts import record_order, upsert_contact
from relance.store.repositories.enrollments import (
    create_enrollment,
    definition_of,
    history,
    published_versions,
)
from relance.tasks.leases import LEASE

logger = logging.getLogger(__name__)


def process_event(runtime: Runtime, event_id: UUID) -> list[UUID]:
    """Apply one pending event; returns the ids of the enrollments it created (dispatched)."""
    now = runtime.clock()
    created: list[UUID] = []
    with runtime.sessions() as session, session.begin():
        row = session.scalars(
            select(Event).where(Event.id == event_id).with_for_update()
        ).one_or_none()
        if row is None or row.status != EventStatus.PENDING:
            return []
        event = DomainEvent.model_validate(row.payload)
        contact = upsert_contact(session, row.store_id, event.contact, now)
        if event.type is EventType.ORDER_PLACED and event.order is not None:
            record_order(contact, event.order.total)
        for version in published_versions(session, row.store_id):
            definition = definition_of(version)
            decision = should_enroll(
                definition, event, history(session, version.campaign_id, contact.id)
            )
            if not decision.enroll:
                if decision.reason != "trigger_mismatch":
                    logger.info(
                        "event %s not enrolled in campaign %s: %s",
                        event_id,
                        version.campaign_id,
                        decision.reason,
                    )
                continue
            enrollment_id = create_enrollment(
                session,
                version=version,
                contact_id=contact.id,
                event_id=row.id,
                entry_step=definition.entry_step,
                context=event.context(),
                now=now,
                lease_until=now + LEASE,
            )
            if enrollment_id is not None:
                created.append(enrollment_id)
        row.contact_id = contact.id
        row.status = EventStatus.PROCESSED
        row.processed_at = now
        row.lease_until = None
    for enrollment_id in created:
        runtime.dispatcher.advance_enrollment(enrollment_id)
    return created
