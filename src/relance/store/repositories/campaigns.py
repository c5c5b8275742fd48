"""Campaigns and their versions: creation from a template, publishing, and list read models.

Invariants kept here:

- Every read is scoped by ``store_id``: a campaign of another store is "not found", never returned.
- A campaign has at most one DRAFT and at most one PUBLISHED version. Publishing turns the draft
  into the published version and the previously published one into DRAINING (it takes no new
  contacts; those inside finish it), in one transaction, with the campaign row locked on
  PostgreSQL so two concurrent publishes cannot both succeed.
- A draft is published only when :func:`relance.automation.validation.validate` finds nothing;
  otherwise nothing changes.
- List counts come from GROUP BY queries over every listed campaign at once (a constant number of
  queries per list, whatever its length).

Writers flush but never commit: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from relance.automation.definitions import CampaignDefinition
from relance.automation.library import CampaignTemplate
from relance.automation.validation import Violation, validate
from relance.store.models import (
    Campaign,
    CampaignStatus,
    CampaignVersion,
    Enrollment,
    EnrollmentStatus,
    Message,
    MessageStatus,
    VersionStatus,
)

#: Longest campaign name, in characters (the column's size).
MAX_NAME_LENGTH = 200
#: ``Violation.code`` when there is no draft to publish.
NO_DRAFT = "no_draft"
#: ``Violation.code`` when the stored draft JSON is not a valid CampaignDefinition.
INVALID_DEFINITION = "invalid_definition"


class CampaignNameError(ValueError):
    """A campaign name is longer than :data:`MAX_NAME_LENGTH`."""


@dataclass(frozen=True, slots=True)
class CampaignStats:
    """Counts for one campaign, over all its versions.

    ``enrolled``: enrollments ever made; ``active``: those still in progress; ``messages_sent``:
    messages the provider accepted (status SENT).
    """

    enrolled: int = 0
    active: int = 0
    messages_sent: int = 0


@dataclass(frozen=True, slots=True)
class CampaignSummary:
    """A campaign with every version (highest number first) and its counts: what a list shows."""

    campaign: Campaign
    versions: tuple[CampaignVersion, ...]
    stats: CampaignStats

    @property
    def draft(self) -> CampaignVersion | None:
        """The version being edited, if any."""
        return next((v for v in self.versions if v.status == VersionStatus.DRAFT), None)

    @property
    def published(self) -> CampaignVersion | None:
        """The version that takes new contacts, if any."""
        return next((v for v in self.versions if v.status == VersionStatus.PUBLISHED), None)


def list_campaigns(session: Session, store_id: UUID) -> list[Campaign]:
    """The store's campaigns, newest first."""
    return list(
        session.scalars(
            select(Campaign)
            .where(Campaign.store_id == store_id)
            .order_by(Campaign.created_at.desc(), Campaign.id)
        )
    )


def get_campaign(session: Session, store_id: UUID, campaign_id: UUID) -> Campaign | None:
    """The campaign ``campaign_id`` of ``store_id``; None if absent or of another store."""
    return session.scalars(
        select(Campaign).where(Campaign.id == campaign_id, Campaign.store_id == store_id)
    ).one_or_none()


def create_from_template(
    session: Session,
    *,
    store_id: UUID,
    template: CampaignTemplate,
    name: str | None,
    now: datetime,
) -> Campaign:
    """A new DRAFT campaign whose version 1 (DRAFT) holds the template's definition.

    ``name`` is stripped; when it is None or blank the template's name is used.

    Raises:
        CampaignNameError: the name is longer than :data:`MAX_NAME_LENGTH`.

    Not idempotent: each call makes another campaign. The caller commits.
    """
    label = (name or "").strip() or template.name
    if len(label) > MAX_NAME_LENGTH:
        raise CampaignNameError(f"a campaign name has at most {MAX_NAME_LENGTH} characters")
    campaign = Campaign(
        store_id=store_id,
        name=label,
        template_key=template.key,
        status=CampaignStatus.DRAFT,
        created_at=now,
        updated_at=now,
    )
    session.add(campaign)
    session.flush()
    session.add(
        CampaignVersion(
            campaign_id=campaign.id,
            store_id=store_id,
            number=1,
            status=VersionStatus.DRAFT,
            definition=template.definition.model_dump(mode="json"),
            created_at=now,
            updated_at=now,
        )
    )
    session.flush()
    return campaign


def _version_with_status(
    session: Session, campaign: Campaign, status: VersionStatus
) -> CampaignVersion | None:
    return session.scalars(
        select(CampaignVersion).where(
            CampaignVersion.campaign_id == campaign.id,
            CampaignVersion.store_id == campaign.store_id,
            CampaignVersion.status == status,
        )
    ).one_or_none()


def draft_version(session: Session, campaign: Campaign) -> CampaignVersion | None:
    """The campaign's DRAFT version, if it has one."""
    return _version_with_status(session, campaign, VersionStatus.DRAFT)


