"""Campaigns and their versions (at most one published and one draft at a time)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from relance.store.models.base import Base, IdMixin, TimestampMixin


class CampaignStatus(StrEnum):
    DRAFT = "draft"  #: never published
    ACTIVE = "active"  #: has a published version
    STOPPED = "stopped"


class VersionStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"  #: takes new contacts
    DRAINING = "draining"  #: takes no new contacts; those inside finish
    RETIRED = "retired"  #: nobody inside any more


class Campaign(IdMixin, TimestampMixin, Base):
    __tablename__ = "campaigns"

    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    template_key: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[CampaignStatus] = mapped_column(String(16), default=CampaignStatus.DRAFT)


class CampaignVersion(IdMixin, TimestampMixin, Base):
    __tablename__ = "campaign_versions"
    __table_args__ = (
        UniqueConstraint("campaign_id", "number"),
        # The database's own guarantee of "at most one published and one draft" (the campaign
        # lock is the first line; these partial unique indexes are the backstop).
        Index(
            "uq_campaign_versions_one_published",
            "campaign_id",
            unique=True,
            postgresql_where=text("status = 'published'"),
            sqlite_where=text("status = 'published'"),
        ),
        Index(
            "uq_campaign_versions_one_draft",
            "campaign_id",
            unique=True,
            postgresql_where=text("status = 'draft'"),
            sqlite_where=text("status = 'draft'"),
        ),
    )

    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column()
    status: Mapped[VersionStatus] = mapped_column(String(16), default=VersionStatus.DRAFT)
    #: The CampaignDefinition's JSON.
    definition: Mapped[dict[str, Any]] = mapped_column()
    published_at: Mapped[datetime | None] = mapped_column()
    #: When it stopped taking contacts (drained or stopped) and when nobody was left inside.
    unpublished_at: Mapped[datetime | None] = mapped_column()
    retired_at: Mapped[datetime | None] = mapped_column()
