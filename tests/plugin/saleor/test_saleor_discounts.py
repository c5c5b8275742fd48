"""SaleorDiscountProvider against the fake Saleor over real HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import pytest

from relance.discounts import (
    DiscountError,
    DiscountProvider,
    DiscountRequest,
    PlatformAccess,
    discount_code,
)
from relance.plugin.saleor.client import SaleorApi
from relance.plugin.saleor.discounts import (
    VOUCHER_CREATE,
    DiscountAccessRefused,
    SaleorDiscountProvider,
)
from tests.fixtures.saleor import FakeSaleor

STARTS = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)
CODE = discount_code(b"test-secret", "enrollment-1", "step-discount", prefix="RL")


def request_for(
    *,
    kind: Literal["percentage", "fixed", "free_shipping"] = "percentage",
    value: str = "15",
    currency: str | None = None,
    channel: str | None = "boutique-fr",
    minimum: str | None = None,
    code: str = CODE,
) -> DiscountRequest:
    return DiscountRequest(
        code=code,
        kind=kind,
        value=Decimal(value),
        currency=currency,
        channel=channel,
        starts_at=STARTS,
        ends_at=STARTS + timedelta(days=7),
        minimum_order=Decimal(minimum) if minimum is not None else None,
        name="relance · Abandoned cart",
    )


def access_to(fake: FakeSaleor, token: str | None = None) -> PlatformAccess:
    return PlatformAccess(store_id="store-1", api_url=fake.api_url, token=token or fake.valid_token)


def provider_recording(sleeps: list[float]) -> SaleorDiscountProvider:
    def factory(access: PlatformAccess) -> SaleorApi:
        return SaleorApi.for_access(access, sleep=sleeps.append)

    return SaleorDiscountProvider(factory)


@pytest.fixture
def provider() -> SaleorDiscountProvider:
    return provider_recording([])


def listings(fake: FakeSaleor, code: str = CODE) -> dict[str, dict[str, Any]]:
    voucher = fake.shop.voucher_by_code(code)
    assert voucher is not None
    return {listing["channel"]["slug"]: listing for listing in voucher["_listings"].values()}


def test_the_provider_is_a_discount_provider() -> None:
    provider: DiscountProvider = SaleorDiscountProvider()
    assert provider is not None


def test_a_percentage_code_in_one_channel(
    fake_saleor: FakeSaleor, provider: SaleorDiscountProvider
) -> None:
    # when a 15 % code is created for the French channel
    issued = provider.create(access_to(fake_saleor), request_for())
    # then Saleor holds one single-use voucher with that code, listed in that channel only
    voucher = fake_saleor.shop.voucher_by_code(CODE)
    assert voucher is not None
    assert issued.code == CODE
    assert issued.platform_id == voucher["id"]
    assert [c["code"] for c in voucher["_codes"]] == [CODE]
    assert voucher["name"] == "relance · Abandoned cart"
    assert voucher["type"] == "ENTIRE_ORDER"
    assert voucher["discountValueType"] == "PERCENTAGE"
    assert voucher["singleUse"] is True
    assert voucher["usageLimit"] == 1
    assert voucher["applyOncePerCustomer"] is True
    assert datetime.fromisoformat(voucher["startDate"]) == STARTS
    assert datetime.fromisoformat(voucher["endDate"]) == STARTS + timedelta(days=7)
    listed = listings(fake_saleor)
    assert set(listed) == {"boutique-fr"}
    assert listed["boutique-fr"]["discountValue"] == 15.0
    assert listed["boutique-fr"]["currency"] == "EUR"
    assert listed["boutique-fr"]["minSpent"] is None
    assert fake_saleor.operations() == [
        "ChannelBySlug",
        "VoucherCreate",
        "VoucherChannelListingUpdate",
    ]


def test_a_fixed_code_in_every_channel_of_its_currency(
    fake_saleor: FakeSaleor, provider: SaleorDiscountProvider
) -> None:
    # when a 10.50 EUR code with a 50 EUR minimum is created for no particular channel
    request = request_for(kind="fixed", value="10.50", currency="EUR", channel=None, minimum="50")
    provider.create(access_to(fake_saleor), request)
    # then it is listed in the active EUR channels only (not USD, GBP, nor the inactive one)
    listed = listings(fake_saleor)
    assert set(listed) == {"boutique-fr", "shop-de"}
    for listing in listed.values():
        assert listing["discountValue"] == 10.5
        assert listing["minSpent"] == {"amount": 50.0, "currency": "EUR"}
    voucher = fake_saleor.shop.voucher_by_code(CODE)
    assert voucher is not None
    assert voucher["discountValueType"] == "FIXED"
    assert fake_saleor.operations()[0] == "Channels"


def test_a_percentage_code_in_every_active_channel(
    fake_saleor: FakeSaleor, provider: SaleorDiscountProvider
) -> None:
    provider.create(access_to(fake_saleor), request_for(channel=None, value="20"))
    listed = listings(fake_saleor)
    assert set(listed) == {"default-channel", "boutique-fr", "shop-de", "uk"}
    assert {listing["currency"] for listing in listed.values()} == {"USD", "EUR", "GBP"}
    assert {listing["discountValue"] for listing in listed.values()} == {20.0}


def test_free_shipping_is_a_shipping_voucher_worth_100_percent(
    fake_saleor: FakeSaleor, provider: SaleorDiscountProvider
) -> None:
    provider.create(access_to(fake_saleor), request_for(kind="free_shipping", value="0"))
    voucher = fake_saleor.shop.voucher_by_code(CODE)
    assert voucher is not None
    assert voucher["type"] == "SHIPPING"
    assert voucher["discountValueType"] == "PERCENTAGE"
    assert listings(fake_saleor)["boutique-fr"]["discountValue"] == 100.0


def test_creating_the_same_code_again_returns_it_without_a_second_voucher(
    fake_saleor: FakeSaleor, provider: SaleorDiscountProvider
) -> None:
    # given the code was created (the task then crashed before recording it)
    first = provider.create(access_to(fake_saleor), request_for())
    # when the step is retried
    second = provider.create(access_to(fake_saleor), request_for())
    # then it is the same code and voucher; Saleor's ALREADY_EXISTS led to a lookup, nothing more
    assert second == first
    assert len(fake_saleor.shop.vouchers) == 1
    assert fake_saleor.operations()[3:] == ["ChannelBySlug", "VoucherCreate", "VouchersByCode"]


def test_a_creation_interrupted_before_the_listing_is_completed(
    fake_saleor: FakeSaleor, provider: SaleorDiscountProvider
) -> None:
    # given an earlier attempt created the voucher, then failed before listing it in a channel
    with SaleorApi(fake_saleor.api_url, fake_saleor.valid_token) as api:
        created = api.execute(VOUCHER_CREATE, {"input": {"addCodes": [CODE], "name": "x"}})
    assert created.voucher_create is not None
    assert created.voucher_create.voucher is not None
    # when the step is retried
    issued = provider.create(access_to(fake_saleor), request_for())
    # then the same voucher gets its listing
    assert issued.platform_id == created.voucher_create.voucher.id
    assert len(fake_saleor.shop.vouchers) == 1
    assert set(listings(fake_saleor)) == {"boutique-fr"}


def test_503s_are_retried_then_the_code_is_created(fake_saleor: FakeSaleor) -> None:
    fake_saleor.fail_next(503, 503)
    sleeps: list[float] = []
    issued = provider_recording(sleeps).create(access_to(fake_saleor), request_for())
    assert issued.code == CODE
    assert len(sleeps) == 2
    assert len(fake_saleor.shop.vouchers) == 1


def test_saleor_down_is_a_transient_error(fake_saleor: FakeSaleor) -> None:
    fake_saleor.fail_next(*[503] * 4)
    with pytest.raises(DiscountError) as caught:
        provider_recording([]).create(access_to(fake_saleor), request_for())
    assert caught.value.transient
    assert not isinstance(caught.value, DiscountAccessRefused)


@pytest.mark.parametrize("refusal", ["http-401", "unknown-token"])
def test_a_refused_token_is_reported_so_the_store_can_be_marked_disconnected(
    fake_saleor: FakeSaleor, provider: SaleorDiscountProvider, refusal: str
) -> None:
    token = None
    if refusal == "http-401":
        fake_saleor.refuse_token_with = 401
    else:
        token = "revoked-token"
    with pytest.raises(DiscountAccessRefused) as caught:
        provider.create(access_to(fake_saleor, token), request_for())
    assert not caught.value.transient
    assert fake_saleor.shop.vouchers == {}


def test_a_store_without_token_is_refused_without_calling_saleor(
    fake_saleor: FakeSaleor, provider: SaleorDiscountProvider
) -> None:
    access = PlatformAccess(store_id="store-1", api_url=fake_saleor.api_url, token=None)
    with pytest.raises(DiscountAccessRefused):
        provider.create(access, request_for())
    assert fake_saleor.requests == []


def test_an_app_without_manage_discounts_gets_a_permanent_error(
    fake_saleor: FakeSaleor, provider: SaleorDiscountProvider
) -> None:
    fake_saleor.shop.app_permissions.discard("MANAGE_DISCOUNTS")
    with pytest.raises(DiscountError, match="MANAGE_DISCOUNTS") as caught:
        provider.create(access_to(fake_saleor), request_for())
    assert not caught.value.transient
    assert not isinstance(caught.value, DiscountAccessRefused)


def test_a_code_taken_by_a_gift_card_is_a_permanent_error(
    fake_saleor: FakeSaleor, provider: SaleorDiscountProvider
) -> None:
    fake_saleor.shop.gift_card_codes.add(CODE)
    with pytest.raises(DiscountError, match="gift card") as caught:
        provider.create(access_to(fake_saleor), request_for())
    assert not caught.value.transient


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"channel": "nowhere"}, "no channel 'nowhere'"),
        ({"kind": "fixed", "value": "5", "currency": "GBP"}, "sells in EUR"),
        ({"kind": "fixed", "value": "5", "currency": "JPY", "channel": None}, "selling in JPY"),
    ],
)
def test_channels_that_do_not_fit_leave_no_voucher_behind(
    fake_saleor: FakeSaleor,
    provider: SaleorDiscountProvider,
    options: dict[str, Any],
    reason: str,
) -> None:
    with pytest.raises(DiscountError, match=reason) as caught:
        provider.create(access_to(fake_saleor), request_for(**options))
    assert not caught.value.transient
    assert fake_saleor.shop.vouchers == {}
    assert "VoucherCreate" not in fake_saleor.operations()


@pytest.mark.parametrize(
    "change",
    [
        lambda r: request_for(value="150"),
        lambda r: request_for(value="0"),
        lambda r: request_for(kind="fixed", value="5", currency=None),
        lambda r: request_for(minimum="30"),
        lambda r: request_for(code="  "),
    ],
)
def test_requests_saleor_would_refuse_are_refused_before_calling_it(
    fake_saleor: FakeSaleor,
    provider: SaleorDiscountProvider,
    change: Callable[[DiscountRequest], DiscountRequest],
) -> None:
    with pytest.raises(DiscountError) as caught:
        provider.create(access_to(fake_saleor), change(request_for()))
    assert not caught.value.transient
    assert fake_saleor.requests == []


def test_saleors_refusal_of_a_listing_is_reported_with_its_reason(
    fake_saleor: FakeSaleor, provider: SaleorDiscountProvider
) -> None:
    # given an amount with more decimals than the currency has
    request = request_for(kind="fixed", value="10.555", currency="EUR")
    with pytest.raises(DiscountError, match="discountValue: INVALID") as caught:
        provider.create(access_to(fake_saleor), request)
    assert not caught.value.transient
