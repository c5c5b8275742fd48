"""Saleor webhook bodies → :class:`~relance.automation.events.DomainEvent`.

Pure functions of the body: no I/O, no clock. The idempotency key is derived from the fact (the
order id), never from the delivery, so Saleor's retries and duplicates map to the same key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC
from typing import Any

from pydantic import ValidationError

from relance.automation.contacts import ContactUpdate
from relance.automation.events import DomainEvent, EventType, LineItem, OrderSnapshot
from relance.plugin.saleor.errors import PayloadError
from relance.plugin.saleor.payloads import Order, OrderCreatedPayload, OrderLine, parse_payload

Mapper = Callable[[Mapping[str, Any]], DomainEvent]


def _filled(*values: str | None) -> str | None:
    """The first value that is not ``None`` or blank, stripped."""
    for value in values:
        if value is not None and value.strip():
            return value.strip()
    return None


def _contact(order: Order) -> ContactUpdate:
    user, billing = order.user, order.billing_address
    email = _filled(order.user_email, user.email if user else None)
    if email is None:
        raise PayloadError(
            "order.userEmail: missing (and order.user.email too): no one to write to"
        )
    first_name = _filled(user.first_name if user else None, billing.first_name if billing else None)
    last_name = _filled(user.last_name if user else None, billing.last_name if billing else None)
    country = billing.country.code if billing and billing.country else None
    try:
        return ContactUpdate(
            email=email,
            first_name=first_name,
            last_name=last_name,
            language=order.language_code_enum or (user.language_code if user else None),
            country=_filled(country),
            platform_user_id=user.id if user else None,
        )
    except ValidationError as exc:
        fields = ", ".join(str(error["loc"][0]) for error in exc.errors())
        raise PayloadError(f"order.userEmail: not a usable contact ({fields} invalid)") from exc


def _line(index: int, line: OrderLine) -> LineItem:
    product = line.variant.product if line.variant else None
    try:
        return _line_item(line, product.id if product else None)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise PayloadError(f"order.lines.{index}.{error['loc'][0]}: {error['msg']}") from exc


def _line_item(line: OrderLine, product_id: str | None) -> LineItem:
    return LineItem(
        product_name=_filled(line.translated_product_name, line.product_name) or "",
        variant_name=_filled(line.translated_variant_name, line.variant_name) or "",
        sku=_filled(line.product_sku),
        product_id=product_id,
        variant_id=line.product_variant_id or (line.variant.id if line.variant else None),
        quantity=line.quantity,
        unit_price=line.unit_price.gross.amount,
        total_price=line.total_price.gross.amount,
        currency=line.unit_price.gross.currency,
        image_url=line.thumbnail.url if line.thumbnail else None,
        image_alt=_filled(line.thumbnail.alt) if line.thumbnail else None,
    )


def order_created_event(body: Mapping[str, Any]) -> DomainEvent:
    """Map an ORDER_CREATED body to an ``order.placed`` event.

    The contact is the order's ``userEmail`` (else ``user.email``), named after the user (else the
    billing address), speaking the order's language, living in the billing country. Line names
    are the ones translated into the customer's language, falling back to the shop's names when
    the translation is blank.

    Raises:
        PayloadError: the body does not fit (no order, no email, wrong types); the message names
            the field.

    Returns:
        An event whose idempotency key is ``order.placed:<order id>``. Pure.
    """
    payload = parse_payload(OrderCreatedPayload, body)
    order = payload.order
    created = order.created or payload.issued_at
    if created is None:
        raise PayloadError("order.created: missing (and issuedAt too): when was it placed?")
    created = created.astimezone(UTC)
    try:
        snapshot = OrderSnapshot(
            order_id=order.id,
            number=order.number,
            created_at=created,
            checkout_id=order.checkout_id,
            channel=order.channel.slug if order.channel else None,
            currency=order.total.gross.currency,
            lines=tuple(_line(i, line) for i, line in enumerate(order.lines)),
            subtotal=order.subtotal.gross.amount,
            shipping=order.shipping_price.gross.amount if order.shipping_price else 0,
            total=order.total.gross.amount,
            voucher_code=_filled(order.voucher_code),
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        raise PayloadError(f"order.{error['loc'][0]}: {error['msg']}") from exc
    return DomainEvent(
        type=EventType.ORDER_PLACED,
        idempotency_key=f"{EventType.ORDER_PLACED.value}:{order.id}",
        occurred_at=created,
        contact=_contact(order),
        order=snapshot,
    )


#: ``Saleor-Event`` header value (lower case) → the mapper for that event's body.
MAPPERS: dict[str, Mapper] = {
    "order_created": order_created_event,
}
