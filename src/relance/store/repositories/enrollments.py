"""Enrollments: published campaigns to enter, history per contact, creation with trace."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from relance.automation.definitions import CampaignDefinition
from relance.automation.engine import TraceEntry
from relance.automation.matching import EnrollmentHistory
from relance.store.models import (
    CampaignVersion,
    Enrollment,
    EnrollmentStatus,
    Message,
    MessageStatus,
    Store,
    StoreStatus,
    TraceRecord,
    VersionStatus,
)
from relance.store.upsert import insert_ignoring_conflict


@lru_cache(maxsize=1024)
def _parse(version_id: UUID, raw: str) -> CampaignDefinition:
    return CampaignDefinition.model_validate_json(raw)


def definition_of(version: CampaignVersion) -> CampaignDefinition:
    """The version's parsed definition (cached: a published definition never changes)."""
    return _parse(version.id, json.dumps(version.definition, sort_keys=True))


def published_versions(session: Session, store_id: UUID) -> list[CampaignVersion]:
    """The store's versions that take new contacts now."""
    return list(
        session.scalars(
            select(CampaignVersion).where(
                CampaignVersion.store_id == store_id,
                CampaignVersion.status == VersionStatus.PUBLISHED,
            )
        )
    )


def published_versions_of_all(session: Session) -> list[tuple[CampaignVersion, Store]]:
    """Every active store's published versions, with their store (for periodic scans)."""
    return [
        (version, store)
        for version, store in session.execute(
            select(CampaignVersion, Store)
            .join(Store, Store.id == CampaignVersion.store_id)
            .where(
                CampaignVersion.status == VersionStatus.PUBLISHED,
                Store.status == StoreStatus.ACTIVE,
            )
        )
    ]


def active_enrollments_of(
    session: Session, store_id: UUID, contact_id: UUID
) -> list[tuple[Enrollment, CampaignVersion]]:
    """The contact's enrollments in progress, with their versions, rows locked for update."""
    return [
        (enrollment, version)
        for enrollment, version in session.execute(
            select(Enrollment, CampaignVersion)
            .join(CampaignVersion, CampaignVersion.id == Enrollment.version_id)
            .where(
                Enrollment.store_id == store_id,
                Enrollment.contact_id == contact_id,
                Enrollment.status == EnrollmentStatus.ACTIVE,
            )
            .order_by(Enrollment.created_at, Enrollment.id)
            .with_for_update(of=Enrollment)
        )
    ]


def end_enrollment(
    session: Session,
    enrollment: Enrollment,
    *,
    reason: str,
    exited: bool,
    now: datetime,
) -> None:
    """End an active enrollment: COMPLETED or EXITED with ``reason``.

    When it exits, its messages not yet sent (PENDING) are CANCELLED. Idempotent: an ended
    enrollment is left as it is. The caller records the decision in the trace.
    """
    if enrollment.status != EnrollmentStatus.ACTIVE:
        return
    enrollment.status = EnrollmentStatus.EXITED if exited else EnrollmentStatus.COMPLETED
    enrollment.end_reason = reason[:64]
    enrollment.ended_at = now
    enrollment.wake_at = None
    enrollment.lease_until = None
    enrollment.updated_at = now
    if not exited:
        return  # a completed run's last messages are still on their way
    session.execute(
        update(Message)
        .where(Message.enrollment_id == enrollment.id, Message.status == MessageStatus.PENDING)
        .values(status=MessageStatus.CANCELLED, error=f"cancelled: {reason}"[:1000], updated_at=now)
    )


def history(session: Session, campaign_id: UUID, contact_id: UUID) -> EnrollmentHistory:
    """How often the contact entered the campaign (any version), and how many runs are live."""
    total, in_progress = session.execute(
        select(
            func.count(Enrollment.id),
            func.coalesce(
                func.sum(case((Enrollment.status == EnrollmentStatus.ACTIVE, 1), else_=0)), 0
            ),
        ).where(Enrollment.campaign_id == campaign_id, Enrollment.contact_id == contact_id)
    ).one()
    return EnrollmentHistory(total=int(total), in_progress=int(in_progress))


def create_enrollment(
    session: Session,
    *,
    version: CampaignVersion,
    contact_id: UUID,
    event_id: UUID,
    entry_step: str,
    context: dict[str, Any],
    now: datetime,
    lease_until: datetime,
) -> UUID | None:
    """Enroll the contact; ``None`` if this event already enrolled it in this campaign.

    Idempotent on (campaign, event, contact): a re-processed event creates nothing.
    """
    enrollment_id = uuid4()
    created = insert_ignoring_conflict(
        session,
        Enrollment,
        {
            "id": enrollment_id,
            "store_id": version.store_id,
            "campaign_id": version.campaign_id,
            "version_id": version.id,
            "contact_id": contact_id,
            "event_id": event_id,
            "status": EnrollmentStatus.ACTIVE,
            "step_id": entry_step,
            "wake_at": now,
            "lease_until": lease_until,
            "context": context,
            "revision": 1,
            "trace_seq": 1,
            "created_at": now,
            "updated_at": now,
        },
        ["campaign_id", "event_id", "contact_id"],
    )
    if not created:
        return None
    session.add(
        TraceRecord(
            enrollment_id=enrollment_id, seq=1, at=now, step_id=entry_step, action="entered"
        )
    )
    return enrollment_id


def add_trace(
    session: Session, enrollment: Enrollment | UUID, entries: Iterable[TraceEntry], now: datetime
) -> None:
    """Append decisions to the enrollment's trace, numbered after the ones already there.

    ``seq`` orders a trace (several entries share one instant); the enrollment's ``trace_seq``
    counts them. Call it with the enrollment locked (as every task does), so numbers never clash.
    """
    row = enrollment if isinstance(enrollment, Enrollment) else session.get(Enrollment, enrollment)
    if row is None:
        return
    for entry in entries:
        row.trace_seq += 1
        session.add(
            TraceRecord(
                enrollment_id=row.id,
                seq=row.trace_seq,
                at=now,
                step_id=entry.step_id,
                action=entry.action,
                detail=entry.detail[:500],
            )
        )