def published_version(session: Session, campaign: Campaign) -> CampaignVersion | None:
    """The campaign's PUBLISHED version, if it has one."""
    return _version_with_status(session, campaign, VersionStatus.PUBLISHED)


def check_draft(draft: CampaignVersion, known_designs: frozenset[str]) -> list[Violation]:
    """Every reason ``draft`` cannot be published; empty when it can.

    A stored definition that no longer parses yields one ``invalid_definition`` violation per
    pydantic error, with the error's location as path.
    """
    try:
        definition = CampaignDefinition.model_validate(draft.definition)
    except ValidationError as error:
        return [
            Violation(
                ".".join(str(part) for part in detail["loc"]),
                INVALID_DEFINITION,
                detail["msg"],
            )
            for detail in error.errors()
        ]
    return validate(definition, known_designs)


def publish(
    session: Session, *, campaign: Campaign, now: datetime, known_designs: frozenset[str]
) -> list[Violation]:
    """Publish the campaign's draft if it is valid; returns the violations (empty = published).

    On success: the draft becomes PUBLISHED with ``published_at = now``, the previously published
    version (if any) becomes DRAINING, and the campaign becomes ACTIVE. On violations nothing
    changes. No draft gives one ``no_draft`` violation with an empty path.

    Locks the campaign row (PostgreSQL) for the rest of the transaction. The caller commits.
    """
    session.refresh(campaign, with_for_update=True)
    draft = draft_version(session, campaign)
    if draft is None:
        return [Violation("", NO_DRAFT, "the campaign has no draft to publish")]
    violations = check_draft(draft, known_designs)
    if violations:
        return violations
    previous = published_version(session, campaign)
    if previous is not None:
        previous.status = VersionStatus.DRAINING
        previous.updated_at = now
        # Flush first: the draft must not be PUBLISHED while the old version still is.
        session.flush()
    draft.status = VersionStatus.PUBLISHED
    draft.published_at = now
    draft.updated_at = now
    campaign.status = CampaignStatus.ACTIVE
    campaign.updated_at = now
    session.flush()
    return []


def versions_by_campaign(
    session: Session, store_id: UUID, campaign_ids: Collection[UUID]
) -> dict[UUID, tuple[CampaignVersion, ...]]:
    """Every version of each campaign, highest number first, in one query."""
    if not campaign_ids:
        return {}
    rows = session.scalars(
        select(CampaignVersion)
        .where(
            CampaignVersion.store_id == store_id,
            CampaignVersion.campaign_id.in_(list(campaign_ids)),
        )
        .order_by(CampaignVersion.campaign_id, CampaignVersion.number.desc())
    )
    grouped: dict[UUID, list[CampaignVersion]] = {}
    for version in rows:
        grouped.setdefault(version.campaign_id, []).append(version)
    return {campaign_id: tuple(versions) for campaign_id, versions in grouped.items()}


def campaign_stats(
    session: Session, store_id: UUID, campaign_ids: Collection[UUID]
) -> dict[UUID, CampaignStats]:
    """Counts per campaign, from two GROUP BY queries; campaigns without rows get zeros."""
    ids = list(campaign_ids)
    if not ids:
        return {}
    enrollment_rows = session.execute(
        select(
            Enrollment.campaign_id,
            func.count(Enrollment.id),
            func.count(case((Enrollment.status == EnrollmentStatus.ACTIVE, 1))),
        )
        .where(Enrollment.store_id == store_id, Enrollment.campaign_id.in_(ids))
        .group_by(Enrollment.campaign_id)
    )
    sent_rows = session.execute(
        select(Enrollment.campaign_id, func.count(Message.id))
        .join(Enrollment, Message.enrollment_id == Enrollment.id)
        .where(
            Message.store_id == store_id,
            Message.status == MessageStatus.SENT,
            Enrollment.store_id == store_id,
            Enrollment.campaign_id.in_(ids),
        )
        .group_by(Enrollment.campaign_id)
    )
    enrolled = {campaign_id: (total, active) for campaign_id, total, active in enrollment_rows}
    sent = {campaign_id: count for campaign_id, count in sent_rows}
    return {
        campaign_id: CampaignStats(
            enrolled=enrolled.get(campaign_id, (0, 0))[0],
            active=enrolled.get(campaign_id, (0, 0))[1],
            messages_sent=sent.get(campaign_id, 0),
        )
        for campaign_id in ids
    }


def summarise(
    session: Session, store_id: UUID, campaigns: Sequence[Campaign]
) -> list[CampaignSummary]:
    """Summaries of ``campaigns`` (all of ``store_id``), in their order, in three queries."""
    ids = [campaign.id for campaign in campaigns]
    versions = versions_by_campaign(session, store_id, ids)
    stats = campaign_stats(session, store_id, ids)
    return [
        CampaignSummary(
            campaign=campaign,
            versions=versions.get(campaign.id, ()),
            stats=stats.get(campaign.id, CampaignStats()),
        )
        for campaign in campaigns
    ]
