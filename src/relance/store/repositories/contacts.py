"""Contacts: upsert from events, order statistics."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID, uuid4

from sqlalchemy import select
from sqlalchemy.orm import Session

from relance.automation.contacts import ContactProfile, ContactUpdate, merge_contact
from relance.store.models import Contact
from relance.store.upsert import insert_ignoring_conflict


def profile_of(contact: Contact) -> ContactProfile:
    """The pure-core view of a contact row."""
    return ContactProfile(
        email=contact.email,
        first_name=contact.first_name,
        last_name=contact.last_name,
        language=contact.language,
        country=contact.country,
        platform_user_id=contact.platform_user_id,
        orders_count=contact.orders_count,
        total_spent=contact.total_spent,
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
    contact.first_name = merged.first_name
    contact.last_name = merged.last_name
    contact.language = merged.language
    contact.country = merged.country
    contact.platform_user_id = merged.platform_user_id
    contact.updated_at = now
    return contact


def record_order(contact: Contact, total: Decimal) -> None:
    """Count one more order of ``total``. Call once per order event (in its transaction)."""
    contact.orders_count += 1
    contact.total_spent = (contact.total_spent or Decimal(0)) + total
