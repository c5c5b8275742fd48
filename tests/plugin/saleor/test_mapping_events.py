"""Mapping of every Saleor event relance subscribes to (besides ORDER_CREATED, see test_mapping)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from relance.automation.events import CheckoutState, DomainEvent, EventType
from relance.plugin.saleor.errors import PayloadError
from relance.plugin.saleor.mapping import (
    MAPPERS,
    AppRemoved,
    NothingToRecord,
    name_languages,
)
from relance.plugin.saleor.webhooks import parse_body
from tests.plugin.saleor.bodies import body_for, event_data


def mapped(event: str, data: dict[str, Any] | None = None) -> Any:
    """``event`` (``"CHECKOUT_UPDATED"``) sent with ``data``, parsed and mapped as relance does."""
    return MAPPERS[event.lower()](parse_body(body_for(event, data)))


def domain_event(event: str, data: dict[str, Any] | None = None) -> DomainEvent:
    result = mapped(event, data)
    assert isinstance(result, DomainEvent)
    return result


def checkout(data: dict[str, Any] | None = None) -> CheckoutState:
    result = mapped("CHECKOUT_UPDATED", data)
    assert isinstance(result, CheckoutState)
    return result


# -- checkouts -----------------------------------------------------------------------------


def test_a_french_checkout_maps_to_its_state_with_french_names() -> None:
    # given the French sample checkout (logged-in customer, two lines)
    # when it is mapped
    state = checkout()
    # then the state is keyed by the checkout id and ordered by its updatedAt
    assert state.checkout_id.startswith("Q2hlY2tvdXQ6")
    assert state.token == "6f1b2c9e-4d7a-4b8e-9a51-2e3f0c7d8b14"
    assert state.updated_at == datetime(2026, 8, 19, 18, 47, 36, 881204, tzinfo=UTC)
    # and the contact is the checkout's customer, speaking French
    assert state.contact is not None
    assert state.contact.email == "camille.lefebvre@example.fr"
    assert (state.contact.first_name, state.contact.last_name) == ("Camille", "Lefebvre")
    assert state.contact.language == "fr"
    assert state.contact.country == "FR"
    assert state.contact.phone == "+33612345678"
    assert state.contact.platform_user_id == "VXNlcjo0ODIx"
    assert state.language == "fr"
    assert state.watchable
    # and the cart has French product and variant names, images, exact prices
    cart = state.cart
    assert [(line.product_name, line.variant_name) for line in cart.lines] == [
        ("Pull en laine mérinos", "M / Marine"),
        ("T-shirt en coton bio", "L / Blanc"),
    ]
    sweater, shirt = cart.lines
    assert (sweater.quantity, sweater.unit_price, sweater.total_price) == (
        1,
        Decimal("89.0"),
        Decimal("89.0"),
    )
    assert (shirt.quantity, shirt.unit_price, shirt.total_price) == (
        2,
        Decimal("29.0"),
        Decimal("58.0"),
    )
    assert sweater.image_url is not None
    assert sweater.image_url.endswith("/256/webp/")
    assert sweater.image_alt == "Merino wool sweater, navy"
    assert shirt.image_alt is None  # a blank alt is no alt
    assert sweater.sku == "MWS-NAVY-M"
    assert sweater.variant_id == "UHJvZHVjdFZhcmlhbnQ6MzQ4"
    assert sweater.product_id == "UHJvZHVjdDoxMjE="
    assert (cart.currency, cart.channel) == ("EUR", "boutique-fr")
    assert (cart.subtotal, cart.total) == (Decimal("147.0"), Decimal("147.0"))
    assert cart.recovery_url == ""  # the store's template fills it when recorded


def test_names_fall_back_to_the_base_language_then_to_the_shop_names() -> None:
    # given a checkout in Canadian French (no FR_CA translation is selected)
    data = event_data("CHECKOUT_UPDATED")
    data["checkout"]["languageCode"] = "FR_CA"
    assert [line.product_name for line in checkout(data).cart.lines] == [
        "Pull en laine mérinos",
        "T-shirt en coton bio",
    ]
    # and one in German, where the t-shirt has no translation
    data["checkout"]["languageCode"] = "DE"
    names = [(line.product_name, line.variant_name) for line in checkout(data).cart.lines]
    assert names == [
        ("Merinowollpullover", "M / Marineblau"),
        ("Organic Cotton T-Shirt", "L / White"),
    ]


def test_a_language_relance_does_not_select_keeps_the_shop_names() -> None:
    # given a checkout in Korean, a language whose translations are not selected
    data = event_data("CHECKOUT_UPDATED")
    data["checkout"]["languageCode"] = "KO"
    data["checkout"]["user"]["languageCode"] = "KO"
    state = checkout(data)
    # then the names are the shop's, and the contact speaks Korean
    assert [line.product_name for line in state.cart.lines] == [
        "Merino Wool Sweater",
        "Organic Cotton T-Shirt",
    ]
    assert state.contact is not None
    assert state.contact.language == "ko"


def test_an_anonymous_checkout_has_no_contact_and_is_not_watchable() -> None:
    data = event_data("CHECKOUT_UPDATED")
    data["checkout"].update(email=None, user=None)
    state = checkout(data)
    assert state.contact is None
    assert not state.watchable


def test_a_guest_checkout_with_an_email_is_watchable() -> None:
    # given a guest (no user) who typed an email, and a billing address
    data = event_data("CHECKOUT_UPDATED")
    data["checkout"]["user"] = None
    state = checkout(data)
    assert state.contact is not None
    assert state.contact.email == "camille.lefebvre@example.fr"
    assert state.contact.first_name == "Camille"  # from the billing address
    assert state.contact.platform_user_id is None
    assert state.watchable


def test_an_empty_checkout_is_not_watchable() -> None:
    data = event_data("CHECKOUT_UPDATED")
    data["checkout"]["lines"] = []
    data["checkout"]["totalPrice"]["gross"]["amount"] = 0.0
    assert not checkout(data).watchable


def test_a_checkout_email_nobody_can_write_to_is_not_watched() -> None:
    data = event_data("CHECKOUT_UPDATED")
    data["checkout"]["email"] = "not-an-address"
    data["checkout"]["user"] = None
    assert checkout(data).contact is None


def test_a_phone_that_is_not_international_is_left_out_not_fatal() -> None:
    data = event_data("CHECKOUT_UPDATED")
    data["checkout"]["billingAddress"]["phone"] = "06 12 34 56 78"
    state = checkout(data)
    assert state.contact is not None
    assert state.contact.phone is None


def test_checkout_created_maps_like_checkout_updated() -> None:
    created = mapped("CHECKOUT_CREATED")
    assert created == checkout()


def test_a_delivery_without_checkout_records_nothing() -> None:
    assert isinstance(MAPPERS["checkout_updated"]({"checkout": None}), NothingToRecord)


def test_a_checkout_without_updated_at_names_the_field() -> None:
    body = parse_body(body_for("CHECKOUT_UPDATED"))
    del body["checkout"]["updatedAt"]
    with pytest.raises(PayloadError, match=r"checkout\.updatedAt: missing"):
        MAPPERS["checkout_updated"](body)


@pytest.mark.parametrize(
    ("code", "expected"),
    [("FR", ("FR",)), ("PT_BR", ("PT_BR", "PT")), ("az_cyrl_az", ("AZ_CYRL_AZ", "AZ_CYRL", "AZ"))],
)
def test_name_languages_go_from_specific_to_general(code: str, expected: tuple[str, ...]) -> None:
    assert name_languages(code) == expected


# -- orders --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "event_type"),
    [
        ("ORDER_CANCELLED", EventType.ORDER_CANCELLED),
        ("ORDER_FULLY_REFUNDED", EventType.ORDER_REFUNDED),
    ],
)
def test_order_events_are_keyed_by_order_and_event(event: str, event_type: EventType) -> None:
    # given the German order, cancelled or refunded
    mapped_event = domain_event(event)
    # then the fact is named after the event and keyed by the order id
    data = event_data(event)
    assert mapped_event.type is event_type
    assert mapped_event.idempotency_key == f"{event_type.value}:{data['order']['id']}"
    # at the time Saleor said so, about the order's customer
    assert mapped_event.occurred_at == datetime(2026, 8, 20, 9, 15, 42, 530117, tzinfo=UTC)
    assert mapped_event.contact.email == "jonas.becker@example.de"
    assert mapped_event.order is not None
    assert mapped_event.order.total == Decimal("132.9")


def test_a_fully_paid_british_order_is_order_paid() -> None:
    # given the research's ORDER_FULLY_PAID sample (English, GBP)
    event = domain_event("ORDER_FULLY_PAID")
    assert event.type is EventType.ORDER_PAID
    assert event.idempotency_key.startswith("order.paid:T3JkZXI6N2IzYzlkMWUt")
    assert event.occurred_at == datetime(2026, 8, 20, 14, 3, 27, 4512, tzinfo=UTC)
    assert event.contact.email == "olivia.hughes@example.co.uk"
    assert event.contact.language == "en-GB"
    assert event.contact.country == "GB"
    assert event.order is not None
    assert (event.order.currency, event.order.channel) == ("GBP", "uk")
    assert event.order.total == Decimal("78.95")
    assert [line.quantity for line in event.order.lines] == [3]


def test_paid_and_placed_of_one_order_are_different_facts() -> None:
    placed = domain_event("ORDER_CREATED")
    paid = MAPPERS["order_fully_paid"](parse_body(body_for("ORDER_CREATED")))
    assert isinstance(paid, DomainEvent)
    assert placed.idempotency_key != paid.idempotency_key
    assert placed.idempotency_key.split(":", 1)[1] == paid.idempotency_key.split(":", 1)[1]


def test_a_cancelled_order_without_email_is_refused_with_the_field() -> None:
    data = event_data("ORDER_CANCELLED")
    data["order"]["userEmail"] = None
    data["order"]["user"] = None
    with pytest.raises(PayloadError, match=r"order\.userEmail"):
        domain_event("ORDER_CANCELLED", data)


# -- customers -----------------------------------------------------------------------------


def test_a_german_sign_up_is_customer_signed_up() -> None:
    event = domain_event("CUSTOMER_CREATED")
    assert event.type is EventType.CUSTOMER_SIGNED_UP
    assert event.idempotency_key == "customer.signed_up:VXNlcjo1MTAy"
    assert event.occurred_at == datetime(2026, 8, 18, 20, 11, 4, 902416, tzinfo=UTC)
    contact = event.contact
    assert contact.email == "lena.schmidt@example.de"
    assert (contact.first_name, contact.last_name, contact.language) == ("Lena", "Schmidt", "de")
    assert contact.platform_user_id == "VXNlcjo1MTAy"
    assert contact.country is None
    assert contact.phone is None


def test_customer_updates_are_one_fact_per_version() -> None:
    # given the customer changed her name and address
    first = domain_event("CUSTOMER_UPDATED")
    assert first.type is EventType.CUSTOMER_UPDATED
    assert first.contact.last_name == "Schmidt-Weber"
    assert first.contact.country == "AT"
    assert first.contact.phone == "+4312345678"
    # when she changes again later
    data = event_data("CUSTOMER_UPDATED")
    data["user"]["updatedAt"] = "2026-08-22T10:00:00+00:00"
    data["user"]["languageCode"] = "EN"
    second = domain_event("CUSTOMER_UPDATED", data)
    # then it is another fact; the same version delivered twice is the same fact
    assert second.idempotency_key != first.idempotency_key
    assert domain_event("CUSTOMER_UPDATED").idempotency_key == first.idempotency_key
    assert second.contact.language == "en"


def test_a_confirmed_account_is_customer_confirmed() -> None:
    event = domain_event("ACCOUNT_CONFIRMED")
    assert event.type is EventType.CUSTOMER_CONFIRMED
    assert event.idempotency_key == "customer.confirmed:VXNlcjo1MTAz"
    assert event.contact.email == "hugo.martin@example.fr"
    assert event.contact.language == "fr"
    assert event.occurred_at == datetime(2026, 8, 18, 20, 24, 51, 667030, tzinfo=UTC)


def test_an_unknown_language_code_is_kept_as_a_tag() -> None:
    # given a customer whose language is one relance has no design for
    data = event_data("CUSTOMER_CREATED")
    data["user"]["languageCode"] = "SW_KE"
    assert domain_event("CUSTOMER_CREATED", data).contact.language == "sw-KE"


@pytest.mark.parametrize("event", ["CUSTOMER_DELETED", "ACCOUNT_DELETED"])
def test_deletions_are_customer_deleted(event: str) -> None:
    deleted = domain_event(event)
    assert deleted.type is EventType.CUSTOMER_DELETED
    assert deleted.idempotency_key == "customer.deleted:VXNlcjo1MTAy"
    assert deleted.contact.email == "lena.schmidt@example.de"
    assert deleted.contact.platform_user_id == "VXNlcjo1MTAy"
    assert deleted.contact.first_name is None


def test_a_deletion_without_email_is_refused() -> None:
    body = parse_body(body_for("CUSTOMER_DELETED"))
    body["user"]["email"] = None
    with pytest.raises(PayloadError, match=r"user\.email"):
        MAPPERS["customer_deleted"](body)


# -- the app -------------------------------------------------------------------------------


def test_app_deleted_names_the_app() -> None:
    assert mapped("APP_DELETED") == AppRemoved(app_id="QXBwOjQy", identifier="app.relance")


def test_app_deleted_without_app_records_nothing() -> None:
    assert isinstance(MAPPERS["app_deleted"]({"app": None}), NothingToRecord)
