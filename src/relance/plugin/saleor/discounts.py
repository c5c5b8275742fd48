"""Single-use discount codes on Saleor: the :class:`~relance.discounts.DiscountProvider` of Saleor
stores (``../shared/saleor/NOTES.md`` §e).

One code is one voucher: ``voucherCreate`` (the code in ``addCodes``, ``singleUse``,
``usageLimit: 1``, start and end dates), then ``voucherChannelListingUpdate``, without which the
voucher is usable in no channel. Free shipping is a ``SHIPPING`` voucher worth 100 %, as the
Dashboard makes it. Everything needs MANAGE_DISCOUNTS; reading channels needs only the app token.

Idempotent per code: codes are deterministic (:func:`relance.discounts.discount_code`), so a
retried creation asks for the same code; when Saleor answers ``ALREADY_EXISTS`` on ``codes``
(``voucher_create.py::_clean_new_codes``), the voucher holding the code is looked up and its
missing channel listings are added. A contact never gets two vouchers for one step, and a
creation interrupted between the two mutations is completed by the next attempt.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from relance.discounts import (
    DiscountAccessRefused,
    DiscountError,
    DiscountRequest,
    IssuedDiscount,
    PlatformAccess,
)
from relance.plugin.saleor.client import SaleorApi
from relance.plugin.saleor.documents import SaleorModel, load_document
from relance.plugin.saleor.errors import (
    GraphQLErrorDetail,
    SaleorApiError,
    SaleorMutationError,
    SaleorTokenRefused,
    UnexpectedAnswer,
)

__all__ = [
    "DiscountAccessRefused",
    "SaleorDiscountProvider",
    "issue_voucher",
]

#: Saleor's ``Voucher.name`` column length.
NAME_MAX_LENGTH = 255


# -- answers ---------------------------------------------------------------------------------


class Channel(SaleorModel):
    id: str
    slug: str
    currency_code: str
    is_active: bool


class _ChannelBySlug(SaleorModel):
    channel: Channel | None = None


class _Channels(SaleorModel):
    channels: list[Channel] | None = None


class DiscountErrorItem(SaleorModel):
    """Saleor's ``DiscountError``."""

    field: str | None = None
    code: str
    message: str | None = None
    voucher_codes: list[str] | None = None
    channels: list[str] | None = None

    def detail(self) -> GraphQLErrorDetail:
        return GraphQLErrorDetail(self.message or "", self.code, self.field)


class _Code(SaleorModel):
    code: str | None = None


class _CodeEdge(SaleorModel):
    node: _Code


class _Codes(SaleorModel):
    edges: list[_CodeEdge]


class _ListingChannel(SaleorModel):
    id: str
    slug: str


class _Listing(SaleorModel):
    channel: _ListingChannel


class Voucher(SaleorModel):
    id: str
    codes: _Codes | None = None
    channel_listings: list[_Listing] | None = None

    def code_list(self) -> list[str]:
        return [e.node.code for e in (self.codes.edges if self.codes else []) if e.node.code]

    def listed_channel_ids(self) -> set[str]:
        return {listing.channel.id for listing in self.channel_listings or []}


class _VoucherPayload(SaleorModel):
    errors: list[DiscountErrorItem]
    voucher: Voucher | None = None


class _VoucherCreate(SaleorModel):
    voucher_create: _VoucherPayload | None = None


class _VoucherChannelListingUpdate(SaleorModel):
    voucher_channel_listing_update: _VoucherPayload | None = None


class _VoucherEdge(SaleorModel):
    node: Voucher


class _VoucherConnection(SaleorModel):
    edges: list[_VoucherEdge]


class _VouchersByCode(SaleorModel):
    vouchers: _VoucherConnection | None = None


CHANNEL_BY_SLUG = load_document("ChannelBySlug", _ChannelBySlug)
CHANNELS = load_document("Channels", _Channels)
VOUCHER_CREATE = load_document("VoucherCreate", _VoucherCreate)
VOUCHER_CHANNEL_LISTING_UPDATE = load_document(
    "VoucherChannelListingUpdate", _VoucherChannelListingUpdate
)
VOUCHERS_BY_CODE = load_document("VouchersByCode", _VouchersByCode)


# -- the steps -------------------------------------------------------------------------------


