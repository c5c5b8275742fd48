from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from relance.automation.events import EventType
from relance.plugin.saleor.errors import PayloadError
from relance.plugin.saleor.mapping import order_created_event
from relance.plugin.saleor.webhooks import parse_body
from tests.fixtures.saleor import sample_body, sample_payload


def german_order() -> dict[str, Any]:
    """The sample body as the webhook handler parses it (decimals exact)."""
    return parse_body(sample_body("order_created"))


def test_german_sample_maps_to_order_placed() -> None:
    # given the ORDER_CREATED body of an order placed in German
    body = german_order()
    # when it is mapped
    event = order_created_event(body)
    # then it is an order.placed fact keyed by the order id
    order_id = body["order"]["id"]
    assert event.type is EventType.ORDER_PLACED
    assert event.idempotency_key == f"order.placed:{order_id}"
    assert event.occurred_at == datetime(2026, 8, 20, 9, 15, 41, 998205, tzinfo=UTC)
    # and the contact speaks German and lives in Germany
    contact = event.contact
    assert contact.email == "jonas.becker@example.de"
    assert (contact.first_name, contact.last_name) == ("Jonas", "Becker")
    assert contact.language == "de"
    assert contact.country == "DE"
    assert contact.platform_user_id == "VXNlcjoyMjkx"
    # and the order keeps translated names and exact amounts
    order = event.order
    assert order is not None
    assert order.order_id == order_id
    assert order.number == "10482"
    assert order.channel == "shop-de"
    assert order.currency == "EUR"
    assert order.checkout_id == body["order"]["checkoutId"]
    assert order.voucher_code is None
    assert [(line.product_name, line.variant_name) for line in order.lines] == [
        ("Merinowollpullover", "M / Marineblau"),
        ("Kartenetui aus Leder", ""),
    ]
    sweater, holder = order.lines
    assert sweater.unit_price == Decimal("89.0")
    assert sweater.total_price == Decimal("89.0")
    assert sweater.quantity == 1
    assert sweater.sku == "MWS-NAVY-M"
    assert sweater.product_id == "UHJvZHVjdDoxMjE="
    assert sweater.variant_id == "UHJvZHVjdFZhcmlhbnQ6MzQ4"
    assert sweater.image_url is not None
    assert sweater.image_url.endswith("/256/webp/")
    assert sweater.image_alt == "Merino wool sweater, navy"
    assert holder.image_url is None
    assert order.subtotal == Decimal("128.0")
    assert order.shipping == Decimal("4.9")
    assert order.total == Decimal("132.9")
    assert all(isinstance(v, Decimal) for v in (order.subtotal, order.shipping, order.total))


def test_float_amounts_become_the_decimals_they_were_written_as() -> None:
    # given the body parsed with plain floats (as any JSON library does by default)
    event = order_created_event(sample_payload("order_created"))
    # then 4.9 is Decimal("4.9"), not 4.9000000000000003552713678800500929355621337890625
    assert event.order is not None
    assert event.order.shipping == Decimal("4.9")
    assert event.order.total == Decimal("132.9")


def test_blank_translated_names_fall_back_to_the_shop_names() -> None:
    # given lines whose translations are blank (the product is not translated)
    body = german_order()
    for line in body["order"]["lines"]:
        line["translatedProductName"] = ""
        line["translatedVariantName"] = "  "
    # when mapped
    event = order_created_event(body)
    # then the shop's own names are used
    assert event.order is not None
    assert [(line.product_name, line.variant_name) for line in event.order.lines] == [
        ("Merino Wool Sweater", "M / Navy"),
        ("Leather Card Holder", ""),
    ]


def test_a_guest_order_takes_its_name_from_the_billing_address() -> None:
    # given a guest checkout: no user, email on the order only
    body = german_order()
    body["order"]["user"] = None
    body["order"]["billingAddress"]["firstName"] = "Anna"
    event = order_created_event(body)
    assert event.contact.first_name == "Anna"
    assert event.contact.platform_user_id is None
    assert event.contact.email == "jonas.becker@example.de"


def test_the_user_email_is_used_when_the_order_has_none() -> None:
    body = german_order()
    body["order"]["userEmail"] = None
    body["order"]["user"]["email"] = "Jonas.Becker@Example.DE"
    assert order_created_event(body).contact.email == "jonas.becker@example.de"


def test_issued_at_stands_in_for_a_missing_created_time() -> None:
    body = german_order()
    del body["order"]["created"]
    event = order_created_event(body)
    assert event.occurred_at == datetime(2026, 8, 20, 9, 15, 42, 530117, tzinfo=UTC)


def test_same_order_twice_has_the_same_idempotency_key() -> None:
    # given the same order delivered twice, the second time with a later issuedAt
    first = german_order()
    second = copy.deepcopy(first)
    second["issuedAt"] = "2026-08-20T09:20:00+00:00"
    assert order_created_event(first).idempotency_key == order_created_event(second).idempotency_key


def _without_email(body: dict[str, Any]) -> None:
    body["order"]["userEmail"] = None
    body["order"]["user"] = None


def _blank_email(body: dict[str, Any]) -> None:
    body["order"]["userEmail"] = " "
    body["order"]["user"]["email"] = ""


def _no_order(body: dict[str, Any]) -> None:
    body["order"] = None


def _quantity_text(body: dict[str, Any]) -> None:
    body["order"]["lines"][1]["quantity"] = "several"


def _negative_quantity(body: dict[str, Any]) -> None:
    body["order"]["lines"][0]["quantity"] = -1


def _no_total(body: dict[str, Any]) -> None:
    del body["order"]["total"]


def _not_an_email(body: dict[str, Any]) -> None:
    body["order"]["userEmail"] = "jonas.becker"


def _naive_created(body: dict[str, Any]) -> None:
    body["order"]["created"] = "2026-08-20T09:15:41"


@pytest.mark.parametrize(
    ("spoil", "field"),
    [
        (_without_email, "order.userEmail"),
        (_blank_email, "order.userEmail"),
        (_no_order, "order"),
        (_quantity_text, "order.lines.1.quantity"),
        (_negative_quantity, "order.lines.0.quantity"),
        (_no_total, "order.total"),
        (_not_an_email, "order.userEmail"),
        (_naive_created, "order.created"),
    ],
)
def test_a_body_that_does_not_fit_names_the_field(spoil: Any, field: str) -> None:
    # given a body spoiled in one place
    body = german_order()
    spoil(body)
    # when mapped, then the error names the field
    with pytest.raises(PayloadError) as raised:
        order_created_event(body)
    assert str(raised.value).startswith(field)


def test_payload_errors_do_not_repeat_personal_values() -> None:
    body = german_order()
    body["order"]["userEmail"] = "jonas.becker"
    body["order"]["user"] = None
    with pytest.raises(PayloadError) as raised:
        order_created_event(body)
    assert "jonas" not in str(raised.value)
