"""Output types of the admin schema, and how they are made from rows and read models.

Types are plain values filled in one go (inside the resolver's transaction), so no field resolves
lazily against the database. Enum values are the stored values' upper-case names; every stored
status has one (a test walks them).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from relance.automation.library import CampaignTemplate as TemplateValue
from relance.store import models
from relance.store.repositories.campaigns import CampaignSummary


@strawberry.enum(name="CampaignStatus", description="Where a campaign is in its life.")
class CampaignStatusEnum(Enum):
    DRAFT = "draft"
    ACTIVE = "active"
    STOPPED = "stopped"


@strawberry.enum(name="CampaignVersionStatus", description="Where a campaign version is.")
class CampaignVersionStatusEnum(Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    DRAINING = "draining"
    RETIRED = "retired"


@strawberry.enum(name="StoreStatus", description="Whether the store's installation is live.")
class StoreStatusEnum(Enum):
    ACTIVE = "active"
    DISCONNECTED = "disconnected"
    UNINSTALLED = "uninstalled"


@strawberry.type(description="One installation of relance: a store and its data.")
class Store:
    id: strawberry.ID
    api_url: str = strawberry.field(description="The store's API URL (its key).")
    name: str
    status: StoreStatusEnum


@strawberry.type(description="Counts over every version of a campaign.")
class CampaignStats:
    enrolled: int = strawberry.field(description="Enrollments ever started.")
    active: int = strawberry.field(description="Enrollments still in progress.")
    messages_sent: int = strawberry.field(description="Messages the provider accepted.")


@strawberry.type(
    description=(
        "One version of a campaign. A campaign has at most one DRAFT and one PUBLISHED version; "
        "publishing turns the draft into the published one and the old published one DRAINING."
    )
)
class CampaignVersion:
    id: strawberry.ID
    number: int = strawberry.field(description="1 for the first version, then 2, 3…")
    status: CampaignVersionStatusEnum
    published_at: datetime | None
    definition: JSON = strawberry.field(
        description="The campaign definition: trigger, repeatability and steps (JSON)."
    )


@strawberry.type(description="A campaign of the caller's store.")
class Campaign:
    id: strawberry.ID
    name: str
    status: CampaignStatusEnum
    template_key: str | None = strawberry.field(description="The template it was made from.")
    created_at: datetime
    updated_at: datetime
    published_version: CampaignVersion | None = strawberry.field(
        description="The version taking new contacts, if any."
    )
    draft_version: CampaignVersion | None = strawberry.field(
        description="The version being edited, if any."
    )
    versions: list[CampaignVersion] = strawberry.field(
        description="Every version, highest number first."
    )
    stats: CampaignStats


@strawberry.type(description="A ready-made campaign that can be created in one call.")
class CampaignTemplate:
    key: str
    name: str
    description: str


def store_type(store: models.Store) -> Store:
    """The GraphQL view of a store row."""
    return Store(
        id=strawberry.ID(str(store.id)),
        api_url=store.api_url,
        name=store.name,
        status=StoreStatusEnum(store.status),
    )


def version_type(version: models.CampaignVersion) -> CampaignVersion:
    """The GraphQL view of a version row."""
    return CampaignVersion(
        id=strawberry.ID(str(version.id)),
        number=version.number,
        status=CampaignVersionStatusEnum(version.status),
        published_at=version.published_at,
        definition=JSON(version.definition),
    )


def campaign_type(summary: CampaignSummary) -> Campaign:
    """The GraphQL view of a campaign with its versions and counts."""
    campaign = summary.campaign
    published = summary.published
    draft = summary.draft
    return Campaign(
        id=strawberry.ID(str(campaign.id)),
        name=campaign.name,
        status=CampaignStatusEnum(campaign.status),
        template_key=campaign.template_key,
        created_at=campaign.created_at,
        updated_at=campaign.updated_at,
        published_version=version_type(published) if published is not None else None,
        draft_version=version_type(draft) if draft is not None else None,
        versions=[version_type(version) for version in summary.versions],
        stats=CampaignStats(
            enrolled=summary.stats.enrolled,
            active=summary.stats.active,
            messages_sent=summary.stats.messages_sent,
        ),
    )


def template_type(template: TemplateValue) -> CampaignTemplate:
    """The GraphQL view of a ready-made campaign."""
    return CampaignTemplate(key=template.key, name=template.name, description=template.description)
