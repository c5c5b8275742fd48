"""Advancing an enrollment: run the pure engine and carry out its commands.

Idempotent: only an ACTIVE enrollment whose wake-up time has come is advanced, under a row lock
(PostgreSQL) and an optimistic revision check (a concurrent run on SQLite fails with
``StaleDataError`` and is retried, then finds nothing to do), and each send is a ledger row unique
per (enrollment, step). Running it twice, or concurrently, sends nothing twice.
"""

from __future__ import annotations

from uuid import UUID, uuid4

from sqlalchemy import select

from relance.automation.engine import (
    Complete,
    EnrollmentState,
    ScheduleWakeup,
    SendEmail,
    advance,
)
from relance.runtime import Runtime
from relance.store.models import CampaignVersion, Enrollment, EnrollmentStatus, Message
from relance.store.repositories.enrollments import add_trace, definition_of
from relance.store.upsert import insert_ignoring_conflict
from relance.tasks.leases import LEASE


def advance_enrollment(runtime: Runtime, enrollment_id: UUID) -> list[UUID]:
    """Advance one due enrollment; returns the ids of the messages it queued (dispatched)."""
    now = runtime.clock()
    queued: list[UUID] = []
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
            return []
        version = session.get(CampaignVersion, enrollment.version_id)
        assert version is not None
        outcome = advance(definition_of(version), EnrollmentState(enrollment.step_id), now)
        for command in outcome.commands:
            match command:
                case SendEmail():
                    message_id = uuid4()
                    if insert_ignoring_conflict(
                        session,
                        Message,
                        {
                            "id": message_id,
                            "store_id": enrollment.store_id,
                            "enrollment_id": enrollment.id,
                            "contact_id": enrollment.contact_id,
                            "step_id": command.step_id,
                            "channel": "email",
                            "design": command.design,
                            "transactional": command.transactional,
                            "status": "pending",
                            "attempts": 0,
                            "lease_until": now + LEASE,
                            "created_at": now,
                            "updated_at": now,
                        },
                        ["enrollment_id", "step_id"],
                    ):
                        queued.append(message_id)
                case ScheduleWakeup():
                    enrollment.step_id = command.step_id
                    enrollment.wake_at = command.at
                    enrollment.lease_until = None
                case Complete():
                    enrollment.status = EnrollmentStatus.COMPLETED
                    enrollment.end_reason = command.reason
                    enrollment.ended_at = now
                    enrollment.wake_at = None
                    enrollment.lease_until = None
        enrollment.updated_at = now
        add_trace(session, enrollment.id, outcome.trace, now)
    for message_id in queued:
        runtime.dispatcher.send_message(message_id)
    return queued
