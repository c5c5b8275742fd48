"""The event inbox: every domain event, recorded once per idempotency key."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from relance.store.models.base import Base, IdMixin, utcnow


class EventStatus(StrEnum):
    PENDING = "pending"
    PROCESSED = "processed"
    FAILED = "failed"


class Event(IdMixin, Base):
    """A domain event as received. ``payload`` is the DomainEvent's JSON; it is never changed."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("store_id", "idempotency_key"),
        Index("ix_events_pending", "status", "lease_until"),
    )

    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    occurred_at: Mapped[datetime] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[EventStatus] = mapped_column(String(16), default=EventStatus.PENDING)
    lease_until: Mapped[datetime | None] = mapped_column()
    processed_at: Mapped[datetime | None] = mapped_column()
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL")
    )
    error: Mapped[str | None] = mapped_column(String(1000))
