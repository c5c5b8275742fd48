"""Enrollments: published campaigns to enter, history per contact, creation with trace."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from relance.automation.definitions import CampaignDefinition
from relance.automation.engine import TraceEntry
from relance.automation.matching import EnrollmentHistory
from relance.store.models import (
    CampaignVersion,
    Enrollment,
    EnrollmentStatus,
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
            "created_at": now,
            "updated_at": now,
        },
        ["campaign_id", "event_id", "contact_id"],
    )
    if not created:
        return None
    add_trace(session, enrollment_id, [TraceEntry(entry_step, "entered", "")], now)
    return enrollment_id


def add_trace(
    session: Session, enrollment_id: UUID, entries: Iterable[TraceEntry], now: datetime
) -> None:
    """Append the engine's decisions to the enrollment's trace."""
    session.add_all(
        TraceRecord(
            enrollment_id=enrollment_id,
            at=now,
            step_id=entry.step_id,
            action=entry.action,
            detail=entry.detail[:500],
        )
        for entry in entries
    )
