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

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from relance.plugin.saleor.errors import PayloadError

#: At most this many validation problems are listed in a :class:`PayloadError` message.
MAX_REPORTED_ERRORS = 3

#: Languages (``LanguageCodeEnum``) whose checkout product and variant names are selected as
#: ``translation_<CODE>`` aliases (subscriptions take no variables, so they cannot ask for the
#: customer's language only). A test checks ``fragment_checkout.graphql`` selects exactly these.
TRANSLATED_LANGUAGES = (
    "CS", "DA", "DE", "EL", "EN", "ES", "FI", "FR", "IT", "JA", "NB", "NL", "PL", "PT", "PT_BR",
    "RO", "SV",
)  # fmt: skip
#: The alias prefix of those translations.
TRANSLATION_ALIAS = "translation_"


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
    """An address as a customer's default: where they live and a phone number."""

    country: Country | None = None
    phone: str | None = None


class NamedAddress(Address):
    """A checkout's billing address: also whom it is for."""

    first_name: str | None = None
    last_name: str | None = None


class PostalAddress(NamedAddress):
    """An order's billing address."""

    city: str | None = None
    postal_code: str | None = None


class Channel(SaleorModel):
    id: str | None = None
    slug: str | None = None
    currency_code: str | None = None


class User(SaleorModel):
    """The customer an order or a checkout belongs to."""

    id: str
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    language_code: str | None = None


class Customer(User):
    """A customer account (``fragment_user.graphql``)."""

    is_active: bool | None = None
    is_confirmed: bool | None = None
    date_joined: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None
    default_billing_address: Address | None = None
    default_shipping_address: Address | None = None


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
    billing_address: PostalAddress | None = None
    lines: tuple[OrderLine, ...] = ()
    subtotal: TaxedMoney
    shipping_price: TaxedMoney | None = None
    total: TaxedMoney
    voucher_code: str | None = None


class _Event(SaleorModel):
    """What every subscription selects on ``event``."""

    issued_at: AwareDatetime | None = None
    version: str | None = None


class OrderPayload(_Event):
    """The body of an ORDER_CREATED / _FULLY_PAID / _CANCELLED / _FULLY_REFUNDED delivery."""

    order: Order


#: The name the ORDER_CREATED body had first.
OrderCreatedPayload = OrderPayload


class _Translated(SaleorModel):
    """A product or variant whose ``translation_<CODE>`` aliases are gathered in
    ``translations`` (language code → name; blank or missing translations left out)."""

    translations: dict[str, str] = Field(default_factory=dict, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _gather_translations(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        gathered: dict[str, str] = {}
        for key, value in data.items():
            if not (isinstance(key, str) and key.startswith(TRANSLATION_ALIAS)):
                continue
            name = value.get("name") if isinstance(value, Mapping) else None
            if isinstance(name, str) and name.strip():
                gathered[key.removeprefix(TRANSLATION_ALIAS)] = name.strip()
        return {**data, "translations": gathered}

    def name_in(self, languages: tuple[str, ...]) -> str | None:
        """The first translation among ``languages`` (``LanguageCodeEnum`` values)."""
        for language in languages:
            if language in self.translations:
                return self.translations[language]
        return None


class CheckoutProduct(_Translated):
    id: str
    name: str = ""
    slug: str | None = None
    thumbnail: Image | None = None


class CheckoutVariant(_Translated):
    id: str
    name: str = ""
    sku: str | None = None
    product: CheckoutProduct | None = None


class CheckoutLine(SaleorModel):
    id: str | None = None
    quantity: int
    undiscounted_unit_price: Money | None = None
    total_price: TaxedMoney | None = None
    variant: CheckoutVariant | None = None


class Checkout(SaleorModel):
    id: str
    token: str | None = None
    created: AwareDatetime | None = None
    updated_at: AwareDatetime
    email: str | None = None
    language_code: str | None = None
    voucher_code: str | None = None
    channel: Channel | None = None
    user: User | None = None
    billing_address: NamedAddress | None = None
    lines: tuple[CheckoutLine, ...] = ()
    subtotal_price: TaxedMoney | None = None
    total_price: TaxedMoney | None = None


class CheckoutPayload(_Event):
    """The body of a CHECKOUT_CREATED / CHECKOUT_UPDATED delivery. ``checkout`` is null when
    Saleor could not resolve it any more."""

    checkout: Checkout | None = None


class CustomerPayload(_Event):
    """The body of a CUSTOMER_CREATED / CUSTOMER_UPDATED delivery."""

    user: Customer | None = None


class ChannelSlug(SaleorModel):
    slug: str | None = None


class AccountConfirmedPayload(CustomerPayload):
    """The body of an ACCOUNT_CONFIRMED delivery (``channel`` is null: Saleor passes no channel)."""

    channel: ChannelSlug | None = None


class DeletedUser(SaleorModel):
    id: str
    email: str | None = None


class CustomerDeletedPayload(_Event):
    """The body of a CUSTOMER_DELETED / ACCOUNT_DELETED delivery."""

    user: DeletedUser | None = None


class DeletedApp(SaleorModel):
    id: str
    identifier: str | None = None


class AppDeletedPayload(_Event):
    """The body of an APP_DELETED delivery: the app deleted (any app of that Saleor)."""

    app: DeletedApp | None = None


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
