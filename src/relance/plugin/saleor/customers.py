"""Customers and products asked of Saleor: what a webhook payload lacks, and consent written back.

- :func:`fetch_customer`: a customer's details (orders count, language, names, metadata, date
  joined, country of the default addresses). Needs MANAGE_USERS (MANAGE_STAFF for staff users)
  and MANAGE_ORDERS for the orders count.
- :func:`write_consent_metadata`: the contact's marketing consent in the customer's *public*
  metadata (``relance.consent.email`` = ``subscribed``…), so the storefront and other apps can
  read it. ``updateMetadata`` on a User needs MANAGE_USERS for a customer and MANAGE_STAFF for a
  staff user (``saleor/graphql/meta/permissions.py::public_user_permissions``); relance does not
  ask for MANAGE_STAFF, so a staff user's write ends in :class:`SaleorPermissionDenied`.
- :func:`fetch_product_names`: product names in a language, falling back to the base language
  (``pt-BR`` → ``pt``) and then to the product's own name. No permission for published
  products; MANAGE_ORDERS lets the app see unpublished ones too.

All are safe to repeat. Errors are those of :meth:`SaleorApi.execute`, plus
:class:`SaleorMutationError` when ``updateMetadata`` answers its ``errors`` field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from relance.automation.contacts import normalise_language
from relance.plugin.saleor.client import SaleorApi
from relance.plugin.saleor.documents import SaleorModel, load_document
from relance.plugin.saleor.errors import (
    GraphQLErrorDetail,
    SaleorMutationError,
    UnexpectedAnswer,
)
from relance.plugin.saleor.schema import saleor_schema

__all__ = [
    "CONSENT_CHANNELS",
    "CONSENT_KEY_PREFIX",
    "CustomerDetails",
    "consent_key",
    "fetch_customer",
    "fetch_product_names",
    "saleor_language_code",
    "write_consent_metadata",
]

#: Metadata keys relance writes on a customer: ``relance.consent.<channel>``.
CONSENT_KEY_PREFIX = "relance.consent."
#: The channels consent is kept for.
CONSENT_CHANNELS = ("email", "sms", "push")
#: What a consent value looks like (``subscribed``, ``unsubscribed``, ``pending``…).
_CONSENT_VALUE = re.compile(r"[a-z][a-z_]{0,31}")
#: Saleor answers at most 100 nodes per page.
_PAGE = 100


# -- customer --------------------------------------------------------------------------------


class _MetadataItem(SaleorModel):
    key: str
    value: str


class _Count(SaleorModel):
    total_count: int | None = None


class _Country(SaleorModel):
    code: str


class _Address(SaleorModel):
    country: _Country


class _User(SaleorModel):
    id: str
    email: str
    first_name: str
    last_name: str
    is_active: bool
    is_staff: bool
    language_code: str
    date_joined: datetime
    metadata: list[_MetadataItem]
    orders: _Count | None = None
    default_shipping_address: _Address | None = None
    default_billing_address: _Address | None = None


class _CustomerDetails(SaleorModel):
    user: _User | None = None


CUSTOMER_DETAILS = load_document("CustomerDetails", _CustomerDetails)


@dataclass(frozen=True, slots=True)
class CustomerDetails:
    """A Saleor customer as relance's contacts need it. Empty names are ``None``; ``language``
    is BCP 47 (``PT_BR`` → ``pt-BR``); ``country`` comes from the default shipping address,
    else the default billing one."""

    user_id: str
    email: str
    first_name: str | None
    last_name: str | None
    language: str | None
    orders_count: int | None
    date_joined: datetime
    country: str | None
    is_active: bool
    is_staff: bool
    metadata: dict[str, str] = field(default_factory=dict)


def fetch_customer(
    api: SaleorApi, *, email: str | None = None, user_id: str | None = None
) -> CustomerDetails | None:
    """The customer with ``user_id`` (a ``User`` global id) or ``email``; ``None`` if none.

    Raises:
        ValueError: not exactly one of ``email`` and ``user_id`` was given.
        SaleorApiError: the call failed (see :meth:`SaleorApi.execute`).
    """
    if (email is None) == (user_id is None):
        raise ValueError("give exactly one of email and user_id")
    variables = {"email": email} if email is not None else {"id": user_id}
    user = api.execute(CUSTOMER_DETAILS, variables).user
    if user is None:
        return None
    address = user.default_shipping_address or user.default_billing_address
    return CustomerDetails(
        user_id=user.id,
        email=user.email,
        first_name=user.first_name.strip() or None,
        last_name=user.last_name.strip() or None,
        language=normalise_language(user.language_code),
        orders_count=user.orders.total_count if user.orders is not None else None,
        date_joined=user.date_joined,
        country=address.country.code if address is not None else None,
        is_active=user.is_active,
        is_staff=user.is_staff,
        metadata={item.key: item.value for item in user.metadata},
    )


# -- consent ---------------------------------------------------------------------------------


class _MetadataError(SaleorModel):
    field: str | None = None
    code: str
    message: str | None = None


class _Item(SaleorModel):
    metadata: list[_MetadataItem]


class _UpdateMetadataPayload(SaleorModel):
    errors: list[_MetadataError]
    item: _Item | None = None


class _UpdateMetadata(SaleorModel):
    update_metadata: _UpdateMetadataPayload | None = None


UPDATE_CUSTOMER_METADATA = load_document("UpdateCustomerMetadata", _UpdateMetadata)


def consent_key(channel: str) -> str:
    """The metadata key of ``channel``'s consent: ``relance.consent.email``…"""
    return f"{CONSENT_KEY_PREFIX}{channel}"