def request_problem(request: DiscountRequest) -> str | None:
    """Why Saleor would refuse ``request`` (or it would make no sense), or ``None``."""
    if not request.code.strip():
        return "the discount code is empty"
    if request.starts_at.tzinfo is None or request.ends_at.tzinfo is None:
        return "the discount's start and end must be timezone-aware"
    if request.ends_at <= request.starts_at:
        return "the discount ends before it starts"
    if request.kind == "percentage" and not Decimal(0) < request.value <= Decimal(100):
        return "a percentage discount must be more than 0 and at most 100"
    if request.kind == "fixed" and request.value <= 0:
        return "a fixed discount must be more than 0"
    if (request.kind == "fixed" or request.minimum_order is not None) and not request.currency:
        return "a fixed discount or a minimum order needs a currency"
    if request.minimum_order is not None and request.minimum_order <= 0:
        return "a minimum order must be more than 0"
    return None


def _needs_currency(request: DiscountRequest) -> bool:
    """Amounts (a fixed value, a minimum order) only mean something in their own currency."""
    return request.kind == "fixed" or request.minimum_order is not None


def _same_currency(channel: Channel, request: DiscountRequest) -> bool:
    return channel.currency_code.upper() == (request.currency or "").upper()


def target_channels(api: SaleorApi, request: DiscountRequest) -> list[Channel]:
    """The channels the code will be usable in: ``request.channel``, or every active channel
    (only those selling in ``request.currency`` when the discount holds an amount).

    Raises:
        DiscountError: no such channel, or none that fits (not transient).
        SaleorApiError: the call failed.
    """
    if request.channel is not None:
        channel = api.execute(CHANNEL_BY_SLUG, {"slug": request.channel}).channel
        if channel is None:
            raise DiscountError(f"Saleor has no channel {request.channel!r}", transient=False)
        if _needs_currency(request) and not _same_currency(channel, request):
            raise DiscountError(
                f"channel {channel.slug!r} sells in {channel.currency_code}, "
                f"the discount is in {request.currency}",
                transient=False,
            )
        return [channel]
    channels = [c for c in api.execute(CHANNELS).channels or [] if c.is_active]
    if _needs_currency(request):
        channels = [c for c in channels if _same_currency(c, request)]
        if not channels:
            raise DiscountError(
                f"Saleor has no active channel selling in {request.currency}", transient=False
            )
    elif not channels:
        raise DiscountError("Saleor has no active channel", transient=False)
    return channels


def _voucher_input(request: DiscountRequest, apply_once_per_customer: bool) -> dict[str, Any]:
    return {
        "name": request.name[:NAME_MAX_LENGTH],
        "type": "SHIPPING" if request.kind == "free_shipping" else "ENTIRE_ORDER",
        "discountValueType": "FIXED" if request.kind == "fixed" else "PERCENTAGE",
        "addCodes": [request.code],
        "singleUse": True,
        "usageLimit": 1,
        "applyOncePerCustomer": apply_once_per_customer,
        "startDate": request.starts_at.isoformat(),
        "endDate": request.ends_at.isoformat(),
    }


def _listing_input(request: DiscountRequest, channels: list[Channel]) -> list[dict[str, Any]]:
    value = Decimal(100) if request.kind == "free_shipping" else request.value
    listings = []
    for channel in channels:
        listing: dict[str, Any] = {"channelId": channel.id, "discountValue": str(value)}
        if request.minimum_order is not None:
            listing["minAmountSpent"] = str(request.minimum_order)
        listings.append(listing)
    return listings


def _code_taken(errors: list[DiscountErrorItem], code: str) -> bool:
    """Saleor refused only because ``code`` exists already (a previous attempt made it)."""
    return bool(errors) and all(
        error.code == "ALREADY_EXISTS"
        and error.field in ("codes", "code", "addCodes")
        and (not error.voucher_codes or code in error.voucher_codes)
        for error in errors
    )


def _refused(mutation: str, errors: list[DiscountErrorItem]) -> SaleorMutationError:
    summary = "; ".join(
        f"{e.field or 'input'}: {e.code}" + (f" ({e.message})" if e.message else "") for e in errors
    )
    return SaleorMutationError(
        f"Saleor refused {mutation}: {summary}", [e.detail() for e in errors]
    )


