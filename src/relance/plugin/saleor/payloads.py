"""Pydantic models of the webhook bodies relance subscribes to (see ``subscriptions/``).

Field names are snake_case with camelCase aliases (the JSON keys); unknown keys are ignored, so a
subscription may select more than is modelled. Invariant, checked by a test: every field modelled
here is selected by the matching subscription, so nothing is read that Saleor never sends.
Fields the schema makes non-null but relance can live without are optional, so an older Saleor
or a narrower subscription degrades instead of failing. Amounts are ``Decimal``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from relance.plugin.saleor.errors import PayloadError

#: At most this many validation problems are listed in a :class:`PayloadError` message.
MAX_REPORTED_ERRORS = 3


class SaleorModel(BaseModel):
    """Base of every payload model: camelCase aliases, unknown keys ignored, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )


class Money(SaleorModel):
    amount: Decimal
    currency: str


class TaxedMoney(SaleorModel):
    gross: Money


class Country(SaleorModel):
    code: str


class Address(SaleorModel):
    first_name: str | None = None
    last_name: str | None = None
    city: str | None = None
    postal_code: str | None = None
    country: Country | None = None


class Channel(SaleorModel):
    id: str | None = None
    slug: str | None = None
    currency_code: str | None = None


class User(SaleorModel):
    id: str
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    language_code: str | None = None


class Image(SaleorModel):
    url: str
    alt: str | None = None


class Category(SaleorModel):
    id: str
    slug: str | None = None


class Product(SaleorModel):
    id: str
    slug: str | None = None
    category: Category | None = None


class Variant(SaleorModel):
    id: str
    product: Product | None = None


class OrderLine(SaleorModel):
    id: str | None = None
    product_name: str
    variant_name: str = ""
    translated_product_name: str = ""
    translated_variant_name: str = ""
    product_sku: str | None = None
    product_variant_id: str | None = None
    quantity: int
    unit_price: TaxedMoney
    total_price: TaxedMoney
    thumbnail: Image | None = None
    variant: Variant | None = None


class Order(SaleorModel):
    id: str
    number: str
    created: AwareDatetime | None = None
    status: str | None = None
    origin: str | None = None
    checkout_id: str | None = None
    user_email: str | None = None
    language_code_enum: str | None = None
    channel: Channel | None = None
    user: User | None = None
    billing_address: Address | None = None
    lines: tuple[OrderLine, ...] = ()
    subtotal: TaxedMoney
    shipping_price: TaxedMoney | None = None
    total: TaxedMoney
    voucher_code: str | None = None


class OrderCreatedPayload(SaleorModel):
    """The body of an ORDER_CREATED delivery (the subscription's ``event`` object)."""

    issued_at: AwareDatetime | None = None
    version: str | None = None
    order: Order


ModelT = TypeVar("ModelT", bound=SaleorModel)


def _describe(error: Mapping[str, Any]) -> str:
    path = ".".join(str(part) for part in error["loc"])
    message = "missing" if error["type"] == "missing" else error["msg"]
    return f"{path}: {message}"


def parse_payload(model: type[ModelT], body: Mapping[str, Any]) -> ModelT:
    """Validate ``body`` against ``model``.

    Raises:
        PayloadError: the body does not fit; the message names the fields (by their JSON path,
            e.g. ``order.lines.0.quantity``) and never repeats their values.
    """
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        described = "; ".join(_describe(error) for error in errors[:MAX_REPORTED_ERRORS])
        more = len(errors) - MAX_REPORTED_ERRORS
        suffix = f" (and {more} more)" if more > 0 else ""
        raise PayloadError(f"{described}{suffix}") from exc
