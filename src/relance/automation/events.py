"""Domain events: immutable facts that campaigns react to.

A :class:`DomainEvent` is what every platform plugin maps its webhooks to. It carries an
``idempotency_key`` that is unique per store: the same fact delivered twice (Saleor retries and
duplicates) has the same key, so the inbox records it once.

Money amounts are :class:`decimal.Decimal` in the currency's major unit (``Decimal("89.00")`` EUR).
Timestamps are timezone-aware UTC datetimes.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from relance.automation.contacts import ContactUpdate


class EventType(StrEnum):
    """Names of domain events (SPEC.md §2). Stored values: never rename one."""

    CHECKOUT_UPDATED = "checkout.updated"
    CART_ABANDONED = "cart.abandoned"
    ORDER_PLACED = "order.placed"
    ORDER_PAID = "order.paid"
    CUSTOMER_SIGNED_UP = "customer.signed_up"
    CUSTOMER_CONFIRMED = "customer.confirmed"
    NEWSLETTER_SUBSCRIBED = "newsletter.subscribed"
    ORDER_CANCELLED = "order.cancelled"
    ORDER_REFUNDED = "order.refunded"
    CUSTOMER_UPDATED = "customer.updated"
    LIST_ENTERED = "list.entered"  #: properties: list_id
    LIST_EXITED = "list.exited"  #: properties: list_id
    MESSAGE_OPENED = "message.opened"
    MESSAGE_CLICKED = "message.clicked"
    MESSAGE_BOUNCED = "message.bounced"
    SMS_RECEIVED = "sms.received"
    DATE_REACHED = "date.reached"  #: properties: campaign_id, date (a date trigger fired)
    #: The platform deleted the customer: processing erases the contact's personal data.
    CUSTOMER_DELETED = "customer.deleted"
    #: A store-defined event; its name (``custom.<name>``) is :attr:`DomainEvent.custom_name`.
    CUSTOM = "custom"


#: ``custom.<name>``: what a store may call its own events (campaign triggers use the same form).
CUSTOM_EVENT_NAME = re.compile(r"^custom\.[a-z0-9_]+(\.[a-z0-9_]+){0,2}$")


class LineItem(BaseModel):
    """One line of a cart or an order, with names already in the customer's language."""

    model_config = ConfigDict(frozen=True)

    product_name: str
    variant_name: str = ""
    sku: str | None = None
    product_id: str | None = None
    variant_id: str | None = None
    quantity: int = Field(ge=0)
    unit_price: Decimal
    total_price: Decimal
    currency: str
    image_url: str | None = None
    image_alt: str | None = None


class OrderSnapshot(BaseModel):
    """The order as it was when the event happened (kept with the enrollment for rendering)."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    number: str
    created_at: datetime
    checkout_id: str | None = None
    channel: str | None = None
    currency: str
    lines: tuple[LineItem, ...] = ()
    subtotal: Decimal
    shipping: Decimal = Decimal(0)
    total: Decimal
    voucher_code: str | None = None


class CartSnapshot(BaseModel):
    """An abandoned cart as it was when it was given up (kept with the enrollment).

    ``recovery_url`` is built from the store's storefront URL template for the channel; it is
    empty when the store has none for that channel.
    """

    model_config = ConfigDict(frozen=True)

    checkout_id: str
    channel: str | None = None
    currency: str
    lines: tuple[LineItem, ...] = ()
    subtotal: Decimal
    total: Decimal
    recovery_url: str = ""
    updated_at: datetime | None = None
    voucher_code: str | None = None


class DomainEvent(BaseModel):
    """A fact about one contact of one store.

    Invariants: ``idempotency_key`` identifies the fact (not the delivery); ``contact`` always has
    an email; ``occurred_at`` is timezone-aware.
    """

    model_config = ConfigDict(frozen=True)

    type: EventType
    idempotency_key: str = Field(min_length=1, max_length=255)
    occurred_at: datetime
    contact: ContactUpdate
    order: OrderSnapshot | None = None
    cart: CartSnapshot | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    #: ``custom.<name>`` for a :attr:`EventType.CUSTOM` event, else ``None``.
    custom_name: str | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _custom_name_iff_custom(self) -> DomainEvent:
        if self.type is EventType.CUSTOM:
            if self.custom_name is None or not CUSTOM_EVENT_NAME.match(self.custom_name):
                raise ValueError("a custom event is named custom.<name> (a-z, 0-9, _)")
        elif self.custom_name is not None:
            raise ValueError("only a custom event has a custom_name")
        return self

    @property
    def name(self) -> str:
        """What campaign triggers and exit rules match: ``order.placed``, ``custom.wishlisted``…"""
        return self.custom_name if self.custom_name is not None else self.type.value

    def context(self) -> dict[str, Any]:
        """The JSON-safe data an enrollment keeps from its trigger (used by templates)."""
        data: dict[str, Any] = {"event_type": self.name, "properties": self.properties}
        if self.order is not None:
            data["order"] = self.order.model_dump(mode="json")
        if self.cart is not None:
            data["cart"] = self.cart.model_dump(mode="json")
        return data


class CheckoutState(BaseModel):
    """What a platform says a checkout (cart) looks like now: the input of abandonment detection.

    ``contact`` is ``None`` when the checkout has no email (an anonymous cart nobody can be
    written to). ``cart.recovery_url`` is left empty here: the store's storefront URL template
    fills it, with ``token`` (Saleor's checkout token, which storefronts load a checkout by) and
    ``language``. ``updated_at`` orders the observations: an older one never replaces a newer.
    """

    model_config = ConfigDict(frozen=True)

    checkout_id: str = Field(min_length=1, max_length=200)
    token: str | None = None
    updated_at: AwareDatetime
    contact: ContactUpdate | None = None
    language: str | None = None
    cart: CartSnapshot

    @property
    def watchable(self) -> bool:
        """Someone to write to and something in the cart."""
        return self.contact is not None and any(line.quantity > 0 for line in self.cart.lines)
