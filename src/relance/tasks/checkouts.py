"""Abandoned checkouts: the intake side (a checkout seen, an order placed) and the timer side
(declaring due checkouts abandoned).

No platform says "this cart was abandoned": a checkout with an email and lines that sees no
update for the store's abandonment delay becomes a ``cart.abandoned`` event. The timer lives in
the ``checkouts`` table (SPEC.md §7): :func:`raise_abandoned_checkouts` runs from the sweep.

- :func:`accept_checkout` records a platform's checkout state (and a ``checkout.updated`` event
  for a watched checkout), in one transaction; every update postpones abandonment.
- :func:`accept_domain_event` records an event; for ``order.placed`` whose ``checkout_id`` is a
  watched checkout, it closes that checkout in the same transaction (CONVERTED, or RECOVERED
  with ``properties.recovered_checkout_id`` on the event when ``cart.abandoned`` had fired).
- :func:`raise_abandoned_checkouts` claims due OPEN checkouts and records ``cart.abandoned``.

Checkouts the platform deleted silently. Saleor sends no event when it deletes a checkout (it
deletes anonymous ones 30 days, and users' 90 days, after their last change; completing one
sends ORDER_CREATED with its id). A due checkout whose last update is older than
:data:`STALE_AFTER` — relance was down, or a long delay — is closed as GONE without firing:
a reminder about a cart that old would point at a checkout that likely no longer exists.

Everything here is idempotent: events are keyed by checkout id and update time, rows are locked.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from relance.automation.contacts import ContactUpdate
from relance.automation.events import CartSnapshot, CheckoutState, DomainEvent, EventType
from relance.runtime import Runtime
from relance.store.models import Checkout, CheckoutStatus, Event, EventStatus, Store
from relance.store.repositories.checkouts import (
    claim_due_checkouts,
    close_on_order,
    observe_checkout,
    snapshot_of,
)
from relance.tasks.intake import Accepted, accept_event, record_event
from relance.tasks.leases import SWEEP_BATCH

logger = logging.getLogger(__name__)

#: A due checkout not updated for this long is closed as GONE instead of firing.
STALE_AFTER = timedelta(days=30)
#: Idempotency keys are at most 255 characters; longer checkout ids are hashed.
_MAX_ID_IN_KEY = 180


@dataclass(frozen=True, slots=True)
class CheckoutAccepted:
    """What became of a checkout observation: the row's status (``None``: not watched),
    ``stale`` if it changed nothing, and the ``checkout.updated`` event recorded, if any."""

    status: CheckoutStatus | None
    stale: bool
    event: Accepted | None = None


def checkout_key(event_type: EventType, checkout_id: str, moment: datetime) -> str:
    """``<event>:<checkout id>:<ISO time>``; a checkout id too long for the key is hashed."""
    if len(checkout_id) > _MAX_ID_IN_KEY:
        checkout_id = "sha256-" + hashlib.sha256(checkout_id.encode()).hexdigest()
    return f"{event_type.value}:{checkout_id}:{moment.isoformat()}"


def _record(
    session: Session, store_id: UUID, event: DomainEvent, now: datetime
) -> tuple[Accepted, bool]:
    """Record ``event`` in the caller's transaction; also whether to dispatch it after commit
    (new, or a duplicate still pending: as :func:`relance.tasks.intake.accept_event` does)."""
    accepted = record_event(session, store_id, event, event_id=uuid4(), now=now)
    if not accepted.duplicate:
        return accepted, True
    status = session.scalar(select(Event.status).where(Event.id == accepted.event_id))
    return accepted, status == EventStatus.PENDING


def accept_checkout(runtime: Runtime, store_id: UUID, state: CheckoutState) -> CheckoutAccepted:
    """Record a checkout's state as the platform reports it. Idempotent; safe to retry.

    In one transaction: the ``checkouts`` row is created or updated (see
    :func:`~relance.store.repositories.checkouts.observe_checkout`), and for a watched checkout
    a ``checkout.updated`` event (key: checkout id + update time) is recorded, which keeps the
    contact current. Then that event is dispatched.

    Raises:
        LookupError: no store ``store_id``.
        sqlalchemy.exc.DBAPIError: the database cannot be reached (nothing recorded).
    """
    now = runtime.clock()
    accepted: Accepted | None = None
    dispatch = False
    with runtime.sessions() as session, session.begin():
        store = session.get(Store, store_id)
        if store is None:
            raise LookupError(f"no store {store_id}")
        observed = observe_checkout(session, store, state, now)
        if observed.status is CheckoutStatus.OPEN and not observed.stale:
            assert state.contact is not None
            snapshot = snapshot_of(store, state)
            event = DomainEvent(
                type=EventType.CHECKOUT_UPDATED,
                idempotency_key=checkout_key(
                    EventType.CHECKOUT_UPDATED, state.checkout_id, state.updated_at
                ),
                occurred_at=state.updated_at,
                contact=state.contact,
                cart=CartSnapshot.model_validate(snapshot["cart"]),
                properties={"checkout_id": state.checkout_id},
            )
            accepted, dispatch = _record(session, store_id, event, now)
    if accepted is not None and dispatch:
        runtime.dispatcher.process_event(accepted.event_id)
    return CheckoutAccepted(observed.status, observed.stale, accepted)


def accept_domain_event(runtime: Runtime, store_id: UUID, event: DomainEvent) -> Accepted:
    """Record ``event`` for ``store_id`` and dispatch it; an ``order.placed`` with a
    ``checkout_id`` also closes that checkout, in the same transaction.

    When the checkout had been declared abandoned, the order is its recovery: the recorded
    event carries ``properties.recovered_checkout_id`` (campaign exit rules, conditions and
    revenue attribution read it). Idempotent; safe to retry.

    Raises:
        sqlalchemy.exc.DBAPIError: the database cannot be reached (nothing recorded).
    """
    order = event.order
    if event.type is not EventType.ORDER_PLACED or order is None or not order.checkout_id:
        return accept_event(runtime, store_id, event)
    now = runtime.clock()
    with runtime.sessions() as session, session.begin():
        recovered = close_on_order(
            session,
            store_id,
            order.checkout_id,
            order_id=order.order_id,
            placed_at=order.created_at,
            now=now,
        )
        if recovered:
            properties = {**event.properties, "recovered_checkout_id": order.checkout_id}
            event = event.model_copy(update={"properties": properties})
        accepted, dispatch = _record(session, store_id, event, now)
    if dispatch:
        runtime.dispatcher.process_event(accepted.event_id)
    return accepted


def abandoned_event(row: Checkout) -> DomainEvent:
    """The ``cart.abandoned`` event of a due checkout row (key: checkout id + update time).

    Raises:
        pydantic.ValidationError: the row's snapshot cannot be read.
        ValueError: the row has no contact or due time.
    """
    contact = row.snapshot.get("contact") if row.snapshot else None
    if not contact or row.due_at is None:
        raise ValueError("the checkout has no contact or no due time")
    return DomainEvent(
        type=EventType.CART_ABANDONED,
        idempotency_key=checkout_key(
            EventType.CART_ABANDONED, row.checkout_id, row.platform_updated_at
        ),
        occurred_at=row.due_at,
        contact=ContactUpdate.model_validate(contact),
        cart=CartSnapshot.model_validate(row.snapshot["cart"]),
        properties={"checkout_id": row.checkout_id},
    )


def raise_abandoned_checkouts(runtime: Runtime) -> int:
    """Declare the due OPEN checkouts abandoned: record ``cart.abandoned`` for each and mark it
    ABANDONED, in one transaction; then dispatch the events. Checkouts not updated for
    :data:`STALE_AFTER` are closed as GONE instead. Safe to run concurrently from many
    processes (rows are claimed with ``FOR UPDATE SKIP LOCKED``) and idempotent (keyed events).

    Returns:
        How many ``cart.abandoned`` events were recorded (at most one sweep batch; the next
        call takes the rest).
    """
    now = runtime.clock()
    to_dispatch: list[UUID] = []
    raised = 0
    with runtime.sessions() as session, session.begin():
        for row in claim_due_checkouts(session, now, SWEEP_BATCH):
            if now - row.platform_updated_at > STALE_AFTER:
                _close_as_gone(row, now)
                logger.info("checkout %s: no update for %s, closed as gone", row.id, STALE_AFTER)
                continue
            try:
                event = abandoned_event(row)
            except (ValidationError, ValueError) as exc:
                _close_as_gone(row, now)
                logger.warning("checkout %s: unreadable snapshot, closed (%s)", row.id, exc)
                continue
            accepted, dispatch = _record(session, row.store_id, event, now)
            row.status = CheckoutStatus.ABANDONED
            row.abandoned_at = now
            row.due_at = None
            row.lease_until = None
            row.updated_at = now
            raised += 1
            if dispatch:
                to_dispatch.append(accepted.event_id)
    for event_id in to_dispatch:
        runtime.dispatcher.process_event(event_id)
    if raised:
        logger.info("abandoned checkouts: %d cart.abandoned recorded", raised)
    return raised


def _close_as_gone(row: Checkout, now: datetime) -> None:
    row.status = CheckoutStatus.GONE
    row.due_at = None
    row.lease_until = None
    row.updated_at = now
