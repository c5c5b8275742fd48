"""Erasing a contact's personal data (the platform deleted the customer, or the person asked).

What goes: email (replaced by a unique tombstone ``erased-<hex>@invalid``), names, phone,
gender, language, country, time zone, platform user id, tags, custom fields, consents, list
memberships, purchased lines, the contact part and properties of its inbox events, message
addresses and subjects, the checkouts watched for it. Its enrollments in progress end (reason
``contact_erased``) and its messages not yet sent are cancelled.

What stays, anonymous: the contact row with its order counts and totals, its events' types,
times, orders and carts, its enrollments and messages (so reports keep their counts and revenue).

The ``.invalid`` top-level domain never resolves (RFC 2606): nothing can be delivered to a
tombstone. Functions take the caller's session and leave committing to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from relance.automation.engine import TraceEntry
from relance.store.models import (
    Checkout,
    CheckoutStatus,
    Contact,
    Enrollment,
    EnrollmentStatus,
    Event,
    ListMember,
    Message,
    MessageStatus,
    Purchase,
)
from relance.store.repositories.enrollments import add_trace, end_enrollment
from relance.store.repositories.push import delete_contact_subscriptions

#: Why enrollments of an erased contact ended (``Enrollment.end_reason``).
ERASED_REASON = "contact_erased"
#: The domain of tombstone addresses (RFC 2606: never resolves).
ERASED_DOMAIN = "invalid"
#: Written where an erased address appeared inside a message's error text.
ERASED_MARK = "[erased]"


@dataclass(frozen=True, slots=True)
class Erasure:
    """What :func:`erase_contact` did (all zero when the contact was already erased)."""

    contact_id: UUID
    enrollments_ended: int = 0
    messages_cancelled: int = 0
    events_scrubbed: int = 0
    checkouts_closed: int = 0


def tombstone_email() -> str:
    """A fresh, unique, undeliverable address: ``erased-<32 hex>@invalid``."""
    return f"erased-{uuid4().hex}@{ERASED_DOMAIN}"


def is_erased(email: str) -> bool:
    """Whether ``email`` is a tombstone (the contact was erased)."""
    return email.startswith("erased-") and email.endswith("@" + ERASED_DOMAIN)


def _scrubbed(payload: dict[str, Any], tombstone: str) -> dict[str, Any]:
    """An inbox payload without personal data; still a valid DomainEvent."""
    data = dict(payload)
    data["contact"] = {"email": tombstone}
    data["properties"] = {}
    cart = data.get("cart")
    if isinstance(cart, dict):
        data["cart"] = {**cart, "recovery_url": ""}
    return data


def _end_enrollments(session: Session, contact: Contact, now: datetime) -> int:
    active = list(
        session.scalars(
            select(Enrollment)
            .where(
                Enrollment.contact_id == contact.id,
                Enrollment.status == EnrollmentStatus.ACTIVE,
            )
            .with_for_update()
        )
    )
    for enrollment in active:
        step = enrollment.step_id or ""
        end_enrollment(session, enrollment, reason=ERASED_REASON, exited=True, now=now)
        add_trace(session, enrollment.id, [TraceEntry(step, "exited", ERASED_REASON)], now)
    return len(active)


def _scrub_messages(session: Session, contact: Contact, email: str, now: datetime) -> int:
    cancelled = session.execute(
        update(Message)
        .where(Message.contact_id == contact.id, Message.status == MessageStatus.PENDING)
        .values(status=MessageStatus.CANCELLED, error=f"cancelled: {ERASED_REASON}", updated_at=now)
    ).rowcount  # type: ignore[attr-defined]
    session.execute(
        update(Message)
        .where(Message.contact_id == contact.id)
        .values(
            to_address=None,
            subject=None,
            error=func.replace(Message.error, email, ERASED_MARK),
        )
    )
    return int(cancelled or 0)


def _scrub_events(session: Session, contact: Contact, email: str, tombstone: str) -> int:
    rows = list(
        session.scalars(
            select(Event).where(
                Event.store_id == contact.store_id,
                or_(
                    Event.contact_id == contact.id,
                    Event.payload["contact"]["email"].as_string() == email,
                ),
            )
        )
    )
    for row in rows:
        row.payload = _scrubbed(row.payload, tombstone)
        if email in row.idempotency_key:
            row.idempotency_key = row.idempotency_key.replace(email, tombstone)[:255]
    return len(rows)


def _close_checkouts(session: Session, contact: Contact, email: str, now: datetime) -> int:
    mine = (Checkout.store_id == contact.store_id, Checkout.email == email)
    closed = session.execute(
        update(Checkout)
        .where(*mine, Checkout.status.in_([CheckoutStatus.OPEN, CheckoutStatus.ABANDONED]))
        .values(status=CheckoutStatus.GONE, due_at=None, lease_until=None, updated_at=now)
    ).rowcount  # type: ignore[attr-defined]
    session.execute(update(Checkout).where(*mine).values(email=None, snapshot={}, updated_at=now))
    return int(closed or 0)


def erase_contact(session: Session, contact: Contact, now: datetime) -> Erasure:
    """Erase ``contact``'s personal data, keeping anonymous counts (see the module docstring).

    Idempotent: an erased contact is left as it is. The caller commits (one transaction: all
    or nothing). Lock the contact first if others may write it (``upsert_contact`` does).

    Returns:
        What was ended, cancelled, scrubbed and closed.
    """
    if is_erased(contact.email):
        return Erasure(contact.id)
    email, tombstone = contact.email, tombstone_email()
    cancelled = _scrub_messages(session, contact, email, now)  # before: ending cancels too
    ended = _end_enrollments(session, contact, now)
    scrubbed = _scrub_events(session, contact, email, tombstone)
    closed = _close_checkouts(session, contact, email, now)
    session.execute(delete(Purchase).where(Purchase.contact_id == contact.id))
    session.execute(delete(ListMember).where(ListMember.contact_id == contact.id))
    delete_contact_subscriptions(session, contact.store_id, contact.id)  # they identify devices
    contact.email = tombstone
    for name in (
        "first_name",
        "last_name",
        "language",
        "country",
        "platform_user_id",
        "phone",
        "gender",
        "time_zone",
    ):
        setattr(contact, name, None)
    contact.tags = []
    contact.custom_fields = {}
    contact.consents = {}
    contact.updated_at = now
    return Erasure(contact.id, ended, cancelled, scrubbed, closed)


def contacts_of_customer(
    session: Session, store_id: UUID, *, email: str, platform_user_id: str | None
) -> list[Contact]:
    """The store's contacts that are this customer: by email, or by platform user id (the
    customer may have changed address since), locked for update. Creates nothing."""
    match = [Contact.email == email]
    if platform_user_id:
        match.append(Contact.platform_user_id == platform_user_id)
    return list(
        session.scalars(
            select(Contact)
            .where(Contact.store_id == store_id, or_(*match))
            .order_by(Contact.id)
            .with_for_update()
        )
    )


def erase_customer(
    session: Session,
    store_id: UUID,
    *,
    email: str,
    platform_user_id: str | None,
    now: datetime,
) -> list[Erasure]:
    """Erase every contact of the store that is this customer (see :func:`contacts_of_customer`).
    What ``customer.deleted`` processing calls. Idempotent; the caller commits."""
    return [
        erase_contact(session, contact, now)
        for contact in contacts_of_customer(
            session, store_id, email=email, platform_user_id=platform_user_id
        )
    ]
