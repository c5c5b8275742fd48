"""Enrollments: one contact's run through one campaign version, and its trace."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from relance.store.models.base import Base, IdMixin, TimestampMixin, utcnow


class EnrollmentStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    EXITED = "exited"


class Enrollment(IdMixin, TimestampMixin, Base):
    """``wake_at`` is when the sweep hands it to a worker next (the database is the timer)."""

    __tablename__ = "enrollments"
    __table_args__ = (
        UniqueConstraint("campaign_id", "event_id", "contact_id"),
        Index("ix_enrollments_due", "status", "wake_at"),
    )

    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    version_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("campaign_versions.id", ondelete="CASCADE")
    )
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    status: Mapped[EnrollmentStatus] = mapped_column(String(16), default=EnrollmentStatus.ACTIVE)
    step_id: Mapped[str | None] = mapped_column(String(64))
    wake_at: Mapped[datetime | None] = mapped_column()
    #: Times the frequency cap deferred the current step (0 when the step changes).
    deferrals: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[datetime | None] = mapped_column()
    #: What the trigger event carried (order lines, …), for rendering later steps.
    context: Mapped[dict[str, Any]] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    end_reason: Mapped[str | None] = mapped_column(String(64))
    #: How many trace entries it has (the last one's ``seq``).
    trace_seq: Mapped[int] = mapped_column(default=0)
    #: Optimistic lock: an update from a stale read fails instead of overwriting (StaleDataError).
    revision: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": revision}


class TraceRecord(IdMixin, Base):
    """One decision of the engine about one enrollment (append-only)."""

    __tablename__ = "enrollment_trace"

    enrollment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enrollments.id", ondelete="CASCADE"), index=True
    )
    #: Position in the enrollment's trace (1, 2, …): entries of one instant keep their order.
    seq: Mapped[int] = mapped_column(default=0)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    step_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(500), default="")
