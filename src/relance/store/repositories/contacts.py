"""Contacts: upsert from events, order statistics and purchases, consent."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID, uuid4

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from relance.automation.contacts import (
    PROFILE_FIELDS,
    ContactProfile,
    ContactUpdate,
    merge_contact,
)
from relance.automation.events import LineItem, OrderSnapshot
from relance.store.models import Contact, Purchase
from relance.store.upsert import insert_ignoring_conflict


def profile_of(contact: Contact) -> ContactProfile:
    """The pure-core view of a contact row."""
    return ContactProfile(
        email=contact.email,
        orders_count=contact.orders_count,
        total_spent=contact.total_spent,
        **{name: getattr(contact, name) for name in PROFILE_FIELDS},
    )


def upsert_contact(
    session: Session, store_id: UUID, update: ContactUpdate, now: datetime
) -> Contact:
    """The store's contact for ``update.email``, created if new, with the told fields applied.

    Safe under concurrency: the insert ignores a conflicting row made meanwhile, and the row is
    then read locked (``FOR UPDATE`` on PostgreSQL). The caller commits.
    """
    insert_ignoring_conflict(
        session,
        Contact,
        {
            "id": uuid4(),
            "store_id": store_id,
            "email": update.email,
            "orders_count": 0,
            "total_spent": Decimal(0),
            "tags": [],
            "custom_fields": {},
            "consents": {},
            "consent_revision": 0,
            "consent_synced_revision": 0,
            "created_at": now,
            "updated_at": now,
        },
        ["store_id", "email"],
    )
    contact = session.scalars(
        select(Contact)
        .where(Contact.store_id == store_id, Contact.email == update.email)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    merged = merge_contact(profile_of(contact), update)
    for name in PROFILE_FIELDS:
        setattr(contact, name, getattr(merged, name))
    contact.updated_at = now
    return contact


def record_order(contact: Contact, total: Decimal) -> None:
    """Count one more order of ``total``. Call once per order event (in its transaction)."""
    contact.orders_count += 1
    contact.total_spent = (contact.total_spent or Decimal(0)) + total


def record_purchases(
    session: Session, contact: Contact, order: OrderSnapshot, now: datetime
) -> None:
    """Count the order in the contact's stats and remember its lines (``purchased`` facts).

    Call once per ``order.placed`` event, in its transaction (the event inbox makes that
    at-most-once). Lines are unique per (contact, order, line key), so a replay adds no rows.
    """
    record_order(contact, order.total)
    placed_at = order.created_at
    if contact.first_order_at is None or placed_at < contact.first_order_at:
        contact.first_order_at = placed_at
    if contact.last_order_at is None or placed_at > contact.last_order_at:
        contact.last_order_at = placed_at
    lines: list[tuple[str, LineItem | None]] = [
        (line.variant_id or line.product_id or line.sku or f"line-{position}", line)
        for position, line in enumerate(order.lines)
    ] or [("order", None)]  # a row even for an order without lines: it marks the order as seen
    for key, line in lines:
        insert_ignoring_conflict(
            session,
            Purchase,
            {
                "id": uuid4(),
                "store_id": contact.store_id,
                "contact_id": contact.id,
                "order_id": order.order_id,
                "line_key": key[:200],
                "product_id": line.product_id if line else None,
                "variant_id": line.variant_id if line else None,
                "sku": line.sku if line else None,
                "purchased_at": placed_at,
            },
            ["contact_id", "order_id", "line_key"],
        )
    contact.updated_at = now


def reverse_order(session: Session, contact: Contact, order: OrderSnapshot, now: datetime) -> bool:
    """Take a cancelled or fully refunded order back out of the contact's statistics.

    Guarded by the order's purchase rows: they are deleted here, so the second of a refund and a
    cancellation of the same order (or a replay) changes nothing. An order relance never saw
    placed is not subtracted. Returns whether anything changed. The caller commits.
    """
    removed = session.execute(
        delete(Purchase).where(
            Purchase.contact_id == contact.id, Purchase.order_id == order.order_id
        )
    ).rowcount  # type: ignore[attr-defined]
    if not removed:
        return False
    contact.orders_count = max(contact.orders_count - 1, 0)
    contact.total_spent = max((contact.total_spent or Decimal(0)) - order.total, Decimal(0))
    contact.updated_at = now
    return True


def set_consent(contact: Contact, channel: str, status: str, source: str, now: datetime) -> None:
    """Record the contact's consent on ``channel`` (a ConsentStatus value), with its source."""
    consents = dict(contact.consents or {})
    consents[channel] = {"status": status, "source": source[:200], "at": now.isoformat()}
    contact.consents = consents
    contact.consent_revision = (contact.consent_revision or 0) + 1
    contact.updated_at = now


def consent_statuses(contact: Contact) -> dict[str, str]:
    """Channel → ConsentStatus value, for the contact's recorded consents."""
    return {
        channel: str(record.get("status", "none"))
        for channel, record in (contact.consents or {}).items()
        if isinstance(record, dict)
    }
