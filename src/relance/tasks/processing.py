"""Processing an inbox event: update the contact, apply exit rules, enroll in triggered campaigns.

Idempotent: the event is marked processed in the same transaction as its effects, and a processed
event is skipped; enrollments are unique per (campaign, event, contact). Safe to retry.

Order of effects, in one transaction: the contact is updated from the event (profile, order stats
and purchases, consent for ``newsletter.subscribed``); then every enrollment of the contact in
progress is checked against its campaign's exit rules with the event (an exit rule always wins,
whatever step the enrollment waits at); then each published campaign decides whether the event
enrolls the contact (trigger, test mode, entry filter, entry limit, repeatability).
"""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from relance.automation.conditions import Channel, ConsentStatus
from relance.automation.events import DomainEvent, EventType
from relance.automation.matching import decide_entry
from relance.runtime import Runtime
from relance.store.models import Contact, Event, EventStatus, Store
from relance.store.repositories.contacts import (
    consent_statuses,
    record_purchases,
    reverse_order,
    set_consent,
    upsert_contact,
)
from relance.store.repositories.enrollments import (
    create_enrollment,
    definition_of,
    history,
    published_versions,
)
from relance.store.repositories.erasure import erase_customer
from relance.store.repositories.facts import load_facts, sending_policy
from relance.tasks.exits import apply_exit_rules
from relance.tasks.leases import LEASE

logger = logging.getLogger(__name__)


#: Events that take an order back out of the contact's statistics.
_REVERSING = frozenset({EventType.ORDER_CANCELLED, EventType.ORDER_REFUNDED})


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
        store = session.get(Store, row.store_id)
        assert store is not None
        if event.type is EventType.CUSTOMER_DELETED:
            # the platform deleted the customer: erase, never create a contact to do so
            erase_customer(
                session,
                row.store_id,
                email=event.contact.email,
                platform_user_id=event.contact.platform_user_id,
                now=now,
            )
            _mark_processed(row, now)
            return []
        contact = upsert_contact(session, row.store_id, event.contact, now)
        _update_contact(session, contact, event, row.id, now)
        context = event.context()
        apply_exit_rules(
            session,
            store,
            contact,
            event_type=event.name,
            event_context=context,
            now=now,
        )
        created = _enroll(session, store, contact, event, row.id, context, now)
        row.contact_id = contact.id
        _mark_processed(row, now)
    for enrollment_id in created:
        runtime.dispatcher.advance_enrollment(enrollment_id)
    return created


def _mark_processed(row: Event, now: datetime) -> None:
    row.status = EventStatus.PROCESSED
    row.processed_at = now
    row.lease_until = None


def _update_contact(
    session: Session, contact: Contact, event: DomainEvent, event_id: UUID, now: datetime
) -> None:
    if event.type is EventType.ORDER_PLACED and event.order is not None:
        record_purchases(session, contact, event.order, now)
    elif event.type in _REVERSING and event.order is not None:
        reverse_order(session, contact, event.order, now)
    elif (
        event.type is EventType.NEWSLETTER_SUBSCRIBED
        and consent_statuses(contact).get(Channel.EMAIL) != ConsentStatus.SUBSCRIBED
    ):
        set_consent(contact, Channel.EMAIL, ConsentStatus.SUBSCRIBED, f"event:{event_id}", now)


def _enroll(
    session: Session,
    store: Store,
    contact: Contact,
    event: DomainEvent,
    event_row_id: UUID,
    context: dict[str, object],
    now: datetime,
) -> list[UUID]:
    versions = published_versions(session, store.id)
    if not versions:
        return []
    definitions = [definition_of(version) for version in versions]
    facts = load_facts(
        session,
        contact,
        definitions=definitions,
        policy=sending_policy(store),
        event=context,
        now=now,
    )
    created: list[UUID] = []
    for version, definition in zip(versions, definitions, strict=True):
        decision = decide_entry(
            definition,
            event.name,
            facts,
            history(session, version.campaign_id, contact.id),
            now,
            campaign_key=str(version.campaign_id),
        )
        if not decision.enroll:
            if decision.reason != "trigger_mismatch":
                logger.info(
                    "event %s not enrolled in campaign %s: %s",
                    event_row_id,
                    version.campaign_id,
                    decision.reason,
                )
            continue
        enrollment_id = create_enrollment(
            session,
            version=version,
            contact_id=contact.id,
            event_id=event_row_id,
            entry_step=definition.entry_step,
            context=dict(context),
            now=now,
            lease_until=now + LEASE,
        )
        if enrollment_id is not None:
            created.append(enrollment_id)
    return created
