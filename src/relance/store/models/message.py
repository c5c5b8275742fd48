"""The delivery ledger: one row per message a step produced, unique per (enrollment, step)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from relance.store.models.base import Base, IdMixin, TimestampMixin


class MessageStatus(StrEnum):
    PENDING = "pending"  #: to send (again, after ``next_attempt_at``)
    SENDING = "sending"  #: claimed by a worker; outcome not yet known
    SENT = "sent"  #: the provider accepted it
    FAILED = "failed"  #: will never be sent
    UNKNOWN = "unknown"  #: a worker died mid-send: never repeated silently
    CANCELLED = "cancelled"  #: its enrollment was stopped before it was sent
    SKIPPED = "skipped"  #: decided at send time not to send (``error`` says why)


class Message(IdMixin, TimestampMixin, Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("enrollment_id", "step_id"),
        Index("ix_messages_due", "status", "next_attempt_at"),
        Index("ix_messages_contact_sent", "contact_id", "sent_at"),
        Index("ix_messages_provider_id", "provider_message_id"),
    )

    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    enrollment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enrollments.id", ondelete="CASCADE")
    )
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    step_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16), default="email")
    #: The email design; empty for other channels.
    design: Mapped[str] = mapped_column(String(64))
    transactional: Mapped[bool] = mapped_column(default=False)
    category: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[MessageStatus] = mapped_column(String(16), default=MessageStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    claimed_at: Mapped[datetime | None] = mapped_column()
    #: While in the future, the sweep leaves the row alone (a worker was just handed its id).
    lease_until: Mapped[datetime | None] = mapped_column()
    to_address: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(String(500))
    language: Mapped[str | None] = mapped_column(String(35))
    provider_message_id: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(String(1000))
    #: What the provider reported after accepting it (``delivered``, ``undelivered``…).
    delivery_status: Mapped[str | None] = mapped_column(String(32))
    delivered_at: Mapped[datetime | None] = mapped_column()
    #: A webhook call's HTTP status and the start of its answer (for the trace).
    response_status: Mapped[int | None] = mapped_column()
    response_body: Mapped[str | None] = mapped_column(String(2000))
