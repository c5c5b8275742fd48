"""The JSON events a generic store POSTs (documented in docs/generic-stores.md).

Strict: unknown fields are refused (a misspelt field is reported, not silently ignored).
Amounts are decimal numbers or strings (``89.9`` / ``"89.90"``) in the currency's major unit;
times are ISO 8601 with an offset. ``python -m relance.plugin.generic.schema`` prints the JSON
Schema.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from relance.automation.events import CUSTOM_EVENT_NAME

#: The event types a generic store may send, besides ``custom.<name>``.
EVENT_TYPES = (
    "cart.updated",
    "order.placed",
    "order.paid",
    "order.cancelled",
    "order.refunded",
    "customer.signed_up",
    "customer.updated",
    "customer.deleted",
)
#: Types that need ``order`` / ``cart``.
ORDER_TYPES = ("order.placed", "order.paid", "order.cancelled", "order.refunded")
#: Most lines in one cart or order.
MAX_LINES = 500
#: Largest ``properties`` object, serialised.
MAX_PROPERTIES_BYTES = 16_000

Text = Annotated[str, Field(min_length=1, max_length=500)]
Identifier = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
Amount = Annotated[Decimal, Field(ge=0, le=Decimal("1e12"), allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Contact(_Strict):
    """The person the event is about. Only ``email`` is required; a field left out (or
    ``null``) leaves what relance knows unchanged."""

    email: str = Field(min_length=3, max_length=320)
    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    #: BCP 47 (``fr``, ``pt-BR``); also ``fr_FR`` / ``PT_BR``.
    language: str | None = Field(default=None, max_length=35)
    #: ISO 3166-1 alpha-2 (``FR``).
    country: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$")
    #: International format (E.164, ``+33612345678``; spaces and dashes allowed).
    phone: str | None = Field(default=None, max_length=32)
    gender: str | None = Field(default=None, max_length=16)
    #: IANA time zone (``Europe/Paris``).
    time_zone: str | None = Field(default=None, max_length=64)
    #: The shop's own id for this customer.
    user_id: str | None = Field(default=None, max_length=200)


class Line(_Strict):
    product_name: Text
    variant_name: str = Field(default="", max_length=500)
    sku: str | None = Field(default=None, max_length=200)
    product_id: str | None = Field(default=None, max_length=200)
    variant_id: str | None = Field(default=None, max_length=200)
    quantity: int = Field(ge=0, le=100_000)
    unit_price: Amount
    #: Defaults to ``unit_price * quantity``.
    total_price: Amount | None = None
    image_url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")
    image_alt: str | None = Field(default=None, max_length=500)


class _Basket(_Strict):
    channel: str | None = Field(default=None, max_length=100)
    currency: Currency
    lines: list[Line] = Field(default_factory=list, max_length=MAX_LINES)
    #: Default to the sum of the lines' totals.
    subtotal: Amount | None = None
    total: Amount | None = None
    voucher_code: str | None = Field(default=None, max_length=100)

    @field_validator("currency", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    def lines_total(self) -> Decimal:
        return sum(
            (line.total_price or line.unit_price * line.quantity for line in self.lines), Decimal(0)
        )


class Cart(_Basket):
    """The cart as it is now (``cart.updated``). Send it whole on every change."""

    #: The cart's id in the shop: the same cart keeps the same id.
    id: Identifier
    #: When the cart last changed (defaults to the event's ``occurred_at``): orders updates.
    updated_at: AwareDatetime | None = None
    #: What replaces ``{token}`` in the store's recovery URL template (defaults to ``id``).
    token: str | None = Field(default=None, max_length=200)
    #: A link back to this cart, if the shop builds its own (else the store's template is used).
    recovery_url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")


class Order(_Basket):
    """An order (``order.*`` events)."""

    id: Identifier
    #: The number customers see (defaults to ``id``).
    number: str | None = Field(default=None, max_length=100)
    #: When it was placed (defaults to the event's ``occurred_at``).
    created_at: AwareDatetime | None = None
    #: The cart it was placed from: closes that cart's abandonment (or records its recovery).
    cart_id: str | None = Field(default=None, max_length=200)
    shipping: Amount = Decimal(0)


class GenericEvent(_Strict):
    """One event from a generic store."""

    #: Unique per event in the store: a second request with the same type and id is a
    #: duplicate (recorded once). Reuse it when retrying.
    id: Identifier
    #: One of :data:`EVENT_TYPES`, or ``custom.<name>`` (lower case, digits, ``_``).
    type: str = Field(max_length=100)
    occurred_at: AwareDatetime
    #: Required, except for ``cart.updated`` (an anonymous cart is simply not watched).
    contact: Contact | None = None
    #: Required for ``cart.updated``.
    cart: Cart | None = None
    #: Required for ``order.*``.
    order: Order | None = None
    #: Anything the campaigns may read (conditions, templates), a JSON object up to 16 kB.
    properties: dict[str, Any] = Field(default_factory=dict)

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value in EVENT_TYPES or CUSTOM_EVENT_NAME.match(value):
            return value
        raise ValueError(
            f"unknown event type; use one of {', '.join(EVENT_TYPES)} or custom.<name>"
        )

    @field_validator("properties")
    @classmethod
    def _small(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value, default=str)) > MAX_PROPERTIES_BYTES:
            raise ValueError(f"larger than {MAX_PROPERTIES_BYTES} bytes as JSON")
        return value

    @model_validator(mode="after")
    def _parts_for_type(self) -> GenericEvent:
        if self.type == "cart.updated":
            if self.cart is None:
                raise ValueError("cart.updated needs a cart")
        elif self.contact is None:
            raise ValueError(f"{self.type} needs a contact")
        if self.type in ORDER_TYPES and self.order is None:
            raise ValueError(f"{self.type} needs an order")
        return self


def main() -> None:  # pragma: no cover - a convenience for docs
    print(json.dumps(GenericEvent.model_json_schema(), indent=2))


if __name__ == "__main__":  # pragma: no cover
    main()
