"""Saleor webhook bodies → what relance records.

Pure functions of the body: no I/O, no clock. Each mapper returns one of:

- a :class:`~relance.automation.events.DomainEvent` for the inbox (orders, customers);
- a :class:`~relance.automation.events.CheckoutState` for abandonment detection (checkouts);
- :class:`AppRemoved` (APP_DELETED: the caller uninstalls the store if it is relance);
- :class:`NothingToRecord` when the body is well-formed but says nothing relance keeps.

Idempotency keys identify the fact, never the delivery, so Saleor's retries and duplicates map
to the same key: ``<event>:<order id>`` for orders, ``<event>:<user id>`` for sign-up,
confirmation and deletion, ``customer.updated:<user id>:<updatedAt>``; a checkout is ordered by
its ``updatedAt``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from relance.automation.contacts import ContactUpdate, normalise_phone
from relance.automation.events import (
    CartSnapshot,
    CheckoutState,
    DomainEvent,
    EventType,
    LineItem,
    OrderSnapshot,
)
from relance.plugin.saleor.errors import PayloadError
from relance.plugin.saleor.payloads import (
    AccountConfirmedPayload,
    AppDeletedPayload,
    Checkout,
    CheckoutLine,
    CheckoutPayload,
    Customer,
    CustomerDeletedPayload,
    CustomerPayload,
    Order,
    OrderLine,
    OrderPayload,
    parse_payload,
)


@dataclass(frozen=True, slots=True)
class AppRemoved:
    """An app was deleted from the Saleor (APP_DELETED): relance, if the id is its own."""

    app_id: str | None
    identifier: str | None


@dataclass(frozen=True, slots=True)
class NothingToRecord:
    """A well-formed delivery that carries nothing relance keeps (``reason`` says why)."""

    reason: str


Mapped = DomainEvent | CheckoutState | AppRemoved | NothingToRecord
Mapper = Callable[[Mapping[str, Any]], Mapped]


def _filled(*values: str | None) -> str | None:
    """The first value that is not ``None`` or blank, stripped."""
    for value in values:
        if value is not None and value.strip():
            return value.strip()
    return None


def _phone(*values: str | None) -> str | None:
    """The first value that is a usable E.164 number (a bad one is dropped, never fatal)."""
    for value in values:
        try:
            phone = normalise_phone(value)
        except ValueError:
            continue
        if phone is not None:
            return phone
    return None


def _invalid_fields(exc: ValidationError) -> str:
    return ", ".join(str(error["loc"][0]) for error in exc.errors())


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


# -- orders --------------------------------------------------------------------------------


def _order_contact(order: Order) -> ContactUpdate:
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
            phone=_phone(billing.phone if billing else None),
        )
    except ValidationError as exc:
        raise PayloadError(
            f"order.userEmail: not a usable contact ({_invalid_fields(exc)} invalid)"
        ) from exc


def _order_line(index: int, line: OrderLine) -> LineItem:
    product = line.variant.product if line.variant else None
    try:
        return LineItem(
            product_name=_filled(line.translated_product_name, line.product_name) or "",
            variant_name=_filled(line.translated_variant_name, line.variant_name) or "",
            sku=_filled(line.product_sku),
            product_id=product.id if product else None,
            variant_id=line.product_variant_id or (line.variant.id if line.variant else None),
            quantity=line.quantity,
            unit_price=line.unit_price.gross.amount,
            total_price=line.total_price.gross.amount,
            currency=line.unit_price.gross.currency,
            image_url=line.thumbnail.url if line.thumbnail else None,
            image_alt=_filled(line.thumbnail.alt) if line.thumbnail else None,
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        raise PayloadError(f"order.lines.{index}.{error['loc'][0]}: {error['msg']}") from exc


def _order_snapshot(order: Order, created: datetime) -> OrderSnapshot:
    try:
        return OrderSnapshot(
            order_id=order.id,
            number=order.number,
            created_at=created,
            checkout_id=order.checkout_id,
            channel=order.channel.slug if order.channel else None,
            currency=order.total.gross.currency,
            lines=tuple(_order_line(i, line) for i, line in enumerate(order.lines)),
            subtotal=order.subtotal.gross.amount,
            shipping=order.shipping_price.gross.amount if order.shipping_price else 0,
            total=order.total.gross.amount,
            voucher_code=_filled(order.voucher_code),
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        raise PayloadError(f"order.{error['loc'][0]}: {error['msg']}") from exc


def _order_event(body: Mapping[str, Any], event_type: EventType) -> DomainEvent:
    payload = parse_payload(OrderPayload, body)
    order = payload.order
    created = order.created or payload.issued_at
    if created is None:
        raise PayloadError("order.created: missing (and issuedAt too): when was it placed?")
    created = _utc(created)
    # placed: when the order was created; paid, cancelled, refunded: when Saleor said so
    occurred = created if event_type is EventType.ORDER_PLACED else payload.issued_at or created
    return DomainEvent(
        type=event_type,
        idempotency_key=f"{event_type.value}:{order.id}",
        occurred_at=_utc(occurred),
        contact=_order_contact(order),
        order=_order_snapshot(order, created),
    )


def order_created_event(body: Mapping[str, Any]) -> DomainEvent:
    """Map an ORDER_CREATED body to an ``order.placed`` event.

    The contact is the order's ``userEmail`` (else ``user.email``), named after the user (else the
    billing address), speaking the order's language, living in the billing country. Line names
    are the ones translated into the customer's language, falling back to the shop's names when
    the translation is blank. ``order.checkout_id`` lets the caller close the abandoned checkout.

    Raises:
        PayloadError: the body does not fit (no order, no email, wrong types); the message names
            the field.

    Returns:
        An event whose idempotency key is ``order.placed:<order id>``. Pure.
    """
    return _order_event(body, EventType.ORDER_PLACED)


def order_fully_paid_event(body: Mapping[str, Any]) -> DomainEvent:
    """ORDER_FULLY_PAID → ``order.paid`` (key ``order.paid:<order id>``), at ``issuedAt``."""
    return _order_event(body, EventType.ORDER_PAID)


def order_cancelled_event(body: Mapping[str, Any]) -> DomainEvent:
    """ORDER_CANCELLED → ``order.cancelled`` (key ``order.cancelled:<order id>``)."""
    return _order_event(body, EventType.ORDER_CANCELLED)


def order_fully_refunded_event(body: Mapping[str, Any]) -> DomainEvent:
    """ORDER_FULLY_REFUNDED → ``order.refunded`` (key ``order.refunded:<order id>``)."""
    return _order_event(body, EventType.ORDER_REFUNDED)


# -- customers -----------------------------------------------------------------------------


def _customer_contact(user: Customer) -> ContactUpdate:
    email = _filled(user.email)
    if email is None:
        raise PayloadError("user.email: missing: no one to write to")
    billing, shipping = user.default_billing_address, user.default_shipping_address
    country = _filled(
        billing.country.code if billing and billing.country else None,
        shipping.country.code if shipping and shipping.country else None,
    )
    try:
        return ContactUpdate(
            email=email,
            first_name=_filled(user.first_name),
            last_name=_filled(user.last_name),
            language=user.language_code,
            country=country,
            platform_user_id=user.id,
            phone=_phone(billing.phone if billing else None, shipping.phone if shipping else None),
        )
    except ValidationError as exc:
        raise PayloadError(
            f"user.email: not a usable contact ({_invalid_fields(exc)} invalid)"
        ) from exc


def _customer_event(
    payload: CustomerPayload, event_type: EventType, *, versioned: bool = False
) -> DomainEvent:
    user = payload.user
    if user is None:
        raise PayloadError("user: missing")
    moment = {
        EventType.CUSTOMER_SIGNED_UP: user.date_joined,
        EventType.CUSTOMER_UPDATED: user.updated_at,
    }.get(event_type)
    occurred = moment or payload.issued_at
    if occurred is None:
        raise PayloadError("issuedAt: missing (and the user's own date too): when was it?")
    occurred = _utc(occurred)
    key = f"{event_type.value}:{user.id}"
    if versioned:
        key += f":{occurred.isoformat()}"
    return DomainEvent(
        type=event_type,
        idempotency_key=key[:255],
        occurred_at=occurred,
        contact=_customer_contact(user),
    )


def customer_created_event(body: Mapping[str, Any]) -> DomainEvent:
    """CUSTOMER_CREATED → ``customer.signed_up`` (key ``customer.signed_up:<user id>``).

    The contact's language is the account's ``languageCode``; its country and phone come from
    the default billing address, else the shipping one (a phone that is not E.164 is left out).
    """
    return _customer_event(parse_payload(CustomerPayload, body), EventType.CUSTOMER_SIGNED_UP)


def customer_updated_event(body: Mapping[str, Any]) -> DomainEvent:
    """CUSTOMER_UPDATED → ``customer.updated``, one per version of the account (key
    ``customer.updated:<user id>:<updatedAt>``)."""
    payload = parse_payload(CustomerPayload, body)
    return _customer_event(payload, EventType.CUSTOMER_UPDATED, versioned=True)


def account_confirmed_event(body: Mapping[str, Any]) -> DomainEvent:
    """ACCOUNT_CONFIRMED → ``customer.confirmed`` (key ``customer.confirmed:<user id>``)."""
    payload = parse_payload(AccountConfirmedPayload, body)
    return _customer_event(payload, EventType.CUSTOMER_CONFIRMED)


def customer_deleted_event(body: Mapping[str, Any]) -> DomainEvent:
    """CUSTOMER_DELETED / ACCOUNT_DELETED → ``customer.deleted`` (key
    ``customer.deleted:<user id>``), whose processing erases the contact's personal data."""
    payload = parse_payload(CustomerDeletedPayload, body)
    user = payload.user
    if user is None:
        raise PayloadError("user: missing: whom to erase?")
    email = _filled(user.email)
    if email is None:
        raise PayloadError("user.email: missing: whom to erase?")
    if payload.issued_at is None:
        raise PayloadError("issuedAt: missing: when was the customer deleted?")
    try:
        contact = ContactUpdate(email=email, platform_user_id=user.id)
    except ValidationError as exc:
        raise PayloadError("user.email: not an email address") from exc
    return DomainEvent(
        type=EventType.CUSTOMER_DELETED,
        idempotency_key=f"{EventType.CUSTOMER_DELETED.value}:{user.id}"[:255],
        occurred_at=_utc(payload.issued_at),
        contact=contact,
    )


