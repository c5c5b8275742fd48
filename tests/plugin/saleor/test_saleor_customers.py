"""Customers, consent metadata and product names, asked of the fake Saleor over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from relance.plugin.saleor.client import SaleorApi
from relance.plugin.saleor.customers import (
    fetch_customer,
    fetch_product_names,
    write_consent_metadata,
)
from relance.plugin.saleor.errors import (
    SaleorMutationError,
    SaleorPermissionDenied,
    SaleorTokenRefused,
)
from tests.fixtures.saleor import FakeSaleor, global_id


@pytest.fixture
def api(fake_saleor: FakeSaleor) -> Iterator[SaleorApi]:
    with SaleorApi(fake_saleor.api_url, fake_saleor.valid_token, sleep=lambda _: None) as client:
        yield client


# -- customers -------------------------------------------------------------------------------


def test_a_customer_by_email(fake_saleor: FakeSaleor, api: SaleorApi) -> None:
    # given a Brazilian customer with three orders and some metadata
    user_id = fake_saleor.shop.add_user(
        "Ana@Example.com",
        first_name="Ana",
        last_name="Souza",
        language="PT_BR",
        metadata={"loyalty": "gold"},
        orders=3,
        shipping_country="BR",
        billing_country="PT",
        date_joined="2023-11-05T09:30:00+00:00",
    )
    # when relance asks for her by e-mail
    customer = fetch_customer(api, email="ana@example.com")
    # then it gets what the webhook lacked, normalised
    assert customer is not None
    assert customer.user_id == user_id
    assert customer.email == "Ana@Example.com"
    assert (customer.first_name, customer.last_name) == ("Ana", "Souza")
    assert customer.language == "pt-BR"
    assert customer.orders_count == 3
    assert customer.metadata == {"loyalty": "gold"}
    assert customer.date_joined == datetime(2023, 11, 5, 9, 30, tzinfo=UTC)
    assert customer.country == "BR"  # the default shipping address first
    assert customer.is_active
    assert not customer.is_staff
    assert fake_saleor.operations() == ["CustomerDetails"]


def test_a_customer_by_id_with_blank_names_and_only_a_billing_address(
    fake_saleor: FakeSaleor, api: SaleorApi
) -> None:
    user_id = fake_saleor.shop.add_user("de@example.com", language="DE", billing_country="AT")
    customer = fetch_customer(api, user_id=user_id)
    assert customer is not None
    assert customer.first_name is None
    assert customer.last_name is None
    assert customer.language == "de"
    assert customer.country == "AT"
    assert customer.orders_count == 0
    assert customer.metadata == {}


def test_an_unknown_customer_is_none(api: SaleorApi) -> None:
    assert fetch_customer(api, email="nobody@example.com") is None
    assert fetch_customer(api, user_id=global_id("User", 999)) is None


def test_exactly_one_key_is_needed(api: SaleorApi) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        fetch_customer(api)
    with pytest.raises(ValueError, match="exactly one"):
        fetch_customer(api, email="a@example.com", user_id="VXNlcjox")


def test_a_revoked_token_is_refused(fake_saleor: FakeSaleor) -> None:
    fake_saleor.shop.add_user("a@example.com")
    with SaleorApi(fake_saleor.api_url, "revoked") as api, pytest.raises(SaleorTokenRefused):
        fetch_customer(api, email="a@example.com")


# -- consent metadata ------------------------------------------------------------------------


def test_consent_is_written_into_the_customers_public_metadata(
    fake_saleor: FakeSaleor, api: SaleorApi
) -> None:
    # given a customer with metadata of her own
    user_id = fake_saleor.shop.add_user("a@example.com", metadata={"loyalty": "gold"})
    # when relance writes her consent
    written = write_consent_metadata(api, user_id, {"email": "subscribed", "sms": "unsubscribed"})
    # then Saleor holds both keys, and hers are kept
    expected = {
        "loyalty": "gold",
        "relance.consent.email": "subscribed",
        "relance.consent.sms": "unsubscribed",
    }
    assert fake_saleor.shop.user_metadata(user_id) == expected
    assert written == expected
    # and writing again changes only what changed
    write_consent_metadata(api, user_id, {"email": "unsubscribed"})
    assert fake_saleor.shop.user_metadata(user_id)["relance.consent.email"] == "unsubscribed"
    assert fake_saleor.shop.user_metadata(user_id)["relance.consent.sms"] == "unsubscribed"


def test_a_staff_users_metadata_needs_manage_staff(fake_saleor: FakeSaleor, api: SaleorApi) -> None:
    # given a customer who is also staff (Saleor then asks for MANAGE_STAFF, which relance lacks)
    user_id = fake_saleor.shop.add_user("staff@example.com", is_staff=True)
    with pytest.raises(SaleorPermissionDenied, match="MANAGE_STAFF"):
        write_consent_metadata(api, user_id, {"email": "subscribed"})
    # and the store's token is fine: the probe said so
    assert fake_saleor.operations() == ["UpdateCustomerMetadata", "AppId"]


def test_an_unknown_user_is_saleors_not_found(api: SaleorApi) -> None:
    with pytest.raises(SaleorMutationError, match="id: NOT_FOUND") as caught:
        write_consent_metadata(api, global_id("User", 999), {"push": "subscribed"})
    assert [error.code for error in caught.value.errors] == ["NOT_FOUND"]


@pytest.mark.parametrize(
    "consents", [{"fax": "subscribed"}, {"email": "Subscribed!"}, {"email": ""}]
)
def test_bad_consents_are_refused_before_calling_saleor(
    fake_saleor: FakeSaleor, api: SaleorApi, consents: dict[str, str]
) -> None:
    with pytest.raises(ValueError, match="consent"):
        write_consent_metadata(api, "VXNlcjox", consents)
    assert fake_saleor.requests == []


def test_nothing_to_write_sends_nothing(fake_saleor: FakeSaleor, api: SaleorApi) -> None:
    assert write_consent_metadata(api, "VXNlcjox", {}) == {}
    assert fake_saleor.requests == []


# -- product names ---------------------------------------------------------------------------


def test_product_names_in_the_customers_language_with_fallbacks(
    fake_saleor: FakeSaleor, api: SaleorApi
) -> None:
    shop = fake_saleor.shop
    # given products translated into Brazilian Portuguese, Portuguese only, or not at all
    shirt = shop.add_product("T-shirt", {"PT_BR": "Camiseta", "PT": "T-shirt (pt)"})
    mug = shop.add_product("Mug", {"PT": "Caneca"})
    cap = shop.add_product("Cap", {"FR": "Casquette"})
    # when names are asked in pt-BR
    names = fetch_product_names(api, [shirt, mug, cap], "pt-BR")
    # then pt-BR wins, then pt, then the product's own name
    assert names == {shirt: "Camiseta", mug: "Caneca", cap: "Cap"}


def test_product_names_in_a_language_saleor_does_not_know(
    fake_saleor: FakeSaleor, api: SaleorApi
) -> None:
    shirt = fake_saleor.shop.add_product("T-shirt", {"FR": "T-shirt (fr)"})
    assert fetch_product_names(api, [shirt], "tlh") == {shirt: "T-shirt"}
    assert fetch_product_names(api, [shirt], None) == {shirt: "T-shirt"}
    assert fetch_product_names(api, [shirt], "FR") == {shirt: "T-shirt (fr)"}


def test_deleted_products_are_left_out_and_ids_are_sent_in_pages_of_100(
    fake_saleor: FakeSaleor, api: SaleorApi
) -> None:
    ids = [fake_saleor.shop.add_product(f"Product {i}") for i in range(150)]
    gone = global_id("Product", 99999)
    names = fetch_product_names(api, [*ids, gone, ids[0]], "en")
    assert set(names) == set(ids)
    assert names[ids[149]] == "Product 149"
    assert fake_saleor.operations() == ["ProductNames", "ProductNames"]


def test_no_products_no_call(fake_saleor: FakeSaleor, api: SaleorApi) -> None:
    assert fetch_product_names(api, [], "fr") == {}
    assert fake_saleor.requests == []
