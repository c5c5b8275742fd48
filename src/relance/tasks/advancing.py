"""Advancing an enrollment: run the pure engine and carry out its commands.

Idempotent: only an ACTIVE enrollment whose wake-up time has come is advanced, under a row lock
(PostgreSQL) and an optimistic revision check (a concurrent run on SQLite fails with
``StaleDataError`` and is retried, then finds nothing to do), and each send is a ledger row unique
per (enrollment, step). Running it twice, or concurrently, sends nothing twice.

A ``create_discount`` step suspends the engine: the enrollment is left at that step under a lease
while the platform is called *outside* any transaction, then the code is stored in the
enrollment's context and the engine resumes after the step. The code is derived from (enrollment,
step), so a retry after a crash asks the platform for the same code, never a second one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import select
from sqlalchemy.orm import Session

from relance.automation.contacts import ContactUpdate
from relance.automation.definitions import CampaignDefinition, CreateDiscountStep
from relance.automation.engine import (
    ApplyContactActions,
    Complete,
    CreateDiscount,
    Deliver,
    EnrollmentState,
    ScheduleWakeup,
    TraceEntry,
    advance,
)
from relance.automation.events import DomainEvent, EventType
from relance.discounts import (
    DiscountAccessRefused,
    DiscountError,
    DiscountRequest,
    PlatformAccess,
    discount_code,
)
from relance.runtime import Runtime
from relance.store.models import (
    CampaignVersion,
    Contact,
    Enrollment,
    EnrollmentStatus,
    Message,
    Store,
    StoreStatus,
    VersionStatus,
)
from relance.store.repositories.campaigns import retire_drained_versions
from relance.store.repositories.contact_actions import Applied, apply_contact_actions
from relance.store.repositories.enrollments import add_trace, definition_of, end_enrollment
from relance.store.repositories.facts import load_situation
from relance.store.repositories.stores import mark_disconnected
from relance.store.upsert import insert_ignoring_conflict
from relance.tasks.exits import apply_exit_rules
from relance.tasks.intake import record_event
from relance.tasks.leases import LEASE

logger = logging.getLogger(__name__)

#: Platform calls tried before a ``create_discount`` that keeps failing ends the enrollment.
MAX_DISCOUNT_ATTEMPTS = 6
#: First retry delay of a failed discount creation; doubles on each attempt.
FIRST_DISCOUNT_RETRY = timedelta(minutes=1)
#: ``end_reason`` of enrollments stopped because the app was uninstalled from their store.
UNINSTALLED = "store_uninstalled"
#: ``end_reason`` of an enrollment found running in a version that was stopped meanwhile.
STOPPED = "campaign_stopped"
#: Engine runs chained in one call (each ``create_discount`` resumes the engine once more).
MAX_RESUMES = 10


@dataclass(frozen=True, slots=True)
class _Suspended:
    step: CreateDiscountStep
    access: PlatformAccess
    store_kind: str
    request: DiscountRequest
    attempts: int


def advance_enrollment(runtime: Runtime, enrollment_id: UUID) -> list[UUID]:
    """Advance one due enrollment; returns the ids of the messages it queued (dispatched)."""
    queued: list[UUID] = []
    for _ in range(MAX_RESUMES):
        suspended = _advance_once(runtime, enrollment_id, queued)
        if suspended is None or not _create_discount(runtime, enrollment_id, suspended):
            break
    for message_id in queued:
        runtime.dispatcher.send_message(message_id)
    return queued


def _advance_once(runtime: Runtime, enrollment_id: UUID, queued: list[UUID]) -> _Suspended | None:
    now = runtime.clock()
    recorded: list[UUID] = []
    suspended = _advance_in_transaction(runtime, enrollment_id, queued, recorded, now)
    for event_id in recorded:  # committed: hand the list events to a worker
        runtime.dispatcher.process_event(event_id)
    return suspended


def _advance_in_transaction(
    runtime: Runtime,
    enrollment_id: UUID,
    queued: list[UUID],
    recorded: list[UUID],
    now: datetime,
) -> _Suspended | None:
    with runtime.sessions() as session, session.begin():
        enrollment = session.scalars(
            select(Enrollment).where(Enrollment.id == enrollment_id).with_for_update()
        ).one_or_none()
        if (
            enrollment is None
            or enrollment.status != EnrollmentStatus.ACTIVE
            or enrollment.step_id is None
            or enrollment.wake_at is None
            or enrollment.wake_at > now
        ):
            return None
        version = session.get(CampaignVersion, enrollment.version_id)
        store = session.get(Store, enrollment.store_id)
        contact = session.get(Contact, enrollment.contact_id)
        assert version is not None
        assert store is not None
        assert contact is not None
        if store.status == StoreStatus.UNINSTALLED:
            # the app was removed from the store: its campaigns stop, its data stays
            end_enrollment(session, enrollment, reason=UNINSTALLED, exited=True, now=now)
            add_trace(
                session, enrollment, [TraceEntry(enrollment.step_id, "exited", UNINSTALLED)], now
            )
            return None
        if version.status == VersionStatus.RETIRED:
            # entered while the campaign was being stopped: it leaves like the others did
            end_enrollment(session, enrollment, reason=STOPPED, exited=True, now=now)
            add_trace(session, enrollment, [TraceEntry(enrollment.step_id, "exited", STOPPED)], now)
            return None
        definition = definition_of(version)
        situation = load_situation(
            session,
            store=store,
            contact=contact,
            campaign_id=enrollment.campaign_id,
            definition=definition,
            context=enrollment.context,
            now=now,
        )
        state = EnrollmentState(enrollment.step_id, enrollment.deferrals)
        outcome = advance(definition, state, situation, now)
        add_trace(session, enrollment.id, outcome.trace, now)
        suspended: _Suspended | None = None
        for command in outcome.commands:
            match command:
                case Deliver():
                    message_id = _queue_message(session, enrollment, command, definition, now)
                    if message_id is not None:
                        queued.append(message_id)
                case ApplyContactActions():
                    applied = apply_contact_actions(
                        session,
                        contact,
                        command.actions,
                        context=enrollment.context,
                        source=f"campaign:{enrollment.campaign_id}",
                        now=now,
                    )
                    add_trace(
                        session,
                        enrollment.id,
                        [TraceEntry(command.step_id, "contact_updated", "; ".join(applied.done))],
                        now,
                    )
                    recorded.extend(_list_events(session, enrollment, contact, applied, now))
                    apply_exit_rules(
                        session,
                        store,
                        contact,
                        event_type=None,
                        event_context=None,
                        now=now,
                        skip=enrollment.id,
                    )
                case ScheduleWakeup():
                    enrollment.step_id = command.step_id
                    enrollment.wake_at = command.at
                    enrollment.deferrals = command.deferrals
                    enrollment.lease_until = None
                case CreateDiscount():
                    attempts = int(enrollment.context.get("discount_attempts", 0)) + 1
                    enrollment.step_id = command.step.id
                    enrollment.deferrals = 0
                    enrollment.wake_at = now
                    enrollment.lease_until = now + LEASE
                    enrollment.context = {**enrollment.context, "discount_attempts": attempts}
                    suspended = _Suspended(
                        step=command.step,
                        access=PlatformAccess(
                            store_id=str(store.id),
                            api_url=store.api_url,
                            token=(
                                runtime.secrets.decrypt(store.auth_token_encrypted)
                                if store.auth_token_encrypted
                                else None
                            ),
                        ),
                        store_kind=str(store.kind),
                        request=_discount_request(
                            runtime, enrollment, command.step, version, contact, now
                        ),
                        attempts=attempts,
                    )
                case Complete():
                    end_enrollment(
                        session,
                        enrollment,
                        reason=command.reason,
                        exited=command.exited,
                        now=now,
                    )
                    if version.status == VersionStatus.DRAINING:
                        retire_drained_versions(session, version.campaign_id, now=now)
        enrollment.updated_at = now
    return suspended


def _list_events(
    session: Session, enrollment: Enrollment, contact: Contact, applied: Applied, now: datetime
) -> list[UUID]:
    """Record ``list.entered`` / ``list.exited`` for the memberships a step changed (inbox rows,
    keyed by enrollment, step and list: a retried advance records nothing new)."""
    ids: list[UUID] = []
    for kind, lists in (
        (EventType.LIST_ENTERED, applied.entered),
        (EventType.LIST_EXITED, applied.left),
    ):
        for list_id in lists:
            event = DomainEvent(
                type=kind,
                idempotency_key=f"{kind.value}:{enrollment.id}:{enrollment.step_id}:{list_id}"[
                    :255
                ],
                occurred_at=now,
                contact=ContactUpdate(email=contact.email),
                properties={"list_id": list_id, "campaign_id": str(enrollment.campaign_id)},
            )
            accepted = record_event(session, contact.store_id, event, event_id=uuid4(), now=now)
            if not accepted.duplicate:
                ids.append(accepted.event_id)
    return ids


def _queue_message(
    session: Session,
    enrollment: Enrollment,
    command: Deliver,
    definition: CampaignDefinition,
    now: datetime,
) -> UUID | None:
    step = definition.step(command.step_id)
    message_id = uuid4()
    # no autoflush: the enrollment's pending changes are written once, at commit (flushing them
    # here too made two UPDATEs of the same row per advance — bench/enrollments.py found it)
    with session.no_autoflush:
        created = _insert_message(session, enrollment, command, step, message_id, now)
    return message_id if created else None


def _insert_message(
    session: Session,
    enrollment: Enrollment,
    command: Deliver,
    step: object,
    message_id: UUID,
    now: datetime,
) -> bool:
    return insert_ignoring_conflict(
        session,
        Message,
        {
            "id": message_id,
            "store_id": enrollment.store_id,
            "enrollment_id": enrollment.id,
            "contact_id": enrollment.contact_id,
            "step_id": command.step_id,
            "channel": command.channel.value if command.channel is not None else "webhook",
            "design": getattr(step, "design", ""),
            "transactional": command.transactional,
            "category": command.category,
            "status": "pending",
            "attempts": 0,
            "lease_until": now + LEASE,
            "created_at": now,
            "updated_at": now,
        },
        ["enrollment_id", "step_id"],
    )


def _discount_request(
    runtime: Runtime,
    enrollment: Enrollment,
    step: CreateDiscountStep,
    version: CampaignVersion,
    contact: Contact,
    now: datetime,
) -> DiscountRequest:
    context = enrollment.context
    source = context.get("cart") or context.get("order") or {}
    currency = source.get("currency") if isinstance(source, dict) else None
    channel = source.get("channel") if isinstance(source, dict) else None
    code = discount_code(
        runtime.settings.discount_code_key, str(enrollment.id), step.id, step.prefix
    )
    starts = enrollment.created_at if enrollment.created_at <= now else now
    return DiscountRequest(
        code=code,
        kind=step.kind,
        value=step.value,
        currency=currency if isinstance(currency, str) else None,
        channel=channel if isinstance(channel, str) else None,
        starts_at=starts,
        ends_at=now + timedelta(days=step.valid_days),
        minimum_order=step.minimum_order,
        name=f"relance · {step.label or step.id}"[:255],
        customer_email=contact.email,
    )


def _create_discount(runtime: Runtime, enrollment_id: UUID, suspended: _Suspended) -> bool:
    """Create the code (outside any transaction), then store it and resume after the step.

    Returns True when the engine should run again now.
    """
    provider = runtime.discount_providers.get(suspended.store_kind)
    step = suspended.step
    try:
        if provider is None:
            raise DiscountError(
                f"stores of kind {suspended.store_kind} cannot create discount codes",
                transient=False,
            )
        issued = provider.create(suspended.access, suspended.request)
    except DiscountError as error:
        if isinstance(error, DiscountAccessRefused):
            with runtime.sessions() as session, session.begin():
                mark_disconnected(session, UUID(suspended.access.store_id), runtime.clock())
        return _discount_failed(runtime, enrollment_id, suspended, error)
    now = runtime.clock()
    with runtime.sessions() as session, session.begin():
        enrollment = session.scalars(
            select(Enrollment).where(Enrollment.id == enrollment_id).with_for_update()
        ).one_or_none()
        if (
            enrollment is None
            or enrollment.status != EnrollmentStatus.ACTIVE
            or enrollment.step_id != step.id
        ):
            return False
        request = suspended.request
        discount: dict[str, Any] = {
            "code": issued.code,
            "kind": request.kind,
            "value": str(request.value),
            "currency": request.currency,
            "expires_at": request.ends_at.isoformat(),
            "step_id": step.id,
        }
        context = {k: v for k, v in enrollment.context.items() if k != "discount_attempts"}
        enrollment.context = {**context, "discount": discount}
        add_trace(session, enrollment.id, [TraceEntry(step.id, "discount_created", "")], now)
        if step.next is None:
            end_enrollment(session, enrollment, reason="completed", exited=False, now=now)
            add_trace(session, enrollment.id, [TraceEntry(step.id, "completed", "")], now)
            return False
        enrollment.step_id = step.next
        enrollment.deferrals = 0
        enrollment.wake_at = now
        enrollment.lease_until = now + LEASE
        enrollment.updated_at = now
    return True


def _discount_failed(
    runtime: Runtime, enrollment_id: UUID, suspended: _Suspended, error: DiscountError
) -> bool:
    now = runtime.clock()
    step = suspended.step
    give_up = not error.transient or suspended.attempts >= MAX_DISCOUNT_ATTEMPTS
    logger.warning(
        "enrollment %s: discount creation failed (%s, attempt %d)",
        enrollment_id,
        "permanent" if give_up else "transient",
        suspended.attempts,
    )
    with runtime.sessions() as session, session.begin():
        enrollment = session.scalars(
            select(Enrollment).where(Enrollment.id == enrollment_id).with_for_update()
        ).one_or_none()
        if enrollment is None or enrollment.status != EnrollmentStatus.ACTIVE:
            return False
        detail = str(error)[:200]
        if give_up:
            add_trace(session, enrollment.id, [TraceEntry(step.id, "error", detail)], now)
            end_enrollment(session, enrollment, reason="discount_failed", exited=True, now=now)
            return False
        delay = FIRST_DISCOUNT_RETRY * (2 ** (suspended.attempts - 1))
        enrollment.wake_at = now + delay
        enrollment.lease_until = None
        enrollment.updated_at = now
        add_trace(session, enrollment.id, [TraceEntry(step.id, "retry", detail)], now)
    return False