# -- checkouts -----------------------------------------------------------------------------


def name_languages(language_code: str | None) -> tuple[str, ...]:
    """``"FR_CA"`` → ``("FR_CA", "FR")``: the translations to try, most specific first."""
    if not language_code:
        return ()
    code = language_code.strip().upper().replace("-", "_")
    parts = code.split("_")
    return tuple("_".join(parts[:size]) for size in range(len(parts), 0, -1))


def _checkout_contact(checkout: Checkout) -> ContactUpdate | None:
    user, billing = checkout.user, checkout.billing_address
    email = _filled(checkout.email, user.email if user else None)
    if email is None:
        return None
    try:
        return ContactUpdate(
            email=email,
            first_name=_filled(
                user.first_name if user else None, billing.first_name if billing else None
            ),
            last_name=_filled(
                user.last_name if user else None, billing.last_name if billing else None
            ),
            language=checkout.language_code or (user.language_code if user else None),
            country=_filled(billing.country.code if billing and billing.country else None),
            platform_user_id=user.id if user else None,
            phone=_phone(billing.phone if billing else None),
        )
    except ValidationError:
        return None  # an address nobody can write to: the checkout is not watched


def _checkout_line(
    index: int, line: CheckoutLine, languages: tuple[str, ...], currency: str
) -> LineItem:
    variant = line.variant
    product = variant.product if variant else None
    total = line.total_price.gross.amount if line.total_price else None
    unit = line.undiscounted_unit_price.amount if line.undiscounted_unit_price else None
    if unit is None and total is not None and line.quantity:
        unit = total / line.quantity
    if unit is None:
        raise PayloadError(f"checkout.lines.{index}: no price (undiscountedUnitPrice, totalPrice)")
    product_name = (product.name_in(languages) or _filled(product.name)) if product else None
    variant_name = (variant.name_in(languages) or _filled(variant.name)) if variant else None
    if line.total_price is not None:
        currency = line.total_price.gross.currency
    elif line.undiscounted_unit_price is not None:
        currency = line.undiscounted_unit_price.currency
    thumbnail = product.thumbnail if product else None
    try:
        return LineItem(
            product_name=product_name or "",
            variant_name=variant_name or "",
            sku=_filled(variant.sku) if variant else None,
            product_id=product.id if product else None,
            variant_id=variant.id if variant else None,
            quantity=line.quantity,
            unit_price=unit,
            total_price=total if total is not None else unit * line.quantity,
            currency=currency,
            image_url=thumbnail.url if thumbnail else None,
            image_alt=_filled(thumbnail.alt) if thumbnail else None,
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        raise PayloadError(f"checkout.lines.{index}.{error['loc'][0]}: {error['msg']}") from exc


def checkout_state(body: Mapping[str, Any]) -> CheckoutState | NothingToRecord:
    """Map a CHECKOUT_CREATED / CHECKOUT_UPDATED body to the checkout's current state.

    Product and variant names are taken in the checkout's language (``FR_CA``, then ``FR``),
    else the shop's own names. The contact is the checkout's email (else its user's); a checkout
    without one has ``contact=None`` and is not watched. ``recovery_url`` is left to the store's
    template (see :mod:`relance.store.repositories.checkouts`).

    Raises:
        PayloadError: the body does not fit (no ``updatedAt``, a line without price…).

    Returns:
        The state, or :class:`NothingToRecord` when Saleor sent no checkout. Pure.
    """
    payload = parse_payload(CheckoutPayload, body)
    checkout = payload.checkout
    if checkout is None:
        return NothingToRecord("the delivery holds no checkout")
    languages = name_languages(checkout.language_code)
    currency = (
        checkout.total_price.gross.currency
        if checkout.total_price
        else (checkout.channel.currency_code if checkout.channel else None)
    )
    if not currency:
        raise PayloadError("checkout.totalPrice: missing (and channel.currencyCode too)")
    lines = tuple(
        _checkout_line(i, line, languages, currency) for i, line in enumerate(checkout.lines)
    )
    total = (
        checkout.total_price.gross.amount
        if checkout.total_price
        else sum((line.total_price for line in lines), Decimal(0))
    )
    contact = _checkout_contact(checkout)
    updated_at = _utc(checkout.updated_at)
    return CheckoutState(
        checkout_id=checkout.id,
        token=checkout.token,
        updated_at=updated_at,
        contact=contact,
        language=contact.language if contact else None,
        cart=CartSnapshot(
            checkout_id=checkout.id,
            channel=checkout.channel.slug if checkout.channel else None,
            currency=currency,
            lines=lines,
            subtotal=checkout.subtotal_price.gross.amount if checkout.subtotal_price else total,
            total=total,
            updated_at=updated_at,
            voucher_code=_filled(checkout.voucher_code),
        ),
    )


# -- the app -------------------------------------------------------------------------------


def app_deleted(body: Mapping[str, Any]) -> AppRemoved | NothingToRecord:
    """APP_DELETED → which app was deleted (the caller compares it with the store's app id)."""
    payload = parse_payload(AppDeletedPayload, body)
    if payload.app is None:
        return NothingToRecord("the delivery names no app")
    return AppRemoved(app_id=payload.app.id, identifier=payload.app.identifier)


#: ``Saleor-Event`` header value (lower case) → the mapper for that event's body.
MAPPERS: dict[str, Mapper] = {
    "checkout_created": checkout_state,
    "checkout_updated": checkout_state,
    "order_created": order_created_event,
    "order_fully_paid": order_fully_paid_event,
    "order_cancelled": order_cancelled_event,
    "order_fully_refunded": order_fully_refunded_event,
    "customer_created": customer_created_event,
    "customer_updated": customer_updated_event,
    "account_confirmed": account_confirmed_event,
    "customer_deleted": customer_deleted_event,
    "account_deleted": customer_deleted_event,
    "app_deleted": app_deleted,
}
