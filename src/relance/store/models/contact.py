"""A contact: one person of one store, identified by a normalised email."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from relance.store.models.base import Base, IdMixin, TimestampMixin


class Contact(IdMixin, TimestampMixin, Base):
    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("store_id", "email"),
        # what the Saleor sync looks for: small partial indexes, empty when all is in step
        Index(
            "ix_contacts_consent_unsynced",
            "store_id",
            postgresql_where=text("consent_revision > consent_synced_revision"),
            sqlite_where=text("consent_revision > consent_synced_revision"),
        ),
        Index(
            "ix_contacts_details_unsynced",
            "store_id",
            postgresql_where=text("platform_synced_at IS NULL AND platform_user_id IS NOT NULL"),
            sqlite_where=text("platform_synced_at IS NULL AND platform_user_id IS NOT NULL"),
        ),
    )

    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(35))
    country: Mapped[str | None] = mapped_column(String(2))
    platform_user_id: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    gender: Mapped[str | None] = mapped_column(String(16))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    #: Tags, a JSON array of strings (sorted, unique).
    tags: Mapped[list[Any]] = mapped_column(default=list)
    #: Custom fields, a JSON object of scalars.
    custom_fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Consent per channel: ``{"email": {"status": "subscribed", "source": "...", "at": iso}}``.
    consents: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Bumped by every consent change; the platform has seen ``consent_synced_revision``.
    consent_revision: Mapped[int] = mapped_column(default=0)
    consent_synced_revision: Mapped[int] = mapped_column(default=0)
    #: When the platform's own details of this customer were last read (None: never).
    platform_synced_at: Mapped[datetime | None] = mapped_column()
    orders_count: Mapped[int] = mapped_column(default=0)
    total_spent: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(0))
    first_order_at: Mapped[datetime | None] = mapped_column()
    last_order_at: Mapped[datetime | None] = mapped_column()


class Purchase(IdMixin, Base):
    """One purchased line of one order of a contact (what ``purchased`` conditions read).

    Unique per (contact, order, line key): recording an order twice adds nothing.
    """

    __tablename__ = "contact_purchases"
    __table_args__ = (
        UniqueConstraint("contact_id", "order_id", "line_key"),
        Index("ix_contact_purchases_contact_at", "contact_id", "purchased_at"),
    )

    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    order_id: Mapped[str] = mapped_column(String(200))
    #: The variant id, else the product id, else the SKU, else the line's position.
    line_key: Mapped[str] = mapped_column(String(200))
    product_id: Mapped[str | None] = mapped_column(String(200))
    variant_id: Mapped[str | None] = mapped_column(String(200))
    sku: Mapped[str | None] = mapped_column(String(200))
    purchased_at: Mapped[datetime] = mapped_column()


class ListMember(Base):
    """A contact's membership of a list, keyed by the list's id as campaigns name it."""

    __tablename__ = "list_members"

    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    list_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    contact_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column()
