"""Generic events → what relance records: a :class:`~relance.automation.events.DomainEvent`
for the inbox, or a :class:`~relance.automation.events.CheckoutState` for ``cart.updated``.

Pure. Idempotency keys are ``<type>:<event id>``: the shop's event id, scoped by type.
"""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from relance.automation.contacts import ContactUpdate
from relance.automation.events import (
    CartSnapshot,
    CheckoutState,
    DomainEvent,
    EventType,
    LineItem,
    OrderSnapshot,
)
from relance.plugin.generic.errors import InvalidEvent, Problem
from relance.plugin.generic.schema import Cart, Contact, GenericEvent, Line, Order

#: Generic type → domain event type (``custom.*`` → :attr:`EventType.CUSTOM`).
TYPES = {
    "order.placed": EventType.ORDER_PLACED,
    "order.paid": EventType.ORDER_PAID,
    "order.cancelled": EventType.ORDER_CANCELLED,
    "order.refunded": EventType.ORDER_REFUNDED,
    "customer.signed_up": EventType.CUSTOMER_SIGNED_UP,
    "customer.updated": EventType.CUSTOMER_UPDATED,
    "customer.deleted": EventType.CUSTOMER_DELETED,
}


def problems_of(exc: ValidationError, prefix: str = "") -> list[Problem]:
    """Each validation error as (dotted field path, message), values never repeated."""
    found = []
    for error in exc.errors(include_url=False, include_input=False):
        path = ".".join(str(part) for part in error["loc"])
        message = "missing" if error["type"] == "missing" else error["msg"]
        found.append(Problem(f"{prefix}{path}", message))
    return found


def _contact(contact: Contact) -> ContactUpdate:
    try:
        return ContactUpdate(
            email=contact.email,
            first_name=contact.first_name or None,
            last_name=contact.last_name or None,
            language=contact.language or None,
            country=contact.country.upper() if contact.country else None,
            phone=contact.phone or None,
            gender=contact.gender or None,
            time_zone=contact.time_zone or None,
            platform_user_id=contact.user_id or None,
        )
    except ValidationError as exc:
        problems = problems_of(exc, "contact.")
        raise InvalidEvent("the contact is not usable", problems) from exc


def _lines(lines: list[Line], currency: str) -> tuple[LineItem, ...]:
    return tuple(
        LineItem(
            product_name=line.product_name,
            variant_name=line.variant_name,
            sku=line.sku,
            product_id=line.product_id,
            variant_id=line.variant_id,
            quantity=line.quantity,
            unit_price=line.unit_price,
            total_price=(
                line.total_price
                if line.total_price is not None
                else line.unit_price * line.quantity
            ),
            currency=currency,
            image_url=line.image_url,
            image_alt=line.image_alt,
        )
        for line in lines
    )


def _order(event: GenericEvent, order: Order) -> OrderSnapshot:
    lines = _lines(order.lines, order.currency)
    subtotal = order.subtotal if order.subtotal is not None else order.lines_total()
    return OrderSnapshot(
        order_id=order.id,
        number=order.number or order.id,
        created_at=(order.created_at or event.occurred_at).astimezone(UTC),
        checkout_id=order.cart_id or None,
        channel=order.channel,
        currency=order.currency,
        lines=lines,
        subtotal=subtotal,
        shipping=order.shipping,
        total=order.total if order.total is not None else subtotal + order.shipping,
        voucher_code=order.voucher_code,
    )


def _cart_state(event: GenericEvent, cart: Cart) -> CheckoutState:
    contact = _contact(event.contact) if event.contact is not None else None
    updated_at = (cart.updated_at or event.occurred_at).astimezone(UTC)
    lines_total = cart.lines_total()
    return CheckoutState(
        checkout_id=cart.id,
        token=cart.token or cart.id,
        updated_at=updated_at,
        contact=contact,
        language=contact.language if contact else None,
        cart=CartSnapshot(
            checkout_id=cart.id,
            channel=cart.channel,
            currency=cart.currency,
            lines=_lines(cart.lines, cart.currency),
            subtotal=cart.subtotal if cart.subtotal is not None else lines_total,
            total=cart.total if cart.total is not None else lines_total,
            recovery_url=cart.recovery_url or "",
            updated_at=updated_at,
            voucher_code=cart.voucher_code,
        ),
    )


def _plain(value: Any) -> Any:
    """JSON numbers read as ``Decimal`` (exact amounts) back to plain numbers, so that
    ``properties`` keep the JSON types the shop sent."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def map_event(event: GenericEvent) -> DomainEvent | CheckoutState:
    """What ``event`` becomes in relance.

    Raises:
        InvalidEvent: a part is not usable (e.g. the contact's phone is not international).
    """
    if event.type == "cart.updated":
        assert event.cart is not None
        return _cart_state(event, event.cart)
    assert event.contact is not None
    event_type = TYPES.get(event.type, EventType.CUSTOM)
    try:
        return DomainEvent(
            type=event_type,
            custom_name=event.type if event_type is EventType.CUSTOM else None,
            idempotency_key=f"{event.type}:{event.id}",
            occurred_at=event.occurred_at.astimezone(UTC),
            contact=_contact(event.contact),
            order=_order(event, event.order) if event.order is not None else None,
            properties=_plain(event.properties),
        )
    except ValidationError as exc:
        raise InvalidEvent("the event is not usable", problems_of(exc)) from exc


__all__ = ["TYPES", "map_event", "problems_of"]