def find_voucher(api: SaleorApi, code: str) -> Voucher | None:
    """The voucher holding exactly ``code``, or ``None``."""
    connection = api.execute(VOUCHERS_BY_CODE, {"code": code}).vouchers
    for edge in connection.edges if connection else []:
        if code in edge.node.code_list():
            return edge.node
    return None


def _create_or_find(
    api: SaleorApi, request: DiscountRequest, apply_once_per_customer: bool
) -> Voucher:
    variables = {"input": _voucher_input(request, apply_once_per_customer)}
    payload = api.execute(VOUCHER_CREATE, variables).voucher_create
    if payload is None:
        raise UnexpectedAnswer("Saleor answered voucherCreate without a result")
    if not payload.errors:
        if payload.voucher is None:
            raise UnexpectedAnswer("Saleor answered voucherCreate without a voucher")
        return payload.voucher
    if not _code_taken(payload.errors, request.code):
        raise _refused("voucherCreate", payload.errors)
    existing = find_voucher(api, request.code)
    if existing is None:
        raise DiscountError(
            "Saleor already uses this code for something that is not a voucher (a gift card?)",
            transient=False,
        )
    return existing


def issue_voucher(
    api: SaleorApi, request: DiscountRequest, *, apply_once_per_customer: bool = True
) -> IssuedDiscount:
    """Create ``request.code`` as a voucher listed in its channels, or complete the voucher a
    previous attempt created. Safe to repeat.

    Raises:
        DiscountError: the request cannot be honoured (bad channel or currency, code taken by a
            gift card); never transient.
        SaleorMutationError: Saleor refused the voucher or its listing.
        SaleorApiError: any other failure of a call (see :class:`SaleorApi`).
    """
    channels = target_channels(api, request)  # first: a bad channel leaves no orphan voucher
    voucher = _create_or_find(api, request, apply_once_per_customer)
    listed = voucher.listed_channel_ids()
    missing = [channel for channel in channels if channel.id not in listed]
    if missing:
        variables = {"id": voucher.id, "input": {"addChannels": _listing_input(request, missing)}}
        payload = api.execute(VOUCHER_CHANNEL_LISTING_UPDATE, variables)
        result = payload.voucher_channel_listing_update
        if result is None:
            raise UnexpectedAnswer("Saleor answered voucherChannelListingUpdate without a result")
        if result.errors:
            raise _refused("voucherChannelListingUpdate", result.errors)
    return IssuedDiscount(code=request.code, platform_id=voucher.id)


class SaleorDiscountProvider:
    """:class:`~relance.discounts.DiscountProvider` for Saleor stores.

    Parameters:
        api_factory(Callable[[PlatformAccess], SaleorApi]): builds the client for a store
            (default :meth:`SaleorApi.for_access`; tests inject retry sleeps here).
        apply_once_per_customer(bool): also set Saleor's ``applyOncePerCustomer`` (a checkout
            must then carry an e-mail before the code applies). The code is single-use anyway.

    Errors map to :class:`~relance.discounts.DiscountError`: network errors, timeouts and 5xx
    (after :class:`SaleorApi`'s retries) are ``transient``; a refused token raises
    :class:`DiscountAccessRefused`; everything else is permanent, with Saleor's reason.
    """

    def __init__(
        self,
        api_factory: Callable[[PlatformAccess], SaleorApi] = SaleorApi.for_access,
        *,
        apply_once_per_customer: bool = True,
    ) -> None:
        self._api_factory = api_factory
        self._apply_once_per_customer = apply_once_per_customer

    def create(self, access: PlatformAccess, request: DiscountRequest) -> IssuedDiscount:
        """Create ``request.code`` on the store's Saleor, or confirm it exists. Idempotent.

        Raises:
            DiscountAccessRefused: Saleor refused the token; mark the store disconnected.
            DiscountError: ``transient`` when Saleor could not be reached; otherwise the request
                was refused (the message says why).
        """
        problem = request_problem(request)
        if problem is not None:
            raise DiscountError(problem, transient=False)
        try:
            with self._api_factory(access) as api:
                return issue_voucher(
                    api, request, apply_once_per_customer=self._apply_once_per_customer
                )
        except SaleorTokenRefused as exc:
            raise DiscountAccessRefused(f"Saleor refused relance's token: {exc}") from exc
        except SaleorApiError as exc:
            raise DiscountError(
                f"Saleor could not create the discount code: {exc}", transient=exc.transient
            ) from exc