def write_consent_metadata(
    api: SaleorApi, user_id: str, consents: Mapping[str, str]
) -> dict[str, str]:
    """Write ``consents`` (channel → status, e.g. ``{"email": "subscribed"}``) into the public
    metadata of the customer ``user_id``; other keys are kept. Idempotent.

    Raises:
        ValueError: an unknown channel, or a value that is not a status word.
        SaleorPermissionDenied: the user is staff (MANAGE_STAFF), or the app lacks MANAGE_USERS.
        SaleorMutationError: Saleor refused (e.g. ``NOT_FOUND``: no such user).
        SaleorApiError: the call failed otherwise.

    Returns:
        The customer's public metadata after the write (empty when nothing was to be written).
    """
    for channel, value in consents.items():
        if channel not in CONSENT_CHANNELS:
            raise ValueError(f"unknown consent channel {channel!r}")
        if not _CONSENT_VALUE.fullmatch(value):
            raise ValueError(f"not a consent status: {value!r}")
    if not consents:
        return {}
    entries = [{"key": consent_key(c), "value": v} for c, v in sorted(consents.items())]
    result = api.execute(UPDATE_CUSTOMER_METADATA, {"id": user_id, "input": entries})
    payload = result.update_metadata
    if payload is None:
        raise UnexpectedAnswer("Saleor answered updateMetadata without a result")
    if payload.errors:
        summary = "; ".join(f"{e.field or 'input'}: {e.code}" for e in payload.errors)
        raise SaleorMutationError(
            f"Saleor refused updateMetadata: {summary}",
            [GraphQLErrorDetail(e.message or "", e.code, e.field) for e in payload.errors],
        )
    if payload.item is None:
        raise UnexpectedAnswer("Saleor answered updateMetadata without the customer")
    return {item.key: item.value for item in payload.item.metadata}


# -- product names ---------------------------------------------------------------------------


class _Translation(SaleorModel):
    name: str | None = None


class _Product(SaleorModel):
    id: str
    name: str
    translation: _Translation | None = None
    base_translation: _Translation | None = None


class _ProductEdge(SaleorModel):
    node: _Product


class _Products(SaleorModel):
    edges: list[_ProductEdge]


class _ProductNames(SaleorModel):
    products: _Products | None = None


PRODUCT_NAMES = load_document("ProductNames", _ProductNames)


@cache
def _language_codes() -> frozenset[str]:
    enum = saleor_schema().get_type("LanguageCodeEnum")
    return frozenset(getattr(enum, "values", {}))


def saleor_language_code(language: str | None) -> str | None:
    """``LanguageCodeEnum`` value of a BCP 47 tag (``pt-BR`` → ``PT_BR``), or ``None`` when
    Saleor has no such language."""
    normalised = normalise_language(language)
    if normalised is None:
        return None
    value = normalised.replace("-", "_").upper()
    return value if value in _language_codes() else None


def _chunks(ids: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), _PAGE):
        yield ids[start : start + _PAGE]


def fetch_product_names(
    api: SaleorApi,
    product_ids: Iterable[str],
    language_code: str | None,
    *,
    channel: str | None = None,
) -> dict[str, str]:
    """The name of each product in ``language_code`` (BCP 47 or Saleor's ``PT_BR`` form):
    its translation, else the base language's (``pt`` for ``pt-BR``), else the product's own
    name. Products Saleor does not return (deleted) are left out. One call per 100 ids.

    ``channel`` (a slug) limits the lookup to what that channel shows.
    """
    ids = list(dict.fromkeys(product_ids))
    if not ids:
        return {}
    exact = saleor_language_code(language_code)
    base = saleor_language_code((normalise_language(language_code) or "").split("-")[0])
    language, base_language = exact or base, base or exact
    names: dict[str, str] = {}
    for chunk in _chunks(ids):
        variables = {
            "ids": chunk,
            "channel": channel,
            "translate": language is not None,
            "language": language or "EN",
            "baseLanguage": base_language or "EN",
        }
        products = api.execute(PRODUCT_NAMES, variables).products
        for edge in products.edges if products else []:
            product = edge.node
            translated = [t.name for t in (product.translation, product.base_translation) if t]
            names[product.id] = next((name for name in translated if name), product.name)
    return names
