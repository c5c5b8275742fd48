"""Checkouts watched for abandonment: what a platform says about them, orders closing them, and
the due ones to declare abandoned.

One row per (store, platform checkout id); the row is the timer (``due_at``). Transitions::

    (none) ──watchable──► OPEN ──due, claimed──► ABANDONED ──update──► OPEN (again)
              OPEN / ABANDONED ──no email or no lines──► GONE ──watchable──► OPEN
              any ──order with this checkout id──► CONVERTED (never abandoned) / RECOVERED (was)

CONVERTED and RECOVERED are final: a late checkout delivery never reopens an ordered checkout.
Observations are ordered by the platform's ``updated_at``: an older or equal one changes
nothing. Every function takes the caller's session and leaves committing to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote
from uuid import UUID, uuid4

from sqlalchemy import select
from sqlalchemy.orm import Session

from relance.automation.events import CheckoutState
from relance.store.models import Checkout, CheckoutStatus, Store, StoreStatus
from relance.store.upsert import insert_ignoring_conflict

#: ``storefront_urls`` key whose URLs serve every channel without an entry of its own.
ANY_CHANNEL = "*"
#: Placeholders of a ``checkout`` URL template.
PLACEHOLDERS = ("{token}", "{checkout_id}", "{lang}")
#: Statuses an order has closed for good.
ORDERED = (CheckoutStatus.CONVERTED, CheckoutStatus.RECOVERED)


@dataclass(frozen=True, slots=True)
class Observed:
    """What an observation did: the row's status after it (``None``: no row, the checkout is
    not watched), and ``stale`` when it changed nothing (older than what was seen, or the
    checkout was already ordered)."""

    status: CheckoutStatus | None
    stale: bool = False


def recovery_url(
    store: Store,
    *,
    channel: str | None,
    token: str | None,
    checkout_id: str,
    language: str | None,
) -> str:
    """The link that brings the customer back to the checkout, from the store's settings.

    ``store.storefront_urls[channel]`` (else ``["*"]``) is ``{"home": url, "checkout": template}``;
    the template's ``{token}`` (the platform's checkout token, else its id), ``{checkout_id}`` and
    ``{lang}`` (the contact's language, else the store's) are replaced, URL-encoded. Without a
    template the channel's home page is used; without either, ``""``. Pure.
    """
    urls: dict[str, Any] = store.storefront_urls or {}
    entry = urls.get(channel or "") or urls.get(ANY_CHANNEL)
    if not isinstance(entry, dict):
        return ""
    template = entry.get("checkout")
    if not isinstance(template, str) or not template:
        home = entry.get("home")
        return home if isinstance(home, str) else ""
    values = {
        "{token}": token or checkout_id,
        "{checkout_id}": checkout_id,
        "{lang}": language or store.default_language or "",
    }
    for placeholder, value in values.items():
        template = template.replace(placeholder, quote(value, safe=""))
    return template


def acts_on_channel(store: Store, channel: str | None) -> bool:
    """Whether the store acts on ``channel`` (every channel when its list is empty)."""
    return not store.channels or channel is None or channel in store.channels


def snapshot_of(store: Store, state: CheckoutState) -> dict[str, Any]:
    """The JSON kept with the row: the contact update and the cart, with its recovery URL (the
    platform's own when it sent one, else the store's template)."""
    url = state.cart.recovery_url or recovery_url(
        store,
        channel=state.cart.channel,
        token=state.token,
        checkout_id=state.checkout_id,
        language=state.language,
    )
    cart = state.cart.model_copy(update={"recovery_url": url})
    contact = state.contact.model_dump(mode="json") if state.contact else None
    return {"contact": contact, "cart": cart.model_dump(mode="json")}


def _locked(session: Session, store_id: UUID, checkout_id: str) -> Checkout | None:
    return session.scalars(
        select(Checkout)
        .where(Checkout.store_id == store_id, Checkout.checkout_id == checkout_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def _insert(
    session: Session, store_id: UUID, checkout_id: str, now: datetime, **values: Any
) -> bool:
    return insert_ignoring_conflict(
        session,
        Checkout,
        {
            "id": uuid4(),
            "store_id": store_id,
            "checkout_id": checkout_id,
            "lease_until": None,
            "abandoned_at": None,
            "created_at": now,
            "updated_at": now,
            **values,
        },
        ["store_id", "checkout_id"],
    )


def observe_checkout(
    session: Session, store: Store, state: CheckoutState, now: datetime
) -> Observed:
    """Record what the platform says the checkout looks like at ``state.updated_at``.

    A watchable checkout (an email, at least one line, a channel the store acts on) is OPEN and
    due ``store.abandonment_delay_minutes`` after its last update; one that stops being
    watchable is GONE; one never watched gets no row. Idempotent: the same observation twice
    changes nothing the second time. Safe under concurrency (the row is locked).
    """
    watch = state.watchable and acts_on_channel(store, state.cart.channel)
    delay = timedelta(minutes=store.abandonment_delay_minutes)
    row = _locked(session, store.id, state.checkout_id)
    if row is None:
        if not watch:
            return Observed(None)
        assert state.contact is not None
        inserted = _insert(
            session,
            store.id,
            state.checkout_id,
            now,
            email=state.contact.email,
            status=CheckoutStatus.OPEN,
            platform_updated_at=state.updated_at,
            due_at=state.updated_at + delay,
            snapshot=snapshot_of(store, state),
            order_id=None,
        )
        if inserted:
            return Observed(CheckoutStatus.OPEN)
        row = _locked(session, store.id, state.checkout_id)  # made meanwhile: update it
        assert row is not None
    if state.updated_at <= row.platform_updated_at or row.status in ORDERED:
        return Observed(CheckoutStatus(row.status), stale=True)
    row.platform_updated_at = state.updated_at
    row.lease_until = None
    row.updated_at = now
    if watch:
        assert state.contact is not None
        row.status = CheckoutStatus.OPEN
        row.email = state.contact.email
        row.due_at = state.updated_at + delay
        row.snapshot = snapshot_of(store, state)
    else:
        row.status = CheckoutStatus.GONE
        row.email = None
        row.due_at = None
        row.snapshot = {}
    return Observed(CheckoutStatus(row.status))


def close_on_order(
    session: Session,
    store_id: UUID,
    checkout_id: str,
    *,
    order_id: str,
    placed_at: datetime,
    now: datetime,
) -> bool:
    """An order was placed from ``checkout_id``: it is CONVERTED, or RECOVERED if it had been
    declared abandoned (then the order is attributed to the recovery). Final either way.

    A checkout relance never watched gets a CONVERTED row, so that a late delivery of the
    checkout cannot start watching it. Idempotent: the same order twice gives the same answer.

    Returns:
        Whether the order recovered an abandoned checkout.
    """
    row = _locked(session, store_id, checkout_id)
    if row is None:
        inserted = _insert(
            session,
            store_id,
            checkout_id,
            now,
            email=None,
            status=CheckoutStatus.CONVERTED,
            platform_updated_at=placed_at,
            due_at=None,
            snapshot={},
            order_id=order_id,
        )
        if inserted:
            return False
        row = _locked(session, store_id, checkout_id)
        assert row is not None
    if row.status not in ORDERED:
        row.status = (
            CheckoutStatus.RECOVERED if row.abandoned_at is not None else CheckoutStatus.CONVERTED
        )
        row.order_id = order_id
        row.due_at = None
        row.lease_until = None
        row.updated_at = now
    return bool(row.status == CheckoutStatus.RECOVERED)


def claim_due_checkouts(session: Session, now: datetime, limit: int) -> list[Checkout]:
    """OPEN checkouts of active stores due by ``now``, oldest first, locked for this
    transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL: concurrent sweeps take other rows)."""
    return list(
        session.scalars(
            select(Checkout)
            .join(Store, Store.id == Checkout.store_id)
            .where(
                Checkout.status == CheckoutStatus.OPEN,
                Checkout.due_at <= now,
                Store.status == StoreStatus.ACTIVE,
            )
            .order_by(Checkout.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True, of=Checkout)
            .execution_options(populate_existing=True)
        )
    )
