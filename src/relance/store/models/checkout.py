"""Checkouts being watched for abandonment (Saleor has no "abandoned" event).

The row is the timer: ``due_at`` is when the checkout counts as abandoned unless another update
postpones it; the sweep hands due rows to a worker like every other wake-up (SPEC.md §7).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from relance.store.models.base import Base, IdMixin, TimestampMixin


class CheckoutStatus(StrEnum):
    OPEN = "open"  #: watched: becomes abandoned at ``due_at`` unless updated or ordered
    ABANDONED = "abandoned"  #: ``cart.abandoned`` was raised
    RECOVERED = "recovered"  #: ordered after it was declared abandoned
    CONVERTED = "converted"  #: ordered before it was declared abandoned
    GONE = "gone"  #: Saleor deleted it, or it lost its lines or email


class Checkout(IdMixin, TimestampMixin, Base):
    __tablename__ = "checkouts"
    __table_args__ = (
        UniqueConstraint("store_id", "checkout_id"),
        Index("ix_checkouts_due", "status", "due_at"),
    )

    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    #: The platform's checkout id (Saleor's global id).
    checkout_id: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    status: Mapped[CheckoutStatus] = mapped_column(String(16), default=CheckoutStatus.OPEN)
    #: The platform's last update time seen (older deliveries never overwrite newer ones).
    platform_updated_at: Mapped[datetime] = mapped_column()
    due_at: Mapped[datetime | None] = mapped_column()
    lease_until: Mapped[datetime | None] = mapped_column()
    #: The DomainEvent fields to raise: contact update and CartSnapshot JSON.
    snapshot: Mapped[dict[str, Any]] = mapped_column()
    abandoned_at: Mapped[datetime | None] = mapped_column()
    order_id: Mapped[str | None] = mapped_column(String(200))
